/**
 * The overview in real Chromium against a real edge (`wrangler dev`) with real agent processes:
 * a wrong token cannot sign in, the right one can; the agents appear live on the phase circle
 * (canvas data-drawn, performance mark "circle-drawn"), the counts and the live status follow,
 * the CSP is never violated and nothing throws. Screenshots at desktop and phone size.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueToken } from "../edge/fleet-client.js";
import { FAST_SEALING, removeTempDirs, startAgentProcess, tempDir, type AgentProcess } from "../e2e/support/agentProcess.js";
import { cookiesOf, cspViolations, ensureDashboardBuilt, markTime, openDashboard, pageErrors, screenshot, SIGN_IN, signIn, useBrowser } from "../support/browser.js";
import { startEdge, type RunningEdge } from "../support/edge.js";

const CIRCLE = 'canvas[data-testid="phase-circle"]';
let edge: RunningEdge;
const agents: AgentProcess[] = [];

useBrowser();

beforeAll(async () => {
  ensureDashboardBuilt();
  edge = await startEdge();
  for (const name of ["overview-a", "overview-b"]) {
    const { token } = await issueToken(edge, { name });
    agents.push(startAgentProcess({ dataDir: join(tempDir("overview-agent-"), name), edgeUrl: edge.url, token, config: FAST_SEALING }));
  }
  await Promise.all(agents.map((a) => a.ready));
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await edge?.dispose();
  removeTempDirs();
});

/** Frames per second the page's requestAnimationFrame loop reaches over `ms` (logged, never asserted). */
async function measureFps(page: import("playwright-core").Page, ms: number): Promise<number> {
  return page.evaluate<number>(`new Promise((done) => {
    let frames = 0; const start = performance.now();
    const step = () => { frames++; if (performance.now() - start < ${ms}) requestAnimationFrame(step); else done(frames / ((performance.now() - start) / 1000)); };
    requestAnimationFrame(step);
  })`);
}

describe("overview", () => {
  it("refuses a wrong token: the sign-in page stays, says so, and no session cookie is set", async () => {
    const page = await openDashboard(edge, { path: "/" });
    await page.locator(SIGN_IN.root).waitFor();
    await page.locator(SIGN_IN.token).fill(`${edge.adminToken}x`);
    await page.locator(SIGN_IN.submit).click();
    await expect.poll(() => page.locator('[data-testid="sign-in-error"]').textContent(), { timeout: 10_000 }).toMatch(/not accepted/);
    expect(await page.locator(SIGN_IN.token).inputValue()).toBe(""); // the field is cleared
    expect(await page.locator("[data-view]").first().getAttribute("data-view")).toBe("sign-in");
    expect((await cookiesOf(page.context(), edge)).has("bo_session")).toBe(false);
    expect(cspViolations(page)).toEqual([]);
    await page.context().close();
  });

  for (const viewport of ["desktop", "phone"] as const) {
    it(`signs in and draws the live fleet on the phase circle (${viewport})`, async () => {
      const page = await openDashboard(edge, { path: "/", viewport });
      await signIn(page, edge.adminToken);
      await page.locator('[data-view="overview"]').waitFor();
      expect(await page.locator(SIGN_IN.token).count()).toBe(0);
      await page.locator(`${CIRCLE}[data-drawn="2"]`).waitFor({ timeout: 30_000 });
      expect(await markTime(page, "circle-drawn")).not.toBeNull();
      await page.locator('[data-testid="live-status"][data-state="live"]').waitFor({ timeout: 15_000 });
      await expect.poll(() => page.locator('[data-testid="count-online"]').textContent(), { timeout: 20_000 }).toBe("2");
      // The canvas is sized for the device's pixels, not CSS pixels only.
      const size = await page.evaluate<{ w: number; css: number; dpr: number }>(`(() => {
        const c = document.querySelector('${CIRCLE}');
        return { w: c.width, css: c.getBoundingClientRect().width, dpr: devicePixelRatio };
      })()`);
      expect(Math.abs(size.w - Math.round(size.css * size.dpr))).toBeLessThanOrEqual(1);
      console.log(`overview ${viewport}: ${(await measureFps(page, 2000)).toFixed(1)} frames/s with 2 agents`);
      await page.waitForTimeout(1000); // let the r chart gather a few samples
      await screenshot(page, `overview-${viewport}`);
      expect(cspViolations(page)).toEqual([]);
      expect(pageErrors(page)).toEqual([]);
      await page.context().close();
    });
  }

  it("says when the live channel drops, and resumes by itself when the edge is back", async () => {
    const page = await openDashboard(edge, { path: "/" });
    await page.locator(SIGN_IN.root).waitFor();
    await signIn(page, edge.adminToken);
    const status = page.locator('[data-testid="live-status"]');
    await expect.poll(() => status.getAttribute("data-state"), { timeout: 15_000 }).toBe("live");
    await edge.stop();
    await expect.poll(() => status.getAttribute("data-state"), { timeout: 15_000 }).not.toBe("live");
    expect(await status.textContent()).toMatch(/reconnecting|stale/);
    await edge.restart(); // same port and state: the session survives in the fleet's SQLite
    await expect.poll(() => status.getAttribute("data-state"), { timeout: 60_000 }).toBe("live");
    await page.locator(`${CIRCLE}[data-drawn="2"]`).waitFor({ timeout: 30_000 });
    expect(cspViolations(page)).toEqual([]);
    expect(pageErrors(page)).toEqual([]);
    await page.context().close();
  });
});
