/**
 * The audit core (shared/audit) against the real Worker: agents enroll, send records, sign their
 * agent checkpoints and cosign global checkpoints over real sockets; then the audit, with `fetch`
 * bound to the Worker, verifies a record's whole chain, and each tampering is caught by name —
 * answers altered in transit (a wrapped fetch), and the edge's own storage rewritten directly
 * (a record with a broken device signature, a forked tree signed with the log key).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditRecord, formatKeptState, parseKeptState, parseWitnessKey, type AuditOptions, type AuditReport, type FetchFunction } from "../../shared/audit/index.js";
import { agentLogOrigin, openCheckpoint, signCheckpoint, witnessName, witnessVerifierKey } from "../../shared/checkpoint/index.js";
import { decodeBase64, encodeBase64 } from "../../shared/encoding/base64.js";
import { MemoryNodeStore, MerkleTree, encodeRecord, sealRecord, type SealedRecord } from "../../shared/log/index.js";
import { cosign, generateSignerKey, parseSignerKey, parseVerifierKey, signNote } from "../../shared/note/index.js";
import { recordToWire } from "../../shared/protocol/index.js";
import { GlobalLog } from "../../edge/fleet/global-log.js";
import { SqlNodeStore } from "../../edge/fleet/sql-node-store.js";
import { agentView, enrollAgent, open, type Session, type TestAgent } from "./fleet-agent.js";

const EDGE = "http://edge.test";
const FLEET = "audit-chain";
const workerFetch: FetchFunction = (input, init) => exports.default.fetch(input, init);
const stub = () => env.FLEET.get(env.FLEET.idFromName(FLEET));

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(`${EDGE}${path}${path.includes("?") ? "&" : "?"}fleet=${FLEET}`, { headers });
}

/** Polls `probe` (running the object's alarm between tries) until it gives a value. */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await runDurableObjectAlarm(stub());
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function sealed(agent: TestAgent, seq: number, secretKey = agent.secretKey): SealedRecord {
  return sealRecord({ agentId: agent.agentId, seq, kind: "memory", timestamp: 1_700_000_000_000 + seq, payloadJson: JSON.stringify({ seq }) }, secretKey);
}

/** The agent's signed checkpoint of its records (its own log: leaf = entry bytes, index = seq). */
function agentCheckpointNote(origin: string, agent: TestAgent, records: readonly SealedRecord[], rootOverride?: Uint8Array): string {
  const tree = MerkleTree.open(new MemoryNodeStore());
  for (const r of records) tree.append(encodeRecord(r));
  const name = agentLogOrigin(origin, agent.agentId);
  const signer = parseSignerKey(generateSignerKey(name, agent.secretKey).signerKey);
  return signCheckpoint({ origin: name, size: records.length, root: rootOverride ?? tree.root() }, [signer]);
}

async function latestCheckpoint(logKey: ReturnType<typeof parseVerifierKey>) {
  const res = await get("/v1/log/checkpoint");
  if (res.status !== 200) return undefined;
  const note = await res.text();
  return { note, ...openCheckpoint(note, [logKey]).checkpoint };
}

/** Sends the agent's cosignature of the latest global checkpoint. */
function sendCosignature(session: Session, agent: TestAgent, origin: string, note: string, size: number, root: Uint8Array, lamport: number): void {
  const body = note.slice(0, note.lastIndexOf("\n\n") + 1);
  const signature = cosign(body, witnessName(origin, agent.agentId), agent.publicKey, Math.floor(Date.now() / 1000), (m) => ed25519.sign(m, agent.secretKey));
  session.send({ v: 1, type: "cosignature", lamport, size, root: encodeBase64(root), signature: encodeBase64(signature) });
}

function stepOf(report: AuditReport, name: string) {
  return report.steps.find((s) => s.step === name)!;
}

function describeReport(report: AuditReport): string {
  return report.steps.map((s) => `${s.status} ${s.step}: ${s.reason}`).join("\n");
}

