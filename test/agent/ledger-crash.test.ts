import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { agentIdFromPublicKey } from "../../agent/identity/agentId.js";
import { loadOrCreateDeviceKey, verifyEd25519 } from "../../agent/identity/deviceKey.js";
import { Ledger, verifyLedger } from "../../agent/ledger/ledger.js";
import { recordSigningInput, type SealedRecord } from "../../shared/log/entry.js";

const WRITER = fileURLToPath(new URL("./children/ledgerWriter.ts", import.meta.url));
const TRIALS = 24;

interface Trial {
  readonly durable: number;
  readonly root: string;
  readonly openedAt: number;
}

/** Runs the writer until a random moment after it opened, then SIGKILLs it. */
function crashOnce(dir: string, dataDir: string, killAfterMs: number): Promise<Trial> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", WRITER, dir, dataDir], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let durable = -1;
    let root = "";
    let openedAt = -1;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      let nl: number;
      while ((nl = out.indexOf("\n")) >= 0) {
        const [tag, a, b] = out.slice(0, nl).split(" ");
        out = out.slice(nl + 1);
        if (tag === "open") {
          openedAt = Number(a);
          setTimeout(() => child.kill("SIGKILL"), killAfterMs);
        } else if (tag === "durable") {
          durable = Number(a);
          root = b!;
        }
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("exit", (_code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`writer exited by itself (${String(signal)}): ${err}`));
      else resolve({ durable, root, openedAt });
    });
  });
}

describe("ledger under kill -9", () => {
  const data = mkdtempSync(join(tmpdir(), "bo-crash-"));
  const dir = join(data, "ledger");
  afterAll(() => rmSync(data, { recursive: true, force: true }));

  it(`never loses an fsynced record or corrupts the ledger (${TRIALS} trials)`, async () => {
    const key = loadOrCreateDeviceKey(data);
    // node:crypto verification (fast); ledger.test.ts cross-checks it against shared/log's verifier.
    const verify = (r: SealedRecord) => verifyEd25519(key.publicKey, recordSigningInput(r), r.signature);
    let previousSize = 0;
    let torn = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      // Kill anywhere from "just opened" to well into streaming.
      const killAfterMs = Math.floor(Math.random() * 250);
      const result = await crashOnce(dir, data, killAfterMs);
      // The writer reopened everything the last run left (after cutting any torn tail).
      expect(result.openedAt).toBeGreaterThanOrEqual(previousSize);

      const check = verifyLedger(dir, verify, { rootsAt: [result.durable] });
      expect(check.problems).toEqual([]);
      if (check.tornBytes > 0) torn++;
      // Every record reported durable survived, and the tree over them is the one reported.
      expect(check.size).toBeGreaterThanOrEqual(result.durable);
      const ledger = await Ledger.open({ dir, key, agentId: agentIdFromPublicKey(key.publicKeyRaw), segmentBytes: 8192, retainAckedBytes: 16 * 1024, maxBytes: 4 * 1024 * 1024 });
      // The files still give the root reported at that size (recomputed from the records and the
      // pruned prefix), and the reopened ledger's root is the one recomputed over all of them.
      if (result.durable > 0) expect(Buffer.from(check.roots.get(result.durable)!).toString("hex")).toBe(result.root);
      expect(ledger.size).toBe(check.size);
      expect(Buffer.from(ledger.root()).toString("hex")).toBe(Buffer.from(check.root!).toString("hex"));
      await ledger.close();
      expect(verifyLedger(dir, verify).tornBytes).toBe(0);
      previousSize = check.size;
    }
    expect(previousSize).toBeGreaterThan(100);
    // Informational: how many kills landed mid-write.
    console.log(`ledger crash test: ${TRIALS} kills, ${torn} left a torn tail, ${previousSize} records in the end`);
  }, 120_000);
});
