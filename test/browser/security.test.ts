/**
 * The dashboard's security seams, in real Chromium against the real edge (wrangler dev):
 * the session cookie's flags, the CSP and framing headers, the Origin (CSRF) check on admin actions
 * carrying the victim's cookie, sign-in refusals, where the admin token may (not) end up, and
 * sign-out ending the session on the server.
 */
import { createServer } from "node:http";
import type { Page, Request, Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cookiesOf,
  cspViolations,
  ensureDashboardBuilt,
  openDashboard,
  pageErrors,
  SIGN_IN,
  SIGNED_IN_VIEW,
  signIn,
  useBrowser,
  watchPage,
} from "../support/browser.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { listenOnLoopback, type LoopbackListener } from "../support/loopback-listen.js";

// The contract's policy, verbatim.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const COOKIE = "bo_session";
const TWELVE_HOURS_S = 12 * 3600;

let edge: RunningEdge;
/** Serves the "other origin": attacker pages at 127.0.0.1:<port> (same site, other origin) and localhost:<port> (other site). */
let attacker: LoopbackListener;

const ATTACK_PAGE = (target: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>elsewhere</title></head>
<body><main><h1>Another origin</h1>
<form id="csrf" method="POST" action="${target}/v1/enrollment-tokens" enctype="text/plain">
<input type="hidden" name='{"name":"csrf","x":"' value='"}'><button type="submit">win a prize</button></form>
</main></body></html>`;

const FRAME_PAGE = (src: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>framer</title></head>
<body><iframe id="f" title="framed" src="${src}" width="600" height="400"></iframe></body></html>`;

beforeAll(async () => {
  ensureDashboardBuilt();
  edge = await startEdge();
  attacker = await listenOnLoopback(
    createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      res.setHeader("content-type", "text/html; charset=utf-8");
      if (url.pathname === "/attack") res.end(ATTACK_PAGE(edge.url));
      else if (url.pathname === "/frame") res.end(FRAME_PAGE(url.searchParams.get("src") ?? "/plain"));
      else res.end(`<!doctype html><title>plain</title><p id="plain">framable page</p>`);
    }),
  );
});

useBrowser();
afterAll(async () => {
  await attacker?.close();
  await edge?.dispose();
});

