/**
 * The fleet config view in real Chromium against the real edge: values out of the schema's range
 * are refused in the browser (nothing is sent, the edge's config is unchanged), a good value is
 * saved (version + 1), and a bad value sent past the browser's checks is refused by the edge with
 * its own message, shown as it says it.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../edge/fleet-client.js";
import { ensureDashboardBuilt, useBrowser } from "../support/browser.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { expectCleanView, screenshotsOf, signedInOn } from "./views-support.js";

let edge: RunningEdge;

beforeAll(async () => {
  ensureDashboardBuilt();
  edge = await startEdge();
}, 180_000);

useBrowser();
afterAll(async () => {
  await edge?.dispose();
});

async function config(): Promise<{ version: number; coupling: number; summaryHz: number; peerAgeMs: number }> {
  return (await call(edge, "GET", "/v1/fleet")).body.config as { version: number; coupling: number; summaryHz: number; peerAgeMs: number };
}

async function patches(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/v1/fleet/config")).map((e) => e.name)`);
}

describe("fleet config view", () => {
  it("refuses out-of-range values in the browser, saves a good one, and shows the edge's own refusal", async () => {
    const before = await config();
    const page = await signedInOn(edge, "/config", "config");
    try {
      const coupling = page.getByLabel("Coupling K");
      await coupling.waitFor({ state: "visible", timeout: 20_000 });
      expect(await coupling.inputValue()).toBe(String(before.coupling));
      await expectCleanView(page);
      await screenshotsOf(edge, page, "config", "/config", "config", { ready: "#cfg-coupling" });

      // Out of range and not a number: refused here, with the bounds; nothing sent.
      await coupling.fill("101");
      await page.getByLabel(/^Peer age/).fill("250.5");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByTestId("config-invalid").waitFor({ state: "visible" });
      const errors = await page.getByTestId("field-error").allTextContents();
      expect(errors).toEqual(["Coupling K must be from 0 to 100", "Peer age must be a whole number from 500 to 600000"]);
      expect(await coupling.getAttribute("aria-invalid")).toBe("true");
      // The first bad field has the focus, and its error is announced through aria-describedby.
      await expect.poll(() => page.evaluate<string>("document.activeElement?.id ?? ''"), { timeout: 5_000 }).toBe("cfg-coupling");
      expect(await coupling.getAttribute("aria-describedby")).toContain("cfg-coupling-error");
      expect(await patches(page)).toEqual([]);
      expect(await config()).toEqual(before);
      await screenshotsOf(edge, page, "config-invalid", "/config", "config", {
        ready: "#cfg-coupling",
        after: async (p) => {
          await p.getByLabel("Coupling K").fill("101");
          await p.getByLabel(/^Peer age/).fill("250.5");
          await p.getByRole("button", { name: "Save" }).click();
          await p.getByTestId("config-invalid").waitFor({ state: "visible" });
        },
      });

      // A good value is saved: version + 1.
      await coupling.fill("3.5");
      await page.getByLabel(/^Peer age/).fill(String(before.peerAgeMs));
      await page.getByRole("button", { name: "Save" }).click();
      await expect.poll(async () => page.getByTestId("config-saved").textContent(), { timeout: 10_000 }).toMatch(new RegExp(`version ${before.version + 1}`));
      const after = await config();
      expect(after.coupling).toBe(3.5);
      expect(after.version).toBe(before.version + 1);

      // Past the browser's checks, the edge refuses with its own message, shown as it says it.
      await page.getByLabel(/^Skip the browser's checks/).check();
      await page.getByLabel(/^Summary rate/).fill("0");
      await page.getByRole("button", { name: "Save" }).click();
      const edgeError = page.getByTestId("edge-error");
      await edgeError.waitFor({ state: "visible", timeout: 10_000 });
      expect(await edgeError.textContent()).toMatch(/summaryHz.*\(invalid_body\)$/s);
      expect((await config()).summaryHz).toBe(before.summaryHz);
      expect((await config()).version).toBe(before.version + 1);
    } finally {
      await page.context().close();
    }
  });
});
