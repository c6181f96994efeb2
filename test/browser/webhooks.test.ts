/**
 * The webhooks view in real Chromium against the real edge (loopback receivers allowed, as in
 * local development): an endpoint created in the UI receives a test event at a local receiver,
 * signed with the secret the UI showed once; the delivery log and messages show it; replay sends
 * the same message again; rotate shows a new secret that signs the next delivery; disable, enable
 * and delete (after a confirmation) act on the edge; an SSRF refusal shows the edge's message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../edge/fleet-client.js";
import { ensureDashboardBuilt, useBrowser } from "../support/browser.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";
import { expectCleanView, screenshotsOf, signedInOn } from "./views-support.js";

let edge: RunningEdge;
let receiver: Receiver;

beforeAll(async () => {
  ensureDashboardBuilt();
  edge = await startEdge({ vars: { WEBHOOKS_ALLOW_LOOPBACK: "1" } });
  receiver = await startReceiver();
}, 180_000);

useBrowser();
afterAll(async () => {
  await receiver?.close();
  await edge?.dispose();
});

const testEvents = () => receiver.requests.filter((r) => (JSON.parse(r.body) as { type: string }).type === "webhook.test");

describe("webhooks view", () => {
  it("an endpoint created in the UI receives a signed test event; log, replay, rotate, disable, delete", async () => {
    const page = await signedInOn(edge, "/webhooks", "webhooks");
    try {
      await page.getByLabel("URL").fill(`${receiver.url}/hooks/ui`);
      await page.getByLabel("Description").fill("made in the dashboard");
      await page.getByRole("checkbox", { name: "agent.online" }).check();
      await page.getByRole("checkbox", { name: "agent.offline" }).check();
      await page.getByRole("button", { name: "Add endpoint" }).click();

      const secret = (await page.getByTestId("webhook-secret").textContent())!.trim();
      expect(secret).toMatch(/^whsec_/);
      // The receiver checks every signature with the independent standardwebhooks package.
      receiver.secrets = [secret];
      const item = page.locator("li[data-endpoint-id]").filter({ hasText: `${receiver.url}/hooks/ui` });
      await item.waitFor({ state: "visible" });
      const id = (await item.getAttribute("data-endpoint-id"))!;
      const stored = (await call(edge, "GET", `/v1/webhooks/endpoints/${id}`)).body as { eventTypes: string[]; description: string };
      expect([...stored.eventTypes].sort()).toEqual(["agent.offline", "agent.online"]);
      expect(stored.description).toBe("made in the dashboard");

      // Send a test event: it arrives, verified, and shows as delivered.
      await item.getByRole("button", { name: "Send test event" }).click();
      await receiver.waitFor(1, 30_000);
      const first = testEvents()[0]!;
      expect(first.path).toBe("/hooks/ui");
      expect(first.verifyError).toBeNull();
      const log = item.getByTestId("delivery-log");
      await log.locator('tr[data-outcome="succeeded"]').first().waitFor({ state: "visible", timeout: 20_000 });
      const message = item.getByTestId("messages").locator(`tr[data-message-id="${first.id}"]`);
      await expect.poll(() => message.getAttribute("data-status"), { timeout: 20_000 }).toBe("succeeded");
      expect(await message.getAttribute("data-event-type")).toBe("webhook.test");
      await expectCleanView(page);

      // Replay: the same message id and body again.
      await message.getByRole("button", { name: `Replay message ${first.id}` }).click();
      await receiver.waitFor(2, 30_000);
      const replayed = testEvents()[1]!;
      expect(replayed.id).toBe(first.id);
      expect(replayed.body).toBe(first.body);
      expect(replayed.verifyError).toBeNull();

      // Rotate: a new secret, shown once, signs the next delivery on its own.
      await item.getByRole("button", { name: "Rotate secret" }).click();
      await expect.poll(async () => (await page.getByTestId("webhook-secret").textContent())?.trim(), { timeout: 10_000 }).not.toBe(secret);
      const rotated = (await page.getByTestId("webhook-secret").textContent())!.trim();
      expect(rotated).toMatch(/^whsec_/);
      receiver.secrets = [rotated];
      await item.getByRole("button", { name: "Send test event" }).click();
      await receiver.waitFor(3, 30_000);
      expect(testEvents()[2]!.verifyError).toBeNull();
      await screenshotsOf(edge, page, "webhooks", "/webhooks", "webhooks", {
        ready: "li[data-endpoint-id]",
        after: async (p) => {
          await p.getByRole("button", { name: "Deliveries and messages" }).click();
          await p.getByTestId("delivery-log").waitFor({ state: "visible", timeout: 20_000 });
        },
      });

      // Disable, then enable.
      await item.getByRole("button", { name: "Disable" }).click();
      await expect.poll(() => item.getAttribute("data-enabled"), { timeout: 10_000 }).toBe("false");
      expect(await item.getByRole("button", { name: "Send test event" }).isDisabled()).toBe(true);
      expect(((await call(edge, "GET", `/v1/webhooks/endpoints/${id}`)).body as { enabled: boolean }).enabled).toBe(false);
      await item.getByRole("button", { name: "Enable" }).click();
      await expect.poll(() => item.getAttribute("data-enabled"), { timeout: 10_000 }).toBe("true");

      // Delete asks first; Cancel keeps it, Yes deletes it.
      await item.getByRole("button", { name: "Delete", exact: true }).click();
      await item.getByRole("button", { name: "Cancel" }).click();
      expect((await call(edge, "GET", `/v1/webhooks/endpoints/${id}`)).status).toBe(200);
      await item.getByRole("button", { name: "Delete", exact: true }).click();
      // The confirmation takes the focus.
      await expect.poll(() => page.evaluate<string>("document.activeElement?.textContent ?? ''"), { timeout: 5_000 }).toBe("Yes, delete");
      await page.keyboard.press("Enter");
      await item.waitFor({ state: "detached", timeout: 10_000 });
      expect((await call(edge, "GET", `/v1/webhooks/endpoints/${id}`)).status).toBe(404);
    } finally {
      await page.context().close();
    }
  });

  it("a URL the SSRF policy refuses shows the edge's message", async () => {
    const page = await signedInOn(edge, "/webhooks", "webhooks");
    try {
      await page.getByLabel("URL").fill("https://169.254.169.254/latest/meta-data");
      await page.getByRole("button", { name: "Add endpoint" }).click();
      const error = page.getByTestId("view-error");
      await error.waitFor({ state: "visible", timeout: 10_000 });
      expect(await error.textContent()).toMatch(/\(webhook_url_refused\)$/);
      expect(await page.getByTestId("webhook-secret").count()).toBe(0);
    } finally {
      await page.context().close();
    }
  });
});