/** Fleet's enrollment tokens, read with the bearer token (the CLI's way), to see what an attack created. */
async function tokenCount(): Promise<number> {
  const res = await fetch(`${edge.url}/v1/enrollment-tokens`, { headers: { Authorization: `Bearer ${edge.adminToken}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { tokens: unknown[] }).tokens.length;
}

/** A signed-in dashboard page (through the form), and the session cookie's value. */
async function signedIn(): Promise<{ page: Page; cookie: string }> {
  const page = await openDashboard(edge, { path: "/sign-in" });
  await signIn(page, edge.adminToken);
  const cookie = (await cookiesOf(page.context(), edge)).get(COOKIE);
  expect(cookie, "no session cookie after sign-in").toBeDefined();
  return { page, cookie: cookie!.value };
}

/** Runs a request from `page`'s origin and returns what the network saw (status, body, the request's real headers). */
async function observe(page: Page, matcher: (r: Response) => boolean, act: () => Promise<unknown>): Promise<{ status: number; body: string; request: Request; headers: Record<string, string> }> {
  const seen = page.waitForResponse(matcher, { timeout: 15_000 });
  await act();
  const response = await seen;
  const body = await response.text().catch(() => "");
  return { status: response.status(), body, request: response.request(), headers: await response.request().allHeaders() };
}

/**
 * What the wire carried for the first POST to `url` that `act` makes, seen through CDP: the request's
 * real headers (cookie included) and the response status. The browser may then withhold the answer
 * from the page (the API's Cross-Origin-Resource-Policy: same-origin; Playwright reports no response
 * then), but the status line and headers arrived and CDP reports them.
 */
async function observeWire(page: Page, url: string, act: () => Promise<unknown>): Promise<{ status: number; headers: Record<string, string> }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  let id: string | undefined;
  let headers: Record<string, string> | undefined;
  let status: number | undefined;
  const early = new Map<string, { headers?: Record<string, string>; status?: number }>();
  const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
  cdp.on("Network.requestWillBeSent", (e) => {
    if (id === undefined && e.request.url === url && e.request.method === "POST") {
      id = e.requestId;
      headers ??= early.get(id)?.headers;
      status ??= early.get(id)?.status;
    }
  });
  cdp.on("Network.requestWillBeSentExtraInfo", (e) => {
    if (e.requestId === id) headers = lower(e.headers as Record<string, string>);
    else early.set(e.requestId, { ...early.get(e.requestId), headers: lower(e.headers as Record<string, string>) });
  });
  cdp.on("Network.responseReceivedExtraInfo", (e) => {
    if (e.requestId === id) status = e.statusCode;
    else early.set(e.requestId, { ...early.get(e.requestId), status: e.statusCode });
  });
  try {
    await act();
    const deadline = Date.now() + 15_000;
    while ((status === undefined || headers === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (status === undefined || headers === undefined) throw new Error(`no POST ${url} seen on the wire`);
    return { status, headers };
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

const isAdminPost = (r: Response): boolean => r.url() === `${edge.url}/v1/enrollment-tokens` && r.request().method() === "POST";

describe("dashboard security headers", () => {
  it("serves / and its JS with the contract's CSP (no unsafe-*), no framing, no referrer, nosniff", async () => {
    const index = await fetch(`${edge.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await index.text();
    const script = /<script[^>]*\ssrc="(\/assets\/app-[^"]+\.js)"/.exec(html)?.[1];
    expect(script, `index.html links no /assets/app-<hash>.js:\n${html.slice(0, 800)}`).toBeDefined();
    // No inline script or style for the policy to have to allow.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style[\s>]/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);

    const asset = await fetch(`${edge.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(index.headers.get("cache-control")).toBe("no-cache");

    // A client route is the same document with the same headers (single-page application).
    const route = await fetch(`${edge.url}/agents`);
    expect(route.status).toBe(200);
    for (const res of [index, asset, route]) {
      const csp = res.headers.get("content-security-policy");
      expect(csp).toBe(CSP);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("cannot be framed by another origin (frame-ancestors 'none'), while a framable page can", async () => {
    const page = await openDashboard(attacker.url, { path: null });
    // Control: the same framer shows a page that allows framing, so "blocked" below means something.
    await page.goto(`${attacker.url}/frame?src=${encodeURIComponent(`${attacker.url}/plain`)}`);
    await expect.poll(async () => (await page.frameLocator("#f").locator("#plain").count()), { timeout: 10_000 }).toBe(1);

    await page.goto(`${attacker.url}/frame?src=${encodeURIComponent(`${edge.url}/`)}`);
    await expect
      .poll(() => cspViolations(page).some((v) => /frame-ancestors/.test(v.text)), { timeout: 10_000 })
      .toBe(true);
    const framed = page.frames().find((f) => f !== page.mainFrame());
    expect(framed).toBeDefined();
    expect(await framed!.locator("[data-view]").count()).toBe(0);
    expect(await framed!.locator("script[src^='/assets/']").count()).toBe(0);
    await page.context().close();
  });
});

describe("sign-in and the session cookie", () => {
  it("a wrong token cannot sign in: 401 signin_failed, no cookie, still on the sign-in page", async () => {
    const page = await openDashboard(edge, { path: "/sign-in" });
    const seen = await observe(
      page,
      (r) => r.url() === `${edge.url}/v1/session` && r.request().method() === "POST",
      () => signIn(page, `${edge.adminToken}x`, { waitForView: false }),
    );
    expect(seen.status).toBe(401);
    expect(JSON.parse(seen.body)).toMatchObject({ error: { code: "signin_failed" } });
    expect((await cookiesOf(page.context(), edge)).has(COOKIE)).toBe(false);
    await expect.poll(() => page.locator(SIGN_IN.root).count()).toBe(1);
    const status = await page.evaluate<number>(`fetch("/v1/session").then((r) => r.status)`);
    expect(status).toBe(401);
    await page.context().close();
  });

  it("sets bo_session HttpOnly, SameSite=Strict, Path=/, not Secure on loopback, for 12 h", async () => {
    const before = Date.now() / 1000;
    const { page, cookie } = await signedIn();
    const c = (await cookiesOf(page.context(), edge)).get(COOKIE)!;
    expect(c.httpOnly).toBe(true);
    expect(c.sameSite).toBe("Strict");
    expect(c.path).toBe("/");
    expect(c.secure).toBe(false); // loopback http is local dev; elsewhere the edge adds Secure
    expect(c.domain).toBe("127.0.0.1"); // host-only: no Domain attribute
    expect(c.expires).toBeGreaterThan(before + TWELVE_HOURS_S - 120);
    expect(c.expires).toBeLessThan(Date.now() / 1000 + TWELVE_HOURS_S + 120);
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
    // HttpOnly: the page's script cannot read it.
    expect(await page.evaluate<string>("document.cookie")).not.toContain(COOKIE);
    // The session works from the dashboard's own origin.
    expect(await page.evaluate<number>(`fetch("/v1/session").then((r) => r.status)`)).toBe(200);
    expect(pageErrors(page)).toEqual([]);
    await page.context().close();
  });

  it("the raw Set-Cookie carries the contract's attributes", async () => {
    const res = await fetch(`${edge.url}/v1/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: edge.url },
      body: JSON.stringify({ token: edge.adminToken }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { expiresAt: string };
    expect(body.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const set = res.headers.get("set-cookie") ?? "";
    const attrs = set.split(";").map((s) => s.trim().toLowerCase());
    expect(attrs[0]).toMatch(/^bo_session=[a-z0-9_-]{43}$/);
    expect(attrs).toEqual(expect.arrayContaining(["httponly", "samesite=strict", "path=/", `max-age=${TWELVE_HOURS_S}`]));
    expect(attrs).not.toContain("secure");
  });

  it("a sign-in posted from another origin is refused (login CSRF)", async () => {
    const res = await fetch(`${edge.url}/v1/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: attacker.url },
      body: JSON.stringify({ token: edge.adminToken }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("origin_refused");
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("the admin token never sits in a URL, web storage, a cookie or the page after sign-in", async () => {
    const page = await openDashboard(edge, { path: null });
    const urls: string[] = [];
    page.context().on("request", (r) => urls.push(r.url()));
    await page.goto(`${edge.url}/sign-in`);
    await signIn(page, edge.adminToken);
    // Walk a few views so the app has had its chance to stash it somewhere.
    for (const path of ["/agents", "/tokens", "/"]) {
      await page.goto(`${edge.url}${path}`);
      await page.locator(SIGNED_IN_VIEW).first().waitFor({ state: "attached", timeout: 15_000 });
    }
    const token = edge.adminToken;
    expect(page.url()).not.toContain(token);
    expect(urls.length).toBeGreaterThan(3);
    expect(urls.filter((u) => u.includes(token) || u.includes(encodeURIComponent(token)))).toEqual([]);
    const storage = await page.evaluate<string>(`JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])`);
    expect(storage).not.toContain(token);
    const cookies = await page.context().cookies();
    expect(cookies.filter((c) => c.value.includes(token) || c.name.includes(token))).toEqual([]);
    expect(await page.content()).not.toContain(token);
    expect(await page.evaluate<number>("history.length")).toBeGreaterThan(0);
    expect(cspViolations(page)).toEqual([]);
    await page.context().close();
  });

  it("sign-out ends the session on the server: the old cookie replayed answers 401 session_required", async () => {
    const { page, cookie } = await signedIn();
    const replay = (path: string, init: RequestInit = {}) =>
      fetch(`${edge.url}${path}`, { ...init, headers: { cookie: `${COOKIE}=${cookie}`, origin: edge.url, ...(init.headers as Record<string, string> | undefined) } });
    expect((await replay("/v1/session")).status).toBe(200); // the replay works while signed in

    await page.getByRole("button", { name: /sign out/i }).click();
    await page.locator(SIGN_IN.root).waitFor({ state: "attached", timeout: 15_000 });
    expect((await cookiesOf(page.context(), edge)).has(COOKIE)).toBe(false);

    const after = await replay("/v1/session");
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { code: string } }).error.code).toBe("session_required");
    const action = await replay("/v1/enrollment-tokens", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(action.status).toBe(401);
    expect(((await action.json()) as { error: { code: string } }).error.code).toBe("session_required");
    // A made-up cookie is no better.
    const forged = await fetch(`${edge.url}/v1/enrollment-tokens`, { headers: { cookie: `${COOKIE}=${"A".repeat(43)}` } });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe("session_required");
    await page.context().close();
  });
});

describe("Origin check (CSRF) on admin actions", () => {
  it("the same action from the dashboard's own origin succeeds (the control)", async () => {
    const { page } = await signedIn();
    const before = await tokenCount();
    const status = await page.evaluate<number>(
      `fetch("/v1/enrollment-tokens", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "own origin" }) }).then((r) => r.status)`,
    );
    expect(status).toBe(201);
    expect(await tokenCount()).toBe(before + 1);
    await page.context().close();
  });

  it("a same-site page on another port, carrying the victim's cookie, is refused 403 origin_refused (fetch and form)", async () => {
    const { page: victim } = await signedIn();
    const before = await tokenCount();
    // The victim's browser (same context, so the same cookie jar) visits the other origin.
    const page = await victim.context().newPage();
    await watchPage(page);
    await page.goto(`${attacker.url}/attack`);
    expect(new URL(page.url()).origin).not.toBe(edge.url);

    // fetch with credentials: a "simple" request (no preflight), so it really reaches the edge.
    const viaFetch = await observeWire(page, `${edge.url}/v1/enrollment-tokens`, () =>
      page.evaluate(`fetch(${JSON.stringify(`${edge.url}/v1/enrollment-tokens`)}, { method: "POST", credentials: "include", mode: "no-cors", headers: { "content-type": "text/plain" }, body: '{"name":"csrf"}' }).catch(() => null)`),
    );
    // 127.0.0.1:<a> and 127.0.0.1:<b> are the same site: SameSite=Strict lets the cookie through…
    expect(viaFetch.headers["cookie"] ?? "").toContain(`${COOKIE}=`);
    expect(viaFetch.headers["origin"]).toBe(attacker.url);
    // …so the Origin check is what refuses it (the body's code is read from the form POST below).
    expect(viaFetch.status).toBe(403);

    // A plain HTML form POST (a top-level navigation) is refused the same way, and we can read it.
    const viaForm = await observe(page, isAdminPost, () => page.locator("#csrf button").click());
    expect(viaForm.headers["cookie"] ?? "").toContain(`${COOKIE}=`);
    expect(viaForm.status).toBe(403);
    expect(JSON.parse(viaForm.body)).toMatchObject({ error: { code: "origin_refused" } });

    expect(await tokenCount()).toBe(before); // nothing was created
    await victim.context().close();
  });

  it("from another site (localhost vs 127.0.0.1) the cookie is not even sent, and the answer is still 403 origin_refused", async () => {
    const { page: victim } = await signedIn();
    const before = await tokenCount();
    const page = await victim.context().newPage();
    await watchPage(page);
    await page.goto(`http://localhost:${attacker.port}/attack`);
    const viaFetch = await observeWire(page, `${edge.url}/v1/enrollment-tokens`, () =>
      page.evaluate(`fetch(${JSON.stringify(`${edge.url}/v1/enrollment-tokens`)}, { method: "POST", credentials: "include", mode: "no-cors", headers: { "content-type": "text/plain" }, body: "{}" }).catch(() => null)`),
    );
    expect(viaFetch.headers["cookie"] ?? "").not.toContain(`${COOKIE}=`); // SameSite=Strict, cross-site
    expect(viaFetch.status).toBe(403);
    // The form POST from the other site: no cookie either, refused by the Origin check all the same.
    const viaForm = await observe(page, isAdminPost, () => page.locator("#csrf button").click());
    expect(viaForm.headers["cookie"] ?? "").not.toContain(`${COOKIE}=`);
    expect(viaForm.status).toBe(403);
    expect(JSON.parse(viaForm.body)).toMatchObject({ error: { code: "origin_refused" } });
    expect(await tokenCount()).toBe(before);
    await victim.context().close();
  });

  it("with the session cookie, a state-changing request without Origin is refused", async () => {
    const { page, cookie } = await signedIn();
    await page.context().close();
    const res = await fetch(`${edge.url}/v1/enrollment-tokens`, {
      method: "POST",
      headers: { cookie: `${COOKIE}=${cookie}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("origin_refused");
  });
});
