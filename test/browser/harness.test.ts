/**
 * The browser harness itself: Debian Chromium launches headless through playwright-core (no downloaded
 * browser), a page loads and is screenshotted, and axe-core goes in without weakening the page's CSP —
 * the page's own inline script is still refused while axe runs.
 */
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium } from "playwright-core";
import {
  CHROMIUM_PATH,
  cspViolations,
  launchBrowser,
  openDashboard,
  pageErrors,
  runAxe,
  screenshot,
  sharedBrowser,
  useBrowser,
  VIEWPORTS,
  closeBrowsers,
} from "../support/browser.js";
import { listenOnLoopback, type LoopbackListener } from "../support/loopback-listen.js";

// The dashboard contract's policy, verbatim.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>harness</title><script src="/self.js"></script></head>
<body><main><h1>Harness</h1><p id="inline">inline did not run</p><p id="self">self did not run</p>
<img src="/x.png"><button></button></main>
<script>document.getElementById("inline").textContent = "inline ran";</script>
</body></html>`;

const SELF_JS = `document.addEventListener("DOMContentLoaded", () => { document.getElementById("self").textContent = "self ran"; });`;

let server: LoopbackListener;

beforeAll(async () => {
  server = await listenOnLoopback(
    createServer((req, res) => {
      if (req.url === "/self.js") {
        res.writeHead(200, { "content-type": "text/javascript", "content-security-policy": CSP });
        res.end(SELF_JS);
        return;
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": CSP });
      res.end(PAGE);
    }),
  );
});

useBrowser();
afterAll(async () => {
  await server?.close();
});

describe("browser harness", () => {
  it("launches the system Chromium, not a downloaded one", async () => {
    const browser = await sharedBrowser();
    expect(browser.isConnected()).toBe(true);
    expect(chromium.executablePath()).not.toBe(CHROMIUM_PATH); // playwright's own download location is unused
    // The browser that answers is the one at CHROMIUM_PATH (Debian's), by its exact version.
    const printed = execFileSync(CHROMIUM_PATH, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    expect(browser.version()).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(printed).toContain(browser.version());
  });

  it("loads a data: page at phone size and saves a screenshot", async () => {
    const page = await openDashboard("http://127.0.0.1:9", { viewport: "phone", path: null });
    await page.goto("data:text/html,<!doctype html><title>t</title><h1 style='color:teal'>hello</h1>");
    expect(await page.locator("h1").textContent()).toBe("hello");
    expect(page.viewportSize()).toEqual(VIEWPORTS.phone);
    const path = await screenshot(page, "harness-self-test");
    expect((await stat(path)).size).toBeGreaterThan(100);
    await page.context().close();
  });

  it("injects axe-core under a strict CSP without weakening it", async () => {
    const page = await openDashboard(server.url, { path: "/" });
    // The policy holds: the same-origin script ran, the inline one was refused and reported.
    expect(await page.locator("#self").textContent()).toBe("self ran");
    expect(await page.locator("#inline").textContent()).toBe("inline did not run");
    await expect.poll(() => cspViolations(page).some((v) => v.source === "event" && v.directive === "script-src-elem")).toBe(true);
    const before = cspViolations(page).length;

    const violations = await runAxe(page, { impacts: ["minor", "moderate", "serious", "critical"] });
    // axe ran (the page has real faults for it to find) and its injection caused no new violation.
    expect(violations.map((v) => v.id)).toEqual(expect.arrayContaining(["button-name", "image-alt"]));
    expect(cspViolations(page).length).toBe(before);
    // …and the page still cannot run script the policy forbids after axe is in.
    await page.evaluate(`(() => { const s = document.createElement("script"); s.textContent = "document.title = 'pwned'"; document.body.append(s); })()`);
    expect(await page.title()).toBe("harness");
    await expect.poll(() => cspViolations(page).length).toBeGreaterThan(before);
    expect(pageErrors(page)).toEqual([]);
    await page.context().close();
  });

  it("closeBrowsers ends every browser it launched", async () => {
    const extra = await launchBrowser();
    await closeBrowsers();
    expect(extra.isConnected()).toBe(false);
  });
});