/** A fetch that rewrites the JSON answer of paths matching `match`. */
function tamper(match: (url: URL) => boolean, rewrite: (json: any) => unknown): FetchFunction {
  return async (input, init) => {
    const res = await workerFetch(input, init);
    const url = new URL(input);
    if (!match(url) || res.status !== 200) return res;
    const json = (await res.json()) as unknown;
    return new Response(JSON.stringify(rewrite(json)), { status: 200, headers: { "Content-Type": "application/json" } });
  };
}

describe("audit of the whole proof chain against the real Worker", () => {
  it("verifies a record's chain; catches altered entries, a broken device signature, a removed key entry and a forked tree", async () => {
    const a = await enrollAgent(FLEET, "a");
    const b = await enrollAgent(FLEET, "b");
    const logKey = parseVerifierKey((await (await exports.default.fetch(`${EDGE}/v1/log/key`)).text()).trim());

    // Records of agent a, acknowledged.
    const sa = await open(a, 1);
    const records = [0, 1, 2, 3].map((seq) => sealed(a, seq));
    sa.send({ v: 1, type: "records", lamport: 2, records: records.map(recordToWire) });
    await sa.next("ack", (m) => m.nextSeq === 4);
    const first = await until("a checkpoint", () => latestCheckpoint(logKey));
    const origin = first.origin;

    // a signs its own log; the edge commits the agent checkpoint to the global log.
    sa.send({ v: 1, type: "agent_checkpoint", lamport: 3, note: agentCheckpointNote(origin, a, records) });
    const agentCp = await until("the agent checkpoint", async () => {
      const res = await get(`/v1/log/agents/${a.agentId}/checkpoint`);
      return res.status === 200 ? ((await res.json()) as { index: number; size: number }) : undefined;
    });
    expect(agentCp.size).toBe(4);
    const global = await until("a checkpoint covering the agent checkpoint", async () => {
      const cp = await latestCheckpoint(logKey);
      return cp && cp.size > agentCp.index ? cp : undefined;
    });

    // Both agents cosign it: the edge publishes it with their cosignatures.
    const sb = await open(b, 1);
    sendCosignature(sa, a, origin, global.note, global.size, global.root, 4);
    sendCosignature(sb, b, origin, global.note, global.size, global.root, 2);
    await until("a checkpoint cosigned by both", async () => {
      const res = await get(`/v1/log/checkpoint?witnesses=${a.agentId},${b.agentId}&quorum=2`);
      return res.status === 200 ? true : undefined;
    });
    const witnesses = [a, b].map((w) => parseWitnessKey(witnessVerifierKey(origin, w.agentId, w.publicKey)));

    const base: AuditOptions = { fetch: workerFetch, edge: EDGE, fleet: FLEET, logKey, target: { agentId: a.agentId, seq: 2 }, witnesses, quorum: 2 };

    // The whole chain verifies; monitor mode's first run keeps the checkpoint (kept-none).
    const good = await auditRecord({ ...base, kept: null });
    expect(good.ok, describeReport(good)).toBe(true);
    expect(good.steps.map((s) => [s.step, s.status])).toEqual([
      ["global-checkpoint", "ok"],
      ["witnesses", "ok"],
      ["consistency", "ok"],
      ["record", "ok"],
      ["global-inclusion", "ok"],
      ["key", "ok"],
      ["device-signature", "ok"],
      ["agent-checkpoint", "ok"],
      ["agent-inclusion", "ok"],
      ["agent-checkpoint-entry", "ok"],
    ]);
    expect(stepOf(good, "consistency").detail).toMatchObject({ kept: "none" });
    const kept = good.keep!;
    expect(kept.size).toBeGreaterThan(agentCp.index);
    // By global index too, and a second monitor run passes consistency against what it kept.
    const recordIndex = stepOf(good, "record").detail!["index"] as number;
    const again = await auditRecord({ ...base, target: { index: recordIndex }, kept });
    expect(again.ok, describeReport(again)).toBe(true);
    expect(stepOf(again, "consistency").status).toBe("ok");

    // An index that holds no record (entry 0 is a's enrollment key entry) fails `record` by name.
    const notRecord = await auditRecord({ ...base, target: { index: 0 } });
    expect(notRecord.failure).toMatchObject({ step: "record", reason: expect.stringContaining("is a key entry, not a record") });

    // a's log grows and a newer agent checkpoint lands after the cosigned checkpoint: the audit
    // takes the newest agent checkpoint that the cosigned checkpoint commits.
    const more = [4, 5].map((seq) => sealed(a, seq));
    sa.send({ v: 1, type: "records", lamport: 5, records: more.map(recordToWire) });
    await sa.next("ack", (m) => m.nextSeq === 6);
    await new Promise((r) => setTimeout(r, 5200)); // one accepted agent checkpoint per 5 s
    sa.send({ v: 1, type: "agent_checkpoint", lamport: 6, note: agentCheckpointNote(origin, a, [...records, ...more]) });
    const newer = await until("the newer agent checkpoint in a signed checkpoint", async () => {
      const res = await get(`/v1/log/agents/${a.agentId}/checkpoint`);
      const doc = res.status === 200 ? ((await res.json()) as { index: number; size: number }) : undefined;
      const cp = await latestCheckpoint(logKey);
      return doc && doc.size === 6 && cp && cp.size > doc.index ? doc : undefined;
    });
    const agentCheckpointAsks: string[] = [];
    const recording: FetchFunction = (input, init) => {
      const url = new URL(input);
      if (url.pathname.endsWith(`/agents/${a.agentId}/checkpoint`)) agentCheckpointAsks.push(url.search);
      return workerFetch(input, init);
    };
    const lagging = await auditRecord({ ...base, fetch: recording, kept });
    expect(lagging.ok, describeReport(lagging)).toBe(true);
    expect(stepOf(lagging, "witnesses").detail).toMatchObject({ checkpointSize: kept.size });
    expect(stepOf(lagging, "agent-checkpoint").detail).toMatchObject({ size: 4, index: agentCp.index });
    expect(newer.index).toBeGreaterThanOrEqual(kept.size);
    // Asked with ?before=<audited size> (no scan of the entries).
    expect(agentCheckpointAsks).toEqual([`?fleet=${FLEET}`, `?fleet=${FLEET}&before=${kept.size}`]);
    // Monitor mode after the fallback: the state advances to (stays at) the cosigned checkpoint,
    // never to the newer latest that no quorum has seen (a split view must not become the anchor).
    const latestNow = (await latestCheckpoint(logKey))!;
    expect(latestNow.size).toBeGreaterThan(kept.size);
    expect(stepOf(lagging, "consistency")).toMatchObject({ status: "ok", detail: { keptSize: kept.size, size: kept.size } });
    expect(lagging.keep).toMatchObject({ size: kept.size, root: kept.root });
    expect(parseKeptState(formatKeptState(lagging.keep!, Date.now())).size).toBe(kept.size);
    const firstRunLagging = await auditRecord({ ...base, kept: null });
    expect(firstRunLagging.keep?.size, describeReport(firstRunLagging)).toBe(kept.size);
    // A state kept by a run without witnesses (the latest) is ahead of the cosigned one: checked as
    // its extension and kept as is, not moved back.
    const unwitnessed = await auditRecord({ ...base, witnesses: [], quorum: 0, kept: null });
    expect(unwitnessed.keep?.size).toBe(latestNow.size);
    const ahead = await auditRecord({ ...base, kept: unwitnessed.keep! });
    expect(stepOf(ahead, "consistency"), describeReport(ahead)).toMatchObject({ status: "ok", detail: { keptSize: latestNow.size, size: kept.size } });
    expect(ahead.keep?.size).toBe(latestNow.size);
    // Without witnesses the latest checkpoint commits the newer one.
    const latestOnly = await auditRecord({ ...base, witnesses: [], quorum: 0, target: { agentId: a.agentId, seq: 5 } });
    expect(latestOnly.ok, describeReport(latestOnly)).toBe(true);
    expect(stepOf(latestOnly, "agent-checkpoint").detail).toMatchObject({ size: 6, index: newer.index });

    // A kept state whose root was edited, or whose note another key signed: consistency fails.
    const forgedRoot = await auditRecord({ ...base, kept: { ...kept, root: encodeBase64(new Uint8Array(32).fill(1)) } });
    expect(forgedRoot.failure?.step).toBe("consistency");
    const otherKey = parseSignerKey(generateSignerKey(logKey.name, new Uint8Array(32).fill(9)).signerKey);
    const otherBody = `${kept.origin}\n${kept.size}\n${encodeBase64(new Uint8Array(32).fill(2))}\n`;
    const otherNote = signNote(otherBody, [otherKey]);
    const forgedNote = await auditRecord({ ...base, kept: { ...kept, root: encodeBase64(new Uint8Array(32).fill(2)), note: otherNote } });
    expect(forgedNote.failure?.step).toBe("consistency");
    expect(forgedNote.failure?.reason).toContain("does not verify under the log key");

    // In transit: the record's entry bytes altered (one signature byte) → not in the signed tree.
    const alteredEntry = await auditRecord({
      ...base,
      fetch: tamper(
        (u) => u.pathname === "/v1/log/entries" && u.searchParams.get("start") === String(recordIndex),
        (page) => {
          const leaf = decodeBase64(page.entries[0].leaf);
          leaf[leaf.length - 1] ^= 1;
          page.entries[0].leaf = encodeBase64(leaf);
          return page;
        },
      ),
    });
    expect(alteredEntry.failure?.step, describeReport(alteredEntry)).toBe("global-inclusion");
    expect(stepOf(alteredEntry, "device-signature").status).toBe("failed");

    // In transit: the proof swapped for one of another leaf (with the same answer shape) → caught.
    const swappedProof = await auditRecord({
      ...base,
      fetch: tamper(
        (u) => u.pathname === "/v1/log/proof/inclusion" && u.searchParams.get("index") === String(recordIndex),
        (doc) => ({ ...doc, proof: doc.proof.map((h: string) => encodeBase64(decodeBase64(h).map((x) => x ^ 0xff))) }),
      ),
    });
    expect(swappedProof.failure?.step).toBe("global-inclusion");

    // In transit: the enrollment entry removed from the key history → no key valid for the record.
    const keyRemoved = await auditRecord({
      ...base,
      fetch: tamper(
        (u) => u.pathname.endsWith("/keys"),
        (doc) => ({ ...doc, keys: doc.keys.filter((k: { event: string }) => k.event !== "enrolled") }),
      ),
    });
    expect(keyRemoved.failure?.step, describeReport(keyRemoved)).toBe("key");
    expect(stepOf(keyRemoved, "device-signature").status).toBe("skipped");

    // In transit: another agent's key answered as a's (its entries do not say so) → key fails.
    const keySwapped = await auditRecord({
      ...base,
      fetch: tamper(
        (u) => u.pathname.endsWith("/keys"),
        (doc) => ({ ...doc, keys: doc.keys.map((k: { publicKey: string }) => ({ ...k, publicKey: encodeBase64(b.publicKey) })) }),
      ),
    });
    expect(keySwapped.failure?.step).toBe("key");

    // In transit: the agent checkpoint's note swapped for one signed by another key → agent-checkpoint.
    const agentNoteSwapped = await auditRecord({
      ...base,
      fetch: tamper(
        (u) => u.pathname.endsWith("/checkpoint") && u.pathname.includes("/agents/"),
        (doc) => ({ ...doc, note: agentCheckpointNote(origin, { ...a, secretKey: b.secretKey }, records) }),
      ),
    });
    expect(agentNoteSwapped.failure?.step).toBe("agent-checkpoint");

    // The edge's storage rewritten: a record of a's with a signature by another key, appended
    // straight into the global log and checkpointed with the log key → device-signature.
    const forged = sealed(a, 9, b.secretKey);
    await runInDurableObject(stub(), (_instance, state) => {
      const log = new GlobalLog(state.storage.sql);
      state.storage.transactionSync(() => expect(log.append(forged, Date.now()).kind).toBe("appended"));
      log.publishCheckpoint(origin, parseSignerKey(env.LOG_SIGNING_KEY!), Date.now() + 10_000);
    });
    await abortAllDurableObjects();
    const badSignature = await auditRecord({ ...base, witnesses: [], quorum: 0, target: { agentId: a.agentId, seq: 9 } });
    expect(badSignature.failure?.step, describeReport(badSignature)).toBe("device-signature");
    expect(stepOf(badSignature, "global-inclusion").status).toBe("ok");
    expect(stepOf(badSignature, "key").status).toBe("ok");

    // The edge's storage: a's enrollment row deleted from key_events, so /keys no longer lists it.
    await runInDurableObject(stub(), (_instance, state) => {
      state.storage.sql.exec(`DELETE FROM key_events WHERE agent_id = ? AND log_index = (SELECT MIN(log_index) FROM key_events WHERE agent_id = ?)`, a.agentId, a.agentId);
    });
    await abortAllDurableObjects();
    const keyRowDeleted = await auditRecord({ ...base, witnesses: [], quorum: 0 });
    expect(keyRowDeleted.failure?.step, describeReport(keyRowDeleted)).toBe("key");

    // A fork: the stored tree rewritten (leaf 0 replaced, one leaf more) and signed with the log key.
    // The signature is fine; the tree does not extend what the monitor kept nor what a and b cosigned.
    await runInDurableObject(stub(), (_instance, state) => {
      const sql = state.storage.sql;
      const leaves = sql
        .exec<{ idx: number; data: ArrayBuffer }>(`SELECT idx, data FROM log_entries UNION ALL SELECT idx, data FROM log_other_entries ORDER BY idx`)
        .toArray()
        .map((row) => new Uint8Array(row.data));
      state.storage.transactionSync(() => {
        sql.exec(`DELETE FROM log_nodes`);
        sql.exec(`UPDATE meta SET value = '0' WHERE key = 'log_size'`);
        const tree = MerkleTree.open(new SqlNodeStore(sql));
        tree.appendMany([new TextEncoder().encode("rewritten history"), ...leaves.slice(1), new TextEncoder().encode("one more")]);
      });
      new GlobalLog(sql).publishCheckpoint(origin, parseSignerKey(env.LOG_SIGNING_KEY!), Date.now() + 20_000);
    });
    await abortAllDurableObjects();
    const fork = await auditRecord({ ...base, kept });
    expect(fork.ok).toBe(false);
    expect(stepOf(fork, "global-checkpoint").status).toBe("ok");
    expect(stepOf(fork, "consistency").status, describeReport(fork)).toBe("failed");
    expect(stepOf(fork, "witnesses").status, describeReport(fork)).toBe("failed");
    expect(stepOf(fork, "witnesses").reason).toContain("does not extend");
    expect(fork.keep).toBeUndefined();
  }, 60_000);

  it("an agent checkpoint that rewrites the agent's history is refused and quarantines the agent", async () => {
    const fleet = "audit-rewrite";
    const a = await enrollAgent(fleet, "liar");
    const logKey = parseVerifierKey((await (await exports.default.fetch(`${EDGE}/v1/log/key`)).text()).trim());
    const sa = await open(a, 1);
    const records = [0, 1].map((seq) => sealed(a, seq));
    sa.send({ v: 1, type: "records", lamport: 2, records: records.map(recordToWire) });
    await sa.next("ack", (m) => m.nextSeq === 2);
    const note = await (async () => {
      for (let i = 0; i < 200; i++) {
        const res = await exports.default.fetch(`${EDGE}/v1/log/checkpoint?fleet=${fleet}`);
        if (res.status === 200) return res.text();
        await runDurableObjectAlarm(env.FLEET.get(env.FLEET.idFromName(fleet)));
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error("no checkpoint");
    })();
    const origin = openCheckpoint(note, [logKey]).checkpoint.origin;
    // The same key, the same size, another history (record 1 replaced).
    const rewritten = [records[0]!, sealRecord({ ...records[1]!, payloadJson: '{"seq":"other"}' }, a.secretKey)];
    const mark = sa.mark();
    sa.send({ v: 1, type: "agent_checkpoint", lamport: 3, note: agentCheckpointNote(origin, a, rewritten) });
    const error = await sa.next("error", (e) => e.code === "agent_log_inconsistent", mark);
    expect(error.code).toBe("agent_log_inconsistent");
    const view = await agentView(a);
    expect(view["quarantine"]?.reason).toContain("agent log inconsistent");
  });
});

