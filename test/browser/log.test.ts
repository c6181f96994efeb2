/**
 * The global log view in real Chromium against the real edge, with entries sealed by a real agent
 * process: the checkpoint's signature verifies in the browser, entries page newest first, an
 * entry's inclusion proof verifies in the browser — and when the network tampers with the proof,
 * the entry or the checkpoint (Playwright's page.route rewrites the edge's real answer), the page
 * says it fails and why.
 */
import { join } from "node:path";
import type { Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "../../shared/encoding/base64.js";
import { encodeHex } from "../../shared/encoding/hex.js";
import { hashLeaf } from "../../shared/log/rfc6962.js";
import { FAST_SEALING, removeTempDirs, startAgentProcess, tempDir, waitFor, type AgentProcess } from "../e2e/support/agentProcess.js";
import { call, issueToken } from "../edge/fleet-client.js";
import { ensureDashboardBuilt, useBrowser } from "../support/browser.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { expectCleanView, screenshotsOf, signedInOn } from "./views-support.js";

let edge: RunningEdge;
let agent: AgentProcess | undefined;
let size = 0;
/** A record's index (the log also holds the agent's key entries and, from newer agents, its checkpoints). */
let recordIndex = 0;

/** At least this many entries under the checkpoint: two pages of 25. */
const ENTRIES = 30;

beforeAll(async () => {
  ensureDashboardBuilt();
  edge = await startEdge();
  const { token } = await issueToken(edge, { name: "log view" });
  agent = startAgentProcess({ dataDir: join(tempDir("log-view-"), "agent"), edgeUrl: edge.url, token, config: FAST_SEALING });
  await agent.ready;
  await waitFor(
    `${ENTRIES} entries under a checkpoint`,
    async () => {
      const res = await fetch(`${edge.url}/v1/log/checkpoint`);
      const n = res.status === 200 ? Number((await res.text()).split("\n")[1]) : 0;
      return n >= ENTRIES ? n : undefined;
    },
    90_000,
  );
  // A still log from here on: what the page shows and what the test expects stay the same.
  await agent.stop();
  await waitFor(
    "the checkpoint to cover the whole log",
    async () => {
      const log = (await call(edge, "GET", "/v1/log/entries?start=0&end=0", { token: null })).body as { size: number };
      const cp = Number((await (await fetch(`${edge.url}/v1/log/checkpoint`)).text()).split("\n")[1]);
      return cp === log.size ? cp : undefined;
    },
    60_000,
  );
  size = (await call(edge, "GET", "/v1/log/entries?start=0&end=0", { token: null })).body.size as number;
  const entries = (await call(edge, "GET", `/v1/log/entries?start=0&end=${size}`, { token: null })).body.entries as { index: number; type: string }[];
  expect(entries.slice(0, 2).map((e) => e.type)).toEqual(["key", "key"]);
  recordIndex = entries.filter((e) => e.type === "record")[5]!.index;
}, 300_000);

useBrowser();
afterAll(async () => {
  await agent?.kill9();
  await edge?.dispose();
  removeTempDirs();
});

async function entryRow(page: Page, index: number) {
  const row = page.locator(`tr[data-entry-index="${index}"]`);
  await row.waitFor({ state: "visible", timeout: 20_000 });
  return row;
}

/** The edge's real answer to a route, rewritten by `change`. */
function rewriteJson(change: (body: Record<string, unknown>) => Record<string, unknown>) {
  return async (route: Route): Promise<void> => {
    const response = await route.fetch();
    const body = (await response.json()) as Record<string, unknown>;
    await route.fulfill({ response, json: change(body) });
  };
}

describe("global log view", () => {
  it("shows size and a checkpoint whose signature verifies in the browser, entries newest first, 25 a page", async () => {
    const page = await signedInOn(edge, "/log", "log");
    try {
      const status = page.getByTestId("checkpoint-status");
      await expect.poll(() => status.getAttribute("data-ok"), { timeout: 20_000 }).toBe("true");
      expect(await status.textContent()).toMatch(/verifies with the log key becomingone-edge\+[0-9a-f]{8}/);
      // The size comes from GET /v1/fleet, loaded beside the checkpoint: it may show "…" a moment longer.
      await expect.poll(() => page.getByTestId("log-size").textContent(), { timeout: 20_000 }).toBe(String(size));
      expect(await page.getByTestId("checkpoint-size").textContent()).toBe(String(size));

      await entryRow(page, size - 1);
      const first = await page.locator("tr[data-entry-index]").evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-entry-index"))));
      expect(first).toEqual(Array.from({ length: 25 }, (_, i) => size - 1 - i));
      await page.getByRole("button", { name: "Older" }).click();
      await entryRow(page, size - 26);
      const second = await page.locator("tr[data-entry-index]").evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-entry-index"))));
      expect(second[0]).toBe(size - 26);
      expect(second.at(-1)).toBe(Math.max(0, size - 50));
      await page.getByRole("button", { name: "Newer" }).click();
      await entryRow(page, size - 1);

      await expectCleanView(page);
      await screenshotsOf(edge, page, "log", "/log", "log", { ready: "tr[data-entry-index]" });
    } finally {
      await page.context().close();
    }
  });

  it("picking an entry verifies its inclusion proof in the browser: proof path length and the leaf hash Node computes", async () => {
    const page = await signedInOn(edge, "/log", "log");
    try {
      const index = size - 3;
      await (await entryRow(page, index)).getByRole("link").click();
      await page.waitForURL(`**/log/${index}`);
      const result = page.getByTestId("verify-result");
      await result.waitFor({ state: "visible", timeout: 20_000 });
      expect(await result.getAttribute("data-ok"), (await result.textContent()) ?? "").toBe("true");
      // The leaf hash shown is SHA-256(0x00 ‖ entry bytes), as Node's shared/log computes it.
      const entry = (await call(edge, "GET", `/v1/log/entries?start=${index}&end=${index + 1}`, { token: null })).body.entries[0] as { leaf: string };
      expect(await page.getByTestId("leaf-hash").textContent()).toBe(encodeHex(hashLeaf(decodeBase64(entry.leaf))));
      const proof = (await call(edge, "GET", `/v1/log/proof/inclusion?index=${index}&size=${size}`, { token: null })).body as { proof: string[] };
      expect(await page.getByTestId("proof-length").textContent()).toBe(`${proof.proof.length} hashes`);
      expect(await result.textContent()).toMatch(/inclusion proof leads to the signed root/);
      await expectCleanView(page);
      await screenshotsOf(edge, page, "log-entry", `/log/${index}`, "log", { ready: '[data-testid="verify-result"]' });
    } finally {
      await page.context().close();
    }
  });

  it("a key entry (the agent's enrollment) is shown as one and its inclusion verifies in the browser", async () => {
    const page = await signedInOn(edge, "/log/0", "log");
    try {
      const result = page.getByTestId("verify-result");
      await result.waitFor({ state: "visible", timeout: 20_000 });
      expect(await result.getAttribute("data-ok"), (await result.textContent()) ?? "").toBe("true");
      expect(await result.textContent()).toMatch(/entry 0: key entry \(enrolled\) of ag_[0-9a-f]{32}/);
      expect(await page.getByTestId("entry-detail").textContent()).toMatch(/key entry: the agent's key was enrolled/);
      await expectCleanView(page);
    } finally {
      await page.context().close();
    }
  });

  it("an index the log does not have says so, and verifies nothing", async () => {
    const page = await signedInOn(edge, "/log/99999", "log");
    try {
      await page.getByText("No entry 99999 in the log.").waitFor({ state: "visible", timeout: 20_000 });
      expect(await page.getByTestId("verify-result").count()).toBe(0);
    } finally {
      await page.context().close();
    }
  });

  it("a tampered proof shows as failing: the proof does not lead to the checkpoint root", async () => {
    const page = await signedInOn(edge, "/log", "log");
    try {
      const tamper = async (p: Page): Promise<void> => {
        await p.route((url) => url.pathname === "/v1/log/proof/inclusion", rewriteJson((doc) => {
          const proof = [...(doc.proof as string[])];
          const h = decodeBase64(proof[0]!);
          h[5] ^= 0x01;
          proof[0] = encodeBase64(h);
          return { ...doc, proof };
        }));
      };
      await tamper(page);
      await page.goto("/log/4");
      const result = page.getByTestId("verify-result");
      await result.waitFor({ state: "visible", timeout: 20_000 });
      expect(await result.getAttribute("data-ok")).toBe("false");
      expect(await page.getByTestId("verify-reason").getAttribute("data-step")).toBe("inclusion");
      expect(await page.getByTestId("verify-reason").textContent()).toMatch(/^proof does not lead to the checkpoint root/);
      await screenshotsOf(edge, page, "log-tampered", "/log/4", "log", { before: tamper, ready: '[data-testid="verify-result"][data-ok="false"]' });
    } finally {
      await page.context().close();
    }
  });

  it("a tampered entry shows as failing: its bytes do not hash to the proven leaf", async () => {
    const page = await signedInOn(edge, "/log", "log");
    try {
      const at = String(recordIndex);
      await page.route((url) => url.pathname === "/v1/log/entries" && url.searchParams.get("start") === at && url.searchParams.get("end") === String(recordIndex + 1), rewriteJson((page) => {
        const [e] = page.entries as { leaf: string; record: { payloadJson: string } }[];
        // One byte of the signature (the entry's last 64 bytes): still a well-formed record.
        const bytes = decodeBase64(e!.leaf);
        bytes[bytes.length - 1] ^= 0x01;
        const signature = encodeBase64(bytes.slice(-64));
        return { ...page, entries: [{ ...e, leaf: encodeBase64(bytes), record: { ...e!.record, signature } }] };
      }));
      await page.goto(`/log/${recordIndex}`);
      const result = page.getByTestId("verify-result");
      await result.waitFor({ state: "visible", timeout: 20_000 });
      expect(await result.getAttribute("data-ok")).toBe("false");
      expect(await page.getByTestId("verify-reason").textContent()).toMatch(/^entry bytes do not hash to the proven leaf/);
    } finally {
      await page.context().close();
    }
  });

  it("a checkpoint whose signature was altered is shown as not verifying, and no entry verifies against it", async () => {
    const page = await signedInOn(edge, "/log", "log");
    try {
      await page.route((url) => url.pathname === "/v1/log/checkpoint", async (route) => {
        const response = await route.fetch();
        const lines = (await response.text()).split("\n");
        const at = lines.findIndex((l) => l.startsWith("\u2014 "));
        const [dash, name, b64] = lines[at]!.split(" ") as [string, string, string];
        const raw = decodeBase64(b64);
        raw[20] ^= 0x01;
        lines[at] = `${dash} ${name} ${encodeBase64(raw)}`;
        await route.fulfill({ response, body: lines.join("\n") });
      });
      await page.goto("/log/2");
      const status = page.getByTestId("checkpoint-status");
      await expect.poll(() => status.getAttribute("data-ok"), { timeout: 20_000 }).toBe("false");
      expect(await status.textContent()).toMatch(/signature does not verify with key becomingone-edge\+[0-9a-f]{8}/);
      const result = page.getByTestId("verify-result");
      await result.waitFor({ state: "visible", timeout: 20_000 });
      expect(await result.getAttribute("data-ok")).toBe("false");
      expect(await page.getByTestId("verify-reason").getAttribute("data-step")).toBe("checkpoint-signature");
    } finally {
      await page.context().close();
    }
  });
});
