/**
 * Headless Debian Chromium driven by playwright-core, for the dashboard's browser tests and bench.
 * No browser is downloaded: playwright-core has no install step and we always pass `executablePath`
 * (CHROMIUM_PATH, default /usr/bin/chromium, which `.ci/run` installs with apt-get).
 *
 * One shared browser per test file (launched lazily, closed by `closeBrowsers()` in afterAll, or use
 * `useBrowser()`); every `openDashboard` gets its own context, so cookies and storage never leak
 * between tests. Playwright also kills the browser if the Node process exits first.
 *
 * @example
 * ```ts
 * useBrowser();
 * const page = await openDashboard(edge, { viewport: "phone", path: "/sign-in" });
 * await signIn(page, edge.adminToken);
 * expect(await runAxe(page)).toEqual([]);
 * expect(cspViolations(page)).toEqual([]);
 * await screenshot(page, "overview-phone");
 * ```
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from "playwright-core";
import { afterAll } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SCREENSHOT_DIR = join(ROOT, "test-results", "screenshots");
const AXE_PATH = join(ROOT, "node_modules", "axe-core", "axe.min.js");
export const DASHBOARD_DIST = join(ROOT, "dist", "dashboard");

/**
 * The edge serves dist/dashboard as static assets: `npm test` builds it first (`npm run build`); a
 * focused run of one browser test file builds it here when it is missing. Idempotent.
 */
export function ensureDashboardBuilt(): void {
  if (existsSync(join(DASHBOARD_DIST, "index.html"))) return;
  const script = join(ROOT, "scripts", "build-dashboard.ts");
  if (!existsSync(script)) throw new Error("no dashboard to serve: scripts/build-dashboard.ts is missing (dashboard not merged yet?)");
  const run = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  if (run.status !== 0 || !existsSync(join(DASHBOARD_DIST, "index.html"))) {
    throw new Error(`building the dashboard failed (${run.status ?? run.signal}):\n${run.stdout}\n${run.stderr}`);
  }
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** The flags the machine note lists: no GPU, no QUIC, and no background traffic to a closed network. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox", // we run as root in CI; Chromium refuses its sandbox then
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export interface Viewport {
  readonly width: number;
  readonly height: number;
}

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const satisfies Record<string, Viewport>;

export type ViewportName = keyof typeof VIEWPORTS;

const browsers = new Set<Browser>();
let shared: Promise<Browser> | undefined;

/** A new headless Chromium (its own temporary profile, removed when it closes). Close it, or call closeBrowsers(). */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    // A hung browser must not hold the test run: launching is fast or broken.
    timeout: 60_000,
  });
  browsers.add(browser);
  browser.on("disconnected", () => browsers.delete(browser));
  return browser;
}

/** The file's shared browser (launched on first use). */
export function sharedBrowser(): Promise<Browser> {
  shared ??= launchBrowser();
  return shared;
}

/** Closes every browser this module launched. Idempotent; call in afterAll. */
export async function closeBrowsers(): Promise<void> {
  shared = undefined;
  await Promise.all([...browsers].map((b) => b.close().catch(() => undefined)));
  browsers.clear();
}

/** Registers closeBrowsers() in afterAll for the calling test file. */
export function useBrowser(): void {
  afterAll(closeBrowsers);
}

export interface OpenOptions {
  /** "desktop" (default), "phone", or an explicit size. */
  readonly viewport?: ViewportName | Viewport;
  /** Path to open on the edge (default "/"); `null` opens nothing (blank page). */
  readonly path?: string | null;
  /** Browser to use (default: the shared one). */
  readonly browser?: Browser;
  /** prefers-color-scheme (default "light"). */
  readonly colorScheme?: "light" | "dark";
}

/** Where the dashboard is: a RunningEdge (or anything with `url`) or a base URL. */
export type EdgeLike = { readonly url: string } | string;

function baseUrl(edge: EdgeLike): string {
  return typeof edge === "string" ? edge.replace(/\/$/, "") : edge.url;
}

/**
 * A new browser context (fresh cookies and storage) and page on the edge, with the CSP watcher
 * attached before the first byte loads. Close with `page.context().close()` (or let closeBrowsers do it).
 */
