/**
 * What the log, tokens, webhooks and config browser tests share: a signed-in page on a view, the
 * view's checks every test makes (axe, CSP, no page errors), and screenshots at both sizes.
 */
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { cspViolations, describeAxe, openDashboard, pageErrors, runAxe, screenshot, signIn, type ViewportName } from "../support/browser.js";
import type { RunningEdge } from "../support/edge.js";

/** A fresh context signed in through the form, then on `path` with its `data-view` root shown. */
export async function signedInOn(edge: RunningEdge, path: string, view: string, viewport: ViewportName = "desktop", before?: (page: Page) => Promise<void>): Promise<Page> {
  const page = await openDashboard(edge, { path: "/sign-in", viewport });
  await signIn(page, edge.adminToken);
  if (before !== undefined) await before(page);
  await page.goto(path, { waitUntil: "load" });
  await page.locator(`[data-view="${view}"]`).waitFor({ state: "visible", timeout: 30_000 });
  return page;
}

/** No serious or critical axe violation, no CSP violation, nothing thrown. */
export async function expectCleanView(page: Page): Promise<void> {
  const violations = await runAxe(page);
  expect(violations, describeAxe(violations)).toEqual([]);
  expect(cspViolations(page)).toEqual([]);
  expect(pageErrors(page)).toEqual([]);
}

export interface ShotSteps {
  /** What must show before the picture. */
  readonly ready?: string;
  /** Run on the phone page before it opens `path` (e.g. the same page.route tampering). */
  readonly before?: (page: Page) => Promise<void>;
  /** Run on the phone page once ready (e.g. the same form input), to reach the same state. */
  readonly after?: (page: Page) => Promise<void>;
}

/**
 * The view at desktop (already open, in the state to picture) and the same state at phone size in
 * a new page (`steps` recreate it), saved as <name>-desktop.png / <name>-phone.png.
 */
export async function screenshotsOf(edge: RunningEdge, page: Page, name: string, path: string, view: string, steps: ShotSteps = {}): Promise<void> {
  // At the top: a full-page picture of a scrolled page draws the sticky header mid-page.
  await page.evaluate("window.scrollTo(0, 0)");
  await screenshot(page, `${name}-desktop`);
  const phone = await signedInOn(edge, path, view, "phone", steps.before);
  try {
    if (steps.ready !== undefined) await phone.locator(steps.ready).first().waitFor({ state: "visible", timeout: 30_000 });
    if (steps.after !== undefined) await steps.after(phone);
    await expectCleanView(phone);
    // Nothing wider than the phone's screen: the page never scrolls sideways (tables scroll in their wrapper).
    const overflow = await phone.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
    expect(overflow, `${name} at phone width overflows by ${overflow} px`).toBeLessThanOrEqual(0);
    await phone.evaluate("window.scrollTo(0, 0)");
    await screenshot(phone, `${name}-phone`);
  } finally {
    await phone.context().close();
  }
}
