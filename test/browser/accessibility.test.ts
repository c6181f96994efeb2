/**
 * Every dashboard view, at desktop and phone size (and desktop in the dark scheme), against a real
 * edge with real content: two real agent processes streaming, one quarantined on the wire (a forged
 * Lamport clock through the tamper proxy), one pending approval, an enrollment token, a webhook
 * endpoint to a local receiver with a delivered test event, and global-log entries.
 * Each view: axe-core reports no serious or critical violation, the CSP is never violated, nothing
 * throws, and a screenshot is saved as test-results/screenshots/<view>-<desktop|phone>[-dark].png.
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, issueToken } from "../edge/fleet-client.js";
import { FAST_SEALING, removeTempDirs, startAgentProcess, tempDir, waitFor, type AgentProcess } from "../e2e/support/agentProcess.js";
import {
  cspViolations,
  describeAxe,
  ensureDashboardBuilt,
  openDashboard,
  pageErrors,
  runAxe,
  screenshot,
  signIn,
  useBrowser,
  VIEWPORTS,
  type ViewportName,
} from "../support/browser.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { startTamperProxy, type TamperProxy } from "../support/tamper-proxy.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";

let edge: RunningEdge;
let receiver: Receiver;
let proxy: TamperProxy;
const agents: AgentProcess[] = [];
let agentId = "";

interface View {
  /** Screenshot name. */
  readonly name: string;
  /** data-view of the root. */
  readonly view: string;
  readonly path: () => string;
  /** What must be on screen before we judge it (the view's data arrived). */
  readonly ready?: string;
}

const VIEWS: readonly View[] = [
  { name: "overview", view: "overview", path: () => "/", ready: 'canvas[data-testid="phase-circle"][data-drawn]:not([data-drawn="0"])' },
  { name: "agents", view: "agents", path: () => "/agents", ready: "tr[data-agent-id]" },
  { name: "agent", view: "agent", path: () => `/agents/${agentId}` },
  { name: "log", view: "log", path: () => "/log" },
  { name: "log-entry", view: "log", path: () => "/log/0" },
  { name: "tokens", view: "tokens", path: () => "/tokens" },
  { name: "webhooks", view: "webhooks", path: () => "/webhooks" },
  { name: "config", view: "config", path: () => "/config" },
];

beforeAll(async () => {
  ensureDashboardBuilt();
  edge = await startEdge({ vars: { WEBHOOKS_ALLOW_LOOPBACK: "1" } });
  receiver = await startReceiver();
  proxy = await startTamperProxy(edge.port);

  // Two honest agents, streaming.
  for (const name of ["kitchen", "bench"]) {
    const { token } = await issueToken(edge, { name: `a11y ${name}` });
    const agent = startAgentProcess({ dataDir: join(tempDir("a11y-agent-"), name), edgeUrl: edge.url, token, config: FAST_SEALING });
    agents.push(agent);
  }
  agentId = (await agents[0]!.ready).agentId;
  await agents[1]!.ready;

  // One quarantined: its summary's clock forged on the wire (it stays quarantined until it reconnects).
  const { token: qToken } = await issueToken(edge, { name: "a11y quarantine" });
  const quarantined = startAgentProcess({ dataDir: join(tempDir("a11y-agent-"), "garage"), edgeUrl: proxy.url, token: qToken, config: FAST_SEALING });
  agents.push(quarantined);
  const { agentId: qId } = await quarantined.ready;
  await proxy.tamperNext((m) => (m.type === "summary" ? { ...m, lamport: Number(m.lamport) + 1_000_000 } : null));

  // One pending approval (a token that requires it), and a token left unused for the tokens view.
  const { token: pToken } = await issueToken(edge, { name: "needs approval", requireApproval: true });
  const pending = startAgentProcess({ dataDir: join(tempDir("a11y-agent-"), "attic"), edgeUrl: edge.url, token: pToken, config: FAST_SEALING });
  agents.push(pending);
  await issueToken(edge, { name: "spare", maxUses: 5 });

  // A webhook endpoint with one delivered test event.
  const created = await call(edge, "POST", "/v1/webhooks/endpoints", { body: { url: `${receiver.url}/hook`, description: "a11y receiver" } });
  expect(created.status).toBe(201);
  receiver.secrets = [created.body.secret as string];
  expect((await call(edge, "POST", `/v1/webhooks/endpoints/${created.body.endpoint.id as string}/test`)).status).toBe(202);
  await receiver.waitFor(1, 30_000);

  // Entries in the global log, and the agents seen with their state.
  await waitFor("log entries under a checkpoint", async () => {
    const res = await call(edge, "GET", "/v1/log/checkpoint", { token: null });
    const size = res.status === 200 ? Number(String(res.body).split("\n")[1]) : 0;
    return size >= 4 ? size : undefined;
  }, 60_000);
  await waitFor("the quarantine and the pending agent", async () => {
    const res = await call(edge, "GET", "/v1/agents");
    const list = (res.body.agents ?? []) as { id: string; status: string; quarantine?: unknown }[];
    const q = list.find((a) => a.id === qId);
    return q?.quarantine && list.some((a) => a.status === "pending") ? true : undefined;
  }, 30_000);
}, 300_000);

useBrowser();
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill9()));
  await proxy?.close();
  await receiver?.close();
  await edge?.dispose();
  removeTempDirs();
});

async function judge(page: Page, view: View, shot: string): Promise<void> {
  await page.goto(`${edge.url}${view.path()}`, { waitUntil: "load" });
  await page.locator(`[data-view="${view.view}"]`).first().waitFor({ state: "attached", timeout: 20_000 });
  if (view.ready !== undefined) await page.locator(view.ready).first().waitFor({ state: "attached", timeout: 20_000 });
  // Let the live snapshot and the view's fetches land before judging and picturing it.
  await page.waitForLoadState("networkidle", { timeout: 5_000 }).catch(() => undefined);
  await page.waitForTimeout(750);
  await screenshot(page, shot);
  const violations = await runAxe(page);
  expect(violations, `${shot}:\n${describeAxe(violations)}`).toEqual([]);
  expect(cspViolations(page), shot).toEqual([]);
  expect(pageErrors(page), shot).toEqual([]);
}

const PASSES: readonly { readonly viewport: ViewportName; readonly scheme: "light" | "dark"; readonly suffix: string }[] = [
  { viewport: "desktop", scheme: "light", suffix: "desktop" },
  { viewport: "phone", scheme: "light", suffix: "phone" },
  { viewport: "desktop", scheme: "dark", suffix: "desktop-dark" },
];

describe.each(PASSES)("every view at $suffix ($viewport, $scheme)", ({ viewport, scheme, suffix }) => {
  let page: Page;

  it("sign-in", async () => {
    const signInPage = await openDashboard(edge, { viewport, colorScheme: scheme, path: "/sign-in" });
    expect(signInPage.viewportSize()).toEqual(VIEWPORTS[viewport]);
    await judge(signInPage, { name: "sign-in", view: "sign-in", path: () => "/sign-in" }, `sign-in-${suffix}`);
    await signInPage.context().close();
  });

  it.each(VIEWS)("$name", async (view) => {
    if (page === undefined) {
      page = await openDashboard(edge, { viewport, colorScheme: scheme, path: "/sign-in" });
      await signIn(page, edge.adminToken);
    }
    await judge(page, view, `${view.name}-${suffix}`);
  });

  afterAll(async () => {
    await page?.context().close();
  });
});