export async function openDashboard(edge: EdgeLike, options: OpenOptions = {}): Promise<Page> {
  const browser = options.browser ?? (await sharedBrowser());
  const viewport = typeof options.viewport === "object" ? options.viewport : VIEWPORTS[options.viewport ?? "desktop"];
  const context = await browser.newContext({
    baseURL: baseUrl(edge),
    viewport: { width: viewport.width, height: viewport.height },
    colorScheme: options.colorScheme ?? "light",
    // Never weaken the page's own policy: the CSP under test is the one the edge sends.
    bypassCSP: false,
  });
  const page = await context.newPage();
  await watchPage(page);
  const path = options.path === undefined ? "/" : options.path;
  if (path !== null) await page.goto(`${baseUrl(edge)}${path}`, { waitUntil: "load" });
  return page;
}

// ---------------------------------------------------------------------------------------------
// CSP violations and page errors

export interface CspViolation {
  /** "console" (Chromium's console error) or "event" (a securitypolicyviolation event). */
  readonly source: "console" | "event";
  readonly text: string;
  readonly directive?: string;
  readonly blockedURI?: string;
}

interface Watch {
  readonly csp: CspViolation[];
  readonly errors: string[];
  readonly console: string[];
}

const watches = new WeakMap<Page, Watch>();
const BINDING = "__boReportCspViolation";

/**
 * Starts collecting CSP violations and uncaught page errors for `page` (openDashboard does this; call it
 * yourself for pages made otherwise, before navigating). The event listener is an init script and the
 * report channel a CDP binding: neither is subject to the page's CSP, and neither is part of the app.
 */
export async function watchPage(page: Page): Promise<void> {
  if (watches.has(page)) return;
  const watch: Watch = { csp: [], errors: [], console: [] };
  watches.set(page, watch);
  page.on("console", (msg: ConsoleMessage) => {
    const text = msg.text();
    if (msg.type() === "error" || msg.type() === "warning") watch.console.push(text);
    if (/Content Security Policy/i.test(text)) watch.csp.push({ source: "console", text });
  });
  page.on("pageerror", (err) => watch.errors.push(err.message));
  await page.exposeBinding(BINDING, (_source, json: string) => {
    try {
      const v = JSON.parse(json) as { directive?: string; blockedURI?: string; sample?: string };
      watch.csp.push({ source: "event", text: `${v.directive ?? "?"} blocked ${v.blockedURI ?? "?"} ${v.sample ?? ""}`.trim(), directive: v.directive, blockedURI: v.blockedURI });
    } catch {
      watch.csp.push({ source: "event", text: String(json) });
    }
  });
  await page.addInitScript(`(() => {
    const report = globalThis[${JSON.stringify(BINDING)}];
    if (typeof report !== "function") return;
    document.addEventListener("securitypolicyviolation", (e) => {
      report(JSON.stringify({ directive: e.effectiveDirective || e.violatedDirective, blockedURI: e.blockedURI, sample: e.sample }));
    });
  })()`);
}

/** CSP violations seen on `page` so far (console errors and securitypolicyviolation events). */
export function cspViolations(page: Page): readonly CspViolation[] {
  return watches.get(page)?.csp ?? [];
}

/** Uncaught exceptions thrown in `page` so far. */
export function pageErrors(page: Page): readonly string[] {
  return watches.get(page)?.errors ?? [];
}

/** Console errors and warnings logged by `page` so far. */
export function consoleProblems(page: Page): readonly string[] {
  return watches.get(page)?.console ?? [];
}

// ---------------------------------------------------------------------------------------------
// Sign-in through the UI (the contract's selectors)

export const SIGN_IN = {
  root: '[data-view="sign-in"]',
  // The form's one password field (whatever its name: the client calls it "admin-token").
  token: '[data-view="sign-in"] input[type="password"]',
  submit: '[data-view="sign-in"] button[type="submit"]',
} as const;

/** A view of a signed-in operator: not the sign-in page, nor the boot-error or not-found pages. */
export const SIGNED_IN_VIEW = '[data-view]:not([data-view="sign-in"]):not([data-view="error"]):not([data-view="not-found"])';

export interface SignInOptions {
  /** Wait until a view other than sign-in shows (default true). False: return right after submitting. */
  readonly waitForView?: boolean;
  readonly timeoutMs?: number;
}

export interface SignInResult {
  /** Epoch ms (page's performance.timeOrigin + now()) just before the form was submitted. */
  readonly submittedAt: number;
}

/**
 * Signs in through the sign-in form: opens /sign-in if the page is not showing it, types the token
 * into the password field and clicks submit, as an operator would.
 */
