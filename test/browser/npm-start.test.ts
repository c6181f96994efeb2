/**
 * `npm start` as an operator meets it, in the browser: the fleet it starts (real agents, spread
 * starting phases) is seen to lock on the dashboard (r ≥ 0.9 within a minute of the start), and the
 * phase-stream agent's sync collapse is on its detail page, its inclusion verified in the page.
 * (The collapse's webhook is checked at a receiver by test/start/supervisor.test.ts.)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/edge.js";
import { openDashboard, screenshot, signIn, useBrowser } from "../support/browser.js";

const ENTRY = fileURLToPath(new URL("../../scripts/start-check.mjs", import.meta.url));
const data = mkdtempSync(join(tmpdir(), "bo-start-browser-"));
let supervisor: ChildProcess | undefined;

useBrowser();

afterAll(async () => {
  if (supervisor?.pid !== undefined && supervisor.exitCode === null) {
    supervisor.kill("SIGTERM");
    await new Promise((r) => supervisor!.once("exit", r));
  }
  rmSync(data, { recursive: true, force: true });
});

describe("npm start, seen on the dashboard", () => {
  it("the started fleet locks (r ≥ 0.9) within a minute, and the phase-stream agent's sync collapse is on its page and verifies", { timeout: 420_000 }, async () => {
    const port = await freePort();
    let out = "";
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_config_")));
    const startedAt = Date.now();
    supervisor = spawn(process.execPath, [ENTRY, "--agents", "4", "--port", String(port), "--data", data], { env, stdio: ["ignore", "pipe", "pipe"] });
    supervisor.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    supervisor.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    await expect.poll(() => out.includes("BecomingONE fleet is running"), { timeout: 180_000, interval: 200 }).toBe(true);
    const edgeUrl = `http://127.0.0.1:${port}`;
    expect(out).toContain(`dashboard   ${edgeUrl}/`);
    const adminToken = /^ADMIN_TOKEN=(.+)$/m.exec(readFileSync(join(data, ".dev.vars"), "utf8"))![1]!;
    const agent1 = /agent 1 +http:\/\/\S+ +(ag_[0-9a-f]{32})/.exec(out)![1]!;

    const page = await openDashboard(edgeUrl);
    await signIn(page, adminToken);
    await page.locator('[data-view="overview"]').waitFor();
    const r = page.getByTestId("field-r");
    await expect
      .poll(async () => Number(await r.textContent()), { timeout: Math.max(1000, 60_000 - (Date.now() - startedAt)), interval: 250 })
      .toBeGreaterThanOrEqual(0.9);
    console.log(`npm start on the dashboard: r = ${await r.textContent()} ${((Date.now() - startedAt) / 1000).toFixed(1)} s after the start`);
    // Held while the page updates it, not passed through: four natural frequencies up to 0.56 rad/s
    // apart would spread uncoupled phases well below r = 0.9 within these 15 s.
    for (let k = 0; k < 15; k++) {
      await page.waitForTimeout(1000);
      expect(Number(await r.textContent()), `r on the page, sample ${k}`).toBeGreaterThanOrEqual(0.9);
    }
    await expect.poll(async () => page.locator('canvas[data-testid="phase-circle"]').getAttribute("data-drawn"), { timeout: 10_000 }).toBe("4");
    await screenshot(page, "npm-start-overview-desktop");

    // Agent 1 runs the phase stream: its sync.collapse is among its records (within five minutes of the start).
    const collapseRow = page.locator("tr[data-record-index]", { has: page.locator("td", { hasText: /^sync\.collapse$/ }) }).first();
    await expect
      .poll(
        async () => {
          await page.goto(`/agents/${agent1}`);
          await page.locator('[data-view="agent"]').waitFor();
          await page.locator("tr[data-record-index]").first().waitFor({ timeout: 5000 }).catch(() => undefined);
          return collapseRow.count();
        },
        { timeout: Math.max(1000, 300_000 - (Date.now() - startedAt)), interval: 3000 },
      )
      .toBeGreaterThan(0);
    await collapseRow.getByRole("button", { name: /Verify/ }).click();
    const result = page.getByTestId("verify-result");
    await expect.poll(() => result.getAttribute("data-ok"), { timeout: 20_000 }).toBe("true");
    // npm start names its agents (edge.name in their config), so the operator can tell them apart.
    expect(await page.locator("h1").first().textContent()).toContain("demo-1");
    await screenshot(page, "npm-start-agent-desktop");
  });
});
