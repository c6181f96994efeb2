/**
 * Keys in the log, agents as witnesses, and proofs only for signed sizes, against the real Worker and
 * Fleet object in workerd: enrollment, approval and revocation are key entries (0x03) of the global
 * log, included in its signed checkpoints, and served as an agent's key history; agents' cosignatures
 * (C2SP cosignature/v1) are judged, stored and published with the checkpoint, which still opens
 * with the log key alone (docs/api.md, "The global log"; docs/protocol.md, `cosignature`).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { agentLogOrigin, openCheckpoint, witnessName, type Checkpoint } from "../../shared/checkpoint/index.js";
import { decodeBase64, encodeBase64 } from "../../shared/encoding/base64.js";
import { decodeLogEntry, hashLeaf, verifyInclusion } from "../../shared/log/index.js";
import { cosign, cosignatureVerifier, parseCosignerKey } from "../../shared/note/cosignature.js";
import { NoteError, openNote, parseNote, parseVerifierKey, type NoteVerifier } from "../../shared/note/index.js";
import { bytesToBase64Url } from "../../shared/protocol/index.js";
import { agentIdForKey } from "../../edge/fleet/registry.js";
import { ADMIN, enrollAgent, open, type Session, type TestAgent } from "./fleet-agent.js";

const EDGE = "http://edge.test";

async function get(path: string): Promise<Response> {
  return exports.default.fetch(`${EDGE}${path}`);
}

async function json(path: string): Promise<{ status: number; body: any }> {
  const res = await get(path);
  return { status: res.status, body: await res.json() };
}

async function logKey(): Promise<NoteVerifier> {
  return parseVerifierKey((await (await get("/v1/log/key")).text()).trim());
}

/** The latest checkpoint once it covers `size` entries (checkpoints follow appends within a second). */
async function checkpointCovering(fleet: string, size: number): Promise<{ note: string; checkpoint: Checkpoint }> {
  const verifier = await logKey();
  for (let waited = 0; waited < 10_000; waited += 50) {
    const note = await (await get(`/v1/log/checkpoint?fleet=${fleet}`)).text();
    const { checkpoint } = openCheckpoint(note, [verifier]);
    if (checkpoint.size >= size) return { note, checkpoint };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no checkpoint of ${size} entries in ${fleet}`);
}

async function post(path: string): Promise<Response> {
  return exports.default.fetch(`${EDGE}${path}`, { method: "POST", headers: ADMIN });
}

/** The agent's cosignature of a checkpoint, as an agent makes it (noble here, node:crypto on devices). */
function cosignature(agent: TestAgent, origin: string, checkpointNote: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const body = parseNote(checkpointNote).text;
  return encodeBase64(cosign(body, witnessName(origin, agent.agentId), agent.publicKey, timestamp, (m) => ed25519.sign(m, agent.secretKey)));
}

let lamport = 100;

/** Sends a cosignature, then a ping: the pong means the edge has handled the cosignature. */
async function sendCosignature(session: Session, checkpoint: Checkpoint, signature: string, root = checkpoint.root): Promise<void> {
  const nonce = crypto.randomUUID();
  session.send({ v: 1, type: "cosignature", lamport: ++lamport, size: checkpoint.size, root: encodeBase64(root), signature });
  session.send({ v: 1, type: "ping", nonce });
  await session.next("pong", (p) => p.nonce === nonce);
}

describe("keys in the log", () => {
  it("enrollment, approval and revocation append key entries with the agent's key, included in the signed log, served as its key history", async () => {
    const fleet = "w-keys";
    const active = await enrollAgent(fleet, "active");
    const pending = await enrollAgent(fleet, "pending", { requireApproval: true });
    expect((await post(`/v1/agents/${pending.agentId}/approve?fleet=${fleet}`)).status).toBe(200);
    expect((await post(`/v1/agents/${active.agentId}/revoke?fleet=${fleet}`)).status).toBe(200);
    // Approving an active agent or revoking a revoked one again appends nothing.
    expect((await post(`/v1/agents/${pending.agentId}/approve?fleet=${fleet}`)).status).toBe(200);
    expect((await post(`/v1/agents/${active.agentId}/revoke?fleet=${fleet}`)).status).toBe(200);

    // In log order: the active agent's enrolled + approved (one enrollment), the pending one's
    // enrolled, its approval, the revocation.
    const expected: [TestAgent, string][] = [
      [active, "enrolled"],
      [active, "approved"],
      [pending, "enrolled"],
      [pending, "approved"],
      [active, "revoked"],
    ];
    const page = await json(`/v1/log/entries?fleet=${fleet}&start=0&end=100`);
    expect(page.body.size).toBe(expected.length);
    const entries = page.body.entries as { index: number; type: string; agentId: string; leaf: string; key: { event: string; publicKey: string; timestamp: number } }[];
    for (const [i, [agent, event]] of expected.entries()) {
      const entry = entries[i]!;
      expect(entry).toMatchObject({ index: i, type: "key", agentId: agent.agentId, key: { event, publicKey: encodeBase64(agent.publicKey) } });
      // The bytes say what the JSON says.
      const decoded = decodeLogEntry(decodeBase64(entry.leaf));
      expect(decoded).toMatchObject({ type: "key", event, agentId: agent.agentId, timestamp: entry.key.timestamp });
      if (decoded.type === "key") expect(encodeBase64(decoded.publicKey)).toBe(encodeBase64(agent.publicKey));
    }

    // Every key entry is proven included in a checkpoint signed by the log key.
    const { checkpoint } = await checkpointCovering(fleet, expected.length);
    for (const entry of entries) {
      const proof = await json(`/v1/log/proof/inclusion?fleet=${fleet}&index=${entry.index}&size=${checkpoint.size}`);
      expect(proof.status).toBe(200);
      verifyInclusion(hashLeaf(decodeBase64(entry.leaf)), entry.index, checkpoint.size, (proof.body.proof as string[]).map(decodeBase64), checkpoint.root);
    }

    // The key history route: the same entries, and the agent's two verifier keys.
    const keys = await json(`/v1/log/agents/${active.agentId}/keys?fleet=${fleet}`);
    expect(keys.status).toBe(200);
    expect(keys.body).toMatchObject({
      agentId: active.agentId,
      origin: agentLogOrigin(checkpoint.origin, active.agentId),
      witness: witnessName(checkpoint.origin, active.agentId),
      keys: [
        { event: "enrolled", index: 0, publicKey: encodeBase64(active.publicKey), at: entries[0]!.key.timestamp },
        { event: "approved", index: 1, publicKey: encodeBase64(active.publicKey) },
        { event: "revoked", index: 4, publicKey: encodeBase64(active.publicKey) },
      ],
    });
    expect(keys.body.keys).toHaveLength(3);
    const verifier = parseVerifierKey(keys.body.verifierKey);
    expect(verifier.name).toBe(agentLogOrigin(checkpoint.origin, active.agentId));
    expect(encodeBase64(verifier.publicKey)).toBe(encodeBase64(active.publicKey));
    const cosigner = parseCosignerKey(keys.body.cosignerKey);
    expect([cosigner.name, cosigner.keyId]).toEqual([keys.body.witness, cosignatureVerifier(keys.body.witness, active.publicKey).keyId]);
    expect((await json(`/v1/log/agents/${pending.agentId}/keys?fleet=${fleet}`)).body.keys.map((k: { index: number }) => k.index)).toEqual([2, 3]);

    const unknown = await json(`/v1/log/agents/ag_${"0".repeat(32)}/keys?fleet=${fleet}`);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "agent_not_found"]);
  });
});

describe("keys of agents enrolled before keys were logged", () => {
  it("are appended once, on the first wake-up, at the registry's times, and signed", async () => {
    const fleet = "w-backfill";
    await enrollAgent(fleet, "new");
    // Signed, so no checkpoint is pending when the older agent's entries appear.
    await checkpointCovering(fleet, 2);
    // What an older edge left: an agent row and no key entry.
    const publicKey = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    const agentId = agentIdForKey(publicKey);
    const stub = env.FLEET.get(env.FLEET.idFromName(fleet));
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec(
        `INSERT INTO agents (id, public_key_x, name, status, token_id, enrolled_at, approved_at, revoked_at) VALUES (?, ?, 'old', 'revoked', 'tok_old', 1000, 2000, 3000)`,
        agentId,
        bytesToBase64Url(publicKey),
      );
    });
    await abortAllDurableObjects();
    const keys = await json(`/v1/log/agents/${agentId}/keys?fleet=${fleet}`);
    expect(keys.body.keys).toEqual([
      { event: "enrolled", publicKey: encodeBase64(publicKey), index: 2, at: 1000 },
      { event: "approved", publicKey: encodeBase64(publicKey), index: 3, at: 2000 },
      { event: "revoked", publicKey: encodeBase64(publicKey), index: 4, at: 3000 },
    ]);
    // The alarm signs them without any other traffic.
    const { checkpoint } = await checkpointCovering(fleet, 5);
    expect(checkpoint.size).toBe(5);
    // Once: another wake-up appends nothing.
    await abortAllDurableObjects();
    expect((await json(`/v1/log/agents/${agentId}/keys?fleet=${fleet}`)).body.keys).toHaveLength(3);
    expect((await json(`/v1/log/entries?fleet=${fleet}&start=0&end=0`)).body.size).toBe(5);
  }, 20_000);
});

describe("agents as witnesses", () => {
  it("accepts cosignatures of signed checkpoints by active agents, publishes them on the note, and filters by witnesses and quorum", async () => {
    const fleet = "w-witness";
    const a = await enrollAgent(fleet, "a");
    const b = await enrollAgent(fleet, "b");
    const first = await checkpointCovering(fleet, 4);
    const origin = first.checkpoint.origin;
    const [sa, sb] = [await open(a, 1), await open(b, 1)];
    await sendCosignature(sa, first.checkpoint, cosignature(a, origin, first.note));
    // Apart in time: the published lines put the most recently received first.
    await new Promise((r) => setTimeout(r, 20));
    await sendCosignature(sb, first.checkpoint, cosignature(b, origin, first.note));
    expect([...sa.of("error"), ...sb.of("error")]).toEqual([]);

    // A later checkpoint (a third agent's key entries), cosigned by a only.
    const c = await enrollAgent(fleet, "c");
    const second = await checkpointCovering(fleet, 6);
    await sendCosignature(sa, second.checkpoint, cosignature(a, origin, second.note));
    expect(sa.of("error")).toEqual([]);

    const log = await logKey();
    const witnesses = [a, b, c].map((agent) => cosignatureVerifier(witnessName(origin, agent.agentId), agent.publicKey));
    const cosignedBy = (note: string) =>
      openNote(note, [log, ...witnesses])
        .verified.map((s) => s.name)
        .filter((name) => name !== log.name);
    const witnessOf = (agent: TestAgent) => witnessName(origin, agent.agentId);
    const read = async (query: string) => {
      const res = await get(`/v1/log/checkpoint?fleet=${fleet}${query}`);
      const note = await res.text();
      return { status: res.status, note, type: res.headers.get("Content-Type") };
    };

    // The latest: a's cosignature line after the log's signature. It still opens with the log key alone
    // (the cosignature lines are by keys that verifier does not know).
    const latest = await read("");
    expect(latest.type).toMatch(/^text\/plain/);
    expect(openCheckpoint(latest.note, [log]).checkpoint).toMatchObject({ size: second.checkpoint.size, origin });
    expect(latest.note.startsWith(second.note)).toBe(true);
    expect(cosignedBy(latest.note)).toEqual([witnessOf(a)]);
    // By size: the first checkpoint with both, most recent cosigner first.
    expect(cosignedBy((await read(`&size=${first.checkpoint.size}`)).note)).toEqual([witnessOf(b), witnessOf(a)]);
    // Only the witnesses asked for.
    expect(cosignedBy((await read(`&size=${first.checkpoint.size}&witnesses=${b.agentId}`)).note)).toEqual([witnessOf(b)]);
    expect(parseNote((await read(`&witnesses=${b.agentId}`)).note).signatures).toHaveLength(1);
    // A quorum: the newest checkpoint with at least k of them.
    const quorum2 = await read(`&witnesses=${a.agentId},${b.agentId}&quorum=2`);
    expect(openCheckpoint(quorum2.note, [log]).checkpoint.size).toBe(first.checkpoint.size);
    expect(cosignedBy(quorum2.note)).toEqual([witnessOf(b), witnessOf(a)]);
    expect(openCheckpoint((await read(`&witnesses=${a.agentId}&quorum=1`)).note, [log]).checkpoint.size).toBe(second.checkpoint.size);
    expect(openCheckpoint((await read(`&quorum=2`)).note, [log]).checkpoint.size).toBe(first.checkpoint.size);
    const none = await json(`/v1/log/checkpoint?fleet=${fleet}&witnesses=${c.agentId}&quorum=1`);
    expect([none.status, none.body.error.code]).toEqual([404, "checkpoint_not_found"]);
    const missing = await json(`/v1/log/checkpoint?fleet=${fleet}&size=99999`);
    expect([missing.status, missing.body.error.code]).toEqual([404, "checkpoint_not_found"]);
    for (const query of [`witnesses=${a.agentId}&quorum=2`, "quorum=0", "witnesses=", "witnesses=nope", `witnesses=${"ag_".padEnd(35, "0")},x`]) {
      const bad = await json(`/v1/log/checkpoint?fleet=${fleet}&${query}`);
      expect([bad.status, bad.body.error.code], query).toEqual([400, "bad_query"]);
    }
    for (const s of [sa, sb]) s.ws.close();
  });

  it("refuses cosignatures of checkpoints the edge never signed (no strike) and ones that do not verify (a strike); stores nothing for them", async () => {
    const fleet = "w-cosign-refused";
    const a = await enrollAgent(fleet, "a");
    const stranger = await enrollAgent("w-cosign-elsewhere", "s");
    const { note, checkpoint } = await checkpointCovering(fleet, 2);
    const origin = checkpoint.origin;
    const session = await open(a, 1);
    const errors = () => session.of("error").map((e) => [e.code, e.ref]);

    // A size it never signed, and a root it never signed at a signed size: unknown_checkpoint, 12 times
    // (more than the 10 strikes that close a socket): the socket stays open.
    for (let i = 0; i < 6; i++) {
      await sendCosignature(session, { ...checkpoint, size: 99_999 }, cosignature(a, origin, note));
      await sendCosignature(session, checkpoint, cosignature(a, origin, note), new Uint8Array(32).fill(i));
    }
    expect(errors()).toEqual(Array.from({ length: 12 }, () => ["unknown_checkpoint", "cosignature"]));
    expect(session.closed).toBeUndefined();

    // Signed by another key, under another name, over another text, or altered: bad_cosignature.
    const otherBody = note.replace(`\n${checkpoint.size}\n`, `\n${checkpoint.size + 1}\n`);
    const altered = decodeBase64(cosignature(a, origin, note));
    altered[40] ^= 0x01;
    const forged = [
      cosignature({ ...a, secretKey: stranger.secretKey }, origin, note),
      encodeBase64(cosign(parseNote(note).text, `${origin}/witness/other`, a.publicKey, 1, (m) => ed25519.sign(m, a.secretKey))),
      encodeBase64(cosign(otherBody.slice(0, otherBody.indexOf("\n\n") + 1), witnessName(origin, a.agentId), a.publicKey, 1, (m) => ed25519.sign(m, a.secretKey))),
      encodeBase64(altered),
    ];
    for (const signature of forged) await sendCosignature(session, checkpoint, signature);
    expect(errors().slice(12)).toEqual(forged.map(() => ["bad_cosignature", "cosignature"]));

    // Nothing was stored: the published note carries the log's signature only.
    const published = await (await get(`/v1/log/checkpoint?fleet=${fleet}&size=${checkpoint.size}`)).text();
    expect(parseNote(published).signatures).toHaveLength(1);
    expect(() => openNote(published, [cosignatureVerifier(witnessName(origin, a.agentId), a.publicKey)])).toThrow(NoteError);
    session.ws.close();
  });
});

describe("proofs only for signed sizes", () => {
  it("explicit size, from and to must be sizes of signed checkpoints: 400 unsigned_size otherwise; defaults stay the latest", async () => {
    const fleet = "w-unsigned";
    // One enrollment appends two key entries in one step: the checkpoints are of sizes 0 and 2, never 1.
    await enrollAgent(fleet, "a");
    const { checkpoint } = await checkpointCovering(fleet, 2);
    expect(checkpoint.size).toBe(2);
    for (const path of ["proof/inclusion?index=0&size=1", "proof/inclusions?indices=0&size=1", "proof/consistency?from=1", "proof/consistency?from=0&to=1", "proof/consistency?from=1&to=2"]) {
      const res = await json(`/v1/log/${path}&fleet=${fleet}`);
      expect([res.status, res.body.error.code], path).toEqual([400, "unsigned_size"]);
      expect(res.body.error.message).toBe("no signed checkpoint has size 1; the latest is 2");
      expect(res.body.error.details).toEqual({ size: 1, latest: 2 });
    }
    for (const path of ["proof/inclusion?index=1&size=2", "proof/inclusion?index=1", "proof/inclusions?indices=0,1&size=2", "proof/consistency?from=2&to=2", "proof/consistency?from=2"]) {
      expect((await get(`/v1/log/${path}&fleet=${fleet}`)).status, path).toBe(200);
    }
  });
});