export async function signIn(page: Page, token: string, options: SignInOptions = {}): Promise<SignInResult> {
  const timeout = options.timeoutMs ?? 30_000;
  // On a dashboard page, let the app decide what it shows first (it boots with no view while it asks
  // for the session): opening /sign-in over it would lose the page it means to return to.
  if (page.url().startsWith("http")) {
    await page.locator("[data-view]").first().waitFor({ state: "attached", timeout }).catch(() => undefined);
  }
  if ((await page.locator(SIGN_IN.root).count()) === 0) {
    await page.goto("/sign-in", { waitUntil: "load" });
  }
  await page.locator(SIGN_IN.token).waitFor({ state: "visible", timeout });
  await page.locator(SIGN_IN.token).fill(token);
  await page.locator(SIGN_IN.submit).waitFor({ state: "visible", timeout });
  const submittedAt = await page.evaluate<number>("performance.timeOrigin + performance.now()");
  await page.locator(SIGN_IN.submit).click();
  if (options.waitForView !== false) await page.locator(SIGNED_IN_VIEW).first().waitFor({ state: "attached", timeout });
  return { submittedAt };
}

// ---------------------------------------------------------------------------------------------
// Screenshots

/** Saves a PNG of the whole page to test-results/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new Error(`screenshot name must be a plain file name: ${name}`);
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? true, animations: "disabled" });
  return path;
}

// ---------------------------------------------------------------------------------------------
// axe-core

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly helpUrl: string;
  /** CSS targets and a snippet of each failing node. */
  readonly nodes: readonly { readonly target: string; readonly html: string; readonly summary: string }[];
}

let axeSource: Promise<string> | undefined;

export interface AxeOptions {
  /** Impacts to report (default: serious and critical). */
  readonly impacts?: readonly string[];
  /** CSS selectors to leave out of the scan. */
  readonly exclude?: readonly string[];
}

/**
 * Injects axe-core into `page` and returns the violations of the chosen impacts (default serious and
 * critical). The source goes in through page.evaluate, i.e. CDP Runtime.evaluate, which the page's
 * Content-Security-Policy does not govern (script-src 'self' still blocks the app's own inline
 * scripts; the harness self-test checks both), so the policy under test is never weakened.
 */
export async function runAxe(page: Page, options: AxeOptions = {}): Promise<AxeViolation[]> {
  axeSource ??= readFile(AXE_PATH, "utf8");
  const source = await axeSource;
  const loaded = await page.evaluate<boolean>(`typeof globalThis.axe === "object"`);
  if (!loaded) await page.evaluate(`${source}\n;void 0`);
  const impacts = options.impacts ?? ["serious", "critical"];
  const context = options.exclude && options.exclude.length > 0 ? JSON.stringify({ exclude: options.exclude.map((s) => [s]) }) : "document";
  const json = await page.evaluate<string>(`(async () => {
    const result = await globalThis.axe.run(${context}, { resultTypes: ["violations"] });
    return JSON.stringify(result.violations.map((v) => ({
      id: v.id, impact: v.impact ?? null, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 300), summary: (n.failureSummary ?? "").slice(0, 500) })),
    })));
  })()`);
  const all = JSON.parse(json) as AxeViolation[];
  return all.filter((v) => v.impact !== null && impacts.includes(v.impact));
}

/** One line per violation, for assertion messages. */
export function describeAxe(violations: readonly AxeViolation[]): string {
  return violations.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => `${n.target} (${n.summary.replace(/\s+/g, " ")})`).join("; ")}`).join("\n");
}

// ---------------------------------------------------------------------------------------------
// Small page helpers (the tests' tsconfig has no DOM lib: expressions are strings)

/** The Performance API's first mark named `name`, as epoch ms (timeOrigin + startTime), or null. */
export async function markTime(page: Page, name: string): Promise<number | null> {
  return page.evaluate<number | null>(`(() => {
    const m = performance.getEntriesByName(${JSON.stringify(name)}, "mark")[0];
    return m === undefined ? null : performance.timeOrigin + m.startTime;
  })()`);
}

/** Cookies of the page's context for the edge, by name. */
export async function cookiesOf(context: BrowserContext, edge: EdgeLike): Promise<Map<string, Awaited<ReturnType<BrowserContext["cookies"]>>[number]>> {
  const cookies = await context.cookies(baseUrl(edge));
  return new Map(cookies.map((c) => [c.name, c]));
}
