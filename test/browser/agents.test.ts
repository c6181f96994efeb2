/**
 * The agents views in real Chromium against a real edge with real agent processes: rows appear live
 * and their θ moves (data-theta), a quarantine shows its reason (a Lamport clock forged on the wire
 * by the tamper proxy, as test/e2e/webhooks.test.ts does), a killed agent goes offline, an agent
 * revoked in the UI leaves the live set, and a record's inclusion proof verifies in the browser.
 * No CSP violation, no page error. Screenshots of the list and the detail at desktop and phone size.
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, issueToken } from "../edge/fleet-client.js";
import { FAST_SEALING, removeTempDirs, startAgentProcess, tempDir, type AgentProcess } from "../e2e/support/agentProcess.js";
import { cspViolations, ensureDashboardBuilt, openDashboard, pageErrors, screenshot, SIGN_IN, signIn, useBrowser } from "../support/browser.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { startTamperProxy, type TamperProxy } from "../support/tamper-proxy.js";

let edge: RunningEdge;
let proxy: TamperProxy;
const processes: AgentProcess[] = [];
const ids: Record<"steady" | "quarantined" | "killed" | "revoked", string> = { steady: "", quarantined: "", killed: "", revoked: "" };
let killed: AgentProcess;

useBrowser();

beforeAll(async () => {
  ensureDashboardBuilt();
  edge = await startEdge();
  proxy = await startTamperProxy(edge.port);
  // Offline 2 s after the last socket and message, so the kill shows quickly.
  expect((await call(edge, "PATCH", "/v1/fleet/config", { body: { offlineAfterMs: 2000 } })).status).toBe(200);
  for (const role of ["steady", "quarantined", "killed", "revoked"] as const) {
    const { token } = await issueToken(edge, { name: role });
    // Only the agent to be quarantined talks through the tamper proxy.
    const edgeUrl = role === "quarantined" ? proxy.url : edge.url;
    const agent = startAgentProcess({ dataDir: join(tempDir("agents-view-"), role), edgeUrl, token, config: FAST_SEALING });
    processes.push(agent);
    if (role === "killed") killed = agent;
  }
  const roles = ["steady", "quarantined", "killed", "revoked"] as const;
  const ready = await Promise.all(processes.map((p) => p.ready));
  ready.forEach((r, k) => (ids[roles[k]!] = r.agentId));
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await proxy?.close();
  await edge?.dispose();
  removeTempDirs();
});

const row = (page: Page, id: string) => page.locator(`tr[data-agent-id="${id}"]`);

async function signedIn(path: string, viewport: "desktop" | "phone" = "desktop"): Promise<Page> {
  const page = await openDashboard(edge, { path, viewport });
  // The page asks for its session first; sign in on the page it shows then, so it returns to `path`.
  await page.locator(SIGN_IN.root).waitFor();
  await signIn(page, edge.adminToken);
  await page.locator('[data-view]:not([data-view="sign-in"])').first().waitFor();
  expect(new URL(page.url()).pathname).toBe(path);
  return page;
}

function clean(page: Page): void {
  expect(cspViolations(page)).toEqual([]);
  expect(pageErrors(page)).toEqual([]);
}

describe("agents view", () => {
  it("lists the real agents live, and their θ moves", async () => {
    const page = await signedIn("/agents");
    await page.locator('[data-view="agents"]').waitFor();
    for (const id of Object.values(ids)) await row(page, id).waitFor({ timeout: 30_000 });
    await expect.poll(() => row(page, ids.steady).getAttribute("data-status"), { timeout: 20_000 }).toBe("online");
    await expect.poll(() => row(page, ids.steady).getAttribute("data-theta"), { timeout: 20_000 }).toMatch(/^\d+\.\d{3}$/);
    const first = await row(page, ids.steady).getAttribute("data-theta");
    await expect.poll(() => row(page, ids.steady).getAttribute("data-theta"), { timeout: 10_000 }).not.toBe(first);
    // Search narrows to one row; the status filter to the online ones.
    await page.getByLabel("Search").fill(ids.steady.slice(0, 20));
    await expect.poll(() => page.locator("tr[data-agent-id]").count()).toBe(1);
    await page.getByLabel("Search").fill("");
    clean(page);
    await page.context().close();
  });

  it("shows a quarantine with its reason, and a killed agent as offline", async () => {
    const page = await signedIn("/agents");
    await row(page, ids.quarantined).waitFor({ timeout: 30_000 });
    const forged = await proxy.tamperNext((m) => (m.type === "summary" ? { ...m, lamport: Number(m.lamport) + 1_000_000 } : null));
    expect(forged.type).toBe("summary");
    await expect.poll(() => row(page, ids.quarantined).getAttribute("data-status"), { timeout: 20_000 }).toBe("quarantined");
    expect(await row(page, ids.quarantined).locator("td.reason").textContent()).toMatch(/Lamport/);

    await expect.poll(() => row(page, ids.killed).getAttribute("data-status"), { timeout: 20_000 }).toBe("online");
    await killed.kill9();
    await expect.poll(() => row(page, ids.killed).getAttribute("data-status"), { timeout: 30_000 }).toBe("offline");
    await page.getByLabel("Status").selectOption("offline");
    await expect.poll(() => page.locator("tr[data-agent-id]").count()).toBe(1);
    await page.getByLabel("Status").selectOption("all");
    await screenshot(page, "agents-desktop");
    clean(page);
    await page.context().close();

    const phone = await signedIn("/agents", "phone");
    await row(phone, ids.quarantined).waitFor({ timeout: 30_000 });
    await screenshot(phone, "agents-phone");
    clean(phone);
    await phone.context().close();
  });

  it("verifies a record's inclusion proof in the browser on the agent's page", async () => {
    const page = await signedIn(`/agents/${ids.steady}`);
    await page.locator('[data-view="agent"]').waitFor();
    const verify = page.locator("tr[data-record-index] button", { hasText: "Verify" }).last();
    await verify.waitFor({ timeout: 30_000 });
    // A record just appended may not be under a checkpoint yet (they follow within seconds): retry.
    await expect
      .poll(
        async () => {
          await verify.click();
          const result = page.locator('[data-testid="verify-result"]').last();
          await result.waitFor({ timeout: 15_000 });
          return result.getAttribute("data-ok");
        },
        { timeout: 45_000, interval: 2000 },
      )
      .toBe("true");
    // The agent's enrolled key was used too: the record's signature step passed.
    expect(await page.locator('[data-testid="verify-result"] li[data-step="record-signature"]').count()).toBeGreaterThan(0);
    await page.evaluate("window.scrollTo(0, 0)");
    await page.waitForTimeout(1500);
    await screenshot(page, "agent-desktop", { fullPage: false });
    clean(page);
    await page.context().close();

    const phone = await signedIn(`/agents/${ids.steady}`, "phone");
    await phone.locator("tr[data-record-index]").first().waitFor({ timeout: 30_000 });
    await phone.waitForTimeout(1500);
    await screenshot(phone, "agent-phone", { fullPage: false });
    clean(phone);
    await phone.context().close();
  });

  it("revokes an agent from its page (after confirming); it leaves the live set", async () => {
    const page = await signedIn("/agents");
    await row(page, ids.revoked).waitFor({ timeout: 30_000 });
    await row(page, ids.revoked).locator("a").click();
    await page.locator('[data-view="agent"]').waitFor();
    // Dismissing the confirmation does nothing.
    page.once("dialog", (d) => void d.dismiss());
    await page.getByRole("button", { name: "Revoke" }).click();
    expect((await call(edge, "GET", `/v1/agents/${ids.revoked}`)).body.status).toBe("active");
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Revoke" }).click();
    await expect.poll(() => page.locator('[data-testid="agent-status"]').textContent(), { timeout: 15_000 }).toBe("revoked");
    expect((await call(edge, "GET", `/v1/agents/${ids.revoked}`)).body.status).toBe("revoked");
    await page.getByRole("link", { name: "Agents", exact: true }).first().click();
    await page.locator('[data-view="agents"]').waitFor();
    await row(page, ids.steady).waitFor();
    await expect.poll(() => row(page, ids.revoked).count(), { timeout: 15_000 }).toBe(0);
    clean(page);
    await page.context().close();
  });
});
