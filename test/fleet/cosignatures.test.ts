import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { openCheckpoint, witnessName } from "../../shared/checkpoint/index.js";
import { cosign, cosignatureVerifier } from "../../shared/note/cosignature.js";
import { generateSignerKey, openNote, parseNote, parseSignerKey, parseVerifierKey } from "../../shared/note/index.js";
import { acceptCosignature, COSIGNED_SIZES_KEPT, cosignaturesOf } from "../../edge/fleet/cosignatures.js";
import { publishedCheckpoint, PUBLISHED_COSIGNATURES_MAX } from "../../edge/fleet/published-checkpoint.js";
import { logOf, openFleetDb, RecordingSocket } from "./fleet-fixture.js";
import { receiveCosignature } from "../../edge/fleet/cosignatures-session.js";
import type { ConnectionState } from "../../edge/fleet/connection.js";
import type { AgentRow } from "../../edge/fleet/registry.js";
import { AGENT_LOG_INCONSISTENT } from "../../edge/fleet/standing.js";
import { bytesToBase64, bytesToBase64Url } from "../../shared/protocol/index.js";

const ORIGIN = "edge.test/fleet/f";
const keys = generateSignerKey("fleet-test", new Uint8Array(32).fill(3));

/** A fleet database whose log has `sizes` checkpoints (of 1, 2, … key entries), and `n` witnesses. */
function setup(sizes: number, n: number) {
  const db = openFleetDb();
  const log = logOf(db);
  const signer = parseSignerKey(keys.signerKey);
  const publicKey = ed25519.getPublicKey(new Uint8Array(32).fill(4));
  for (let size = 1; size <= sizes; size++) {
    db.transaction(() => log.appendEntry({ type: "key", event: "enrolled", agentId: `ag_${size}`, publicKey, timestamp: size }, size));
    db.transaction(() => log.publishCheckpoint(ORIGIN, signer, size * 10_000));
  }
  const witnesses = Array.from({ length: n }, (_, i) => {
    const secretKey = new Uint8Array(32).fill(10 + i);
    return { id: `ag_${i.toString(16).padStart(32, "0")}`, secretKey, publicKey: ed25519.getPublicKey(secretKey) };
  });
  const checkpoint = (size: number) => db.sql.exec<{ root: ArrayBuffer; note: string }>(`SELECT root, note FROM checkpoints WHERE size = ?`, size).toArray()[0]!;
  const cosignature = (w: (typeof witnesses)[number], size: number, timestamp = 1_800_000_000) =>
    cosign(parseNote(checkpoint(size).note).text, witnessName(ORIGIN, w.id), w.publicKey, timestamp, (m) => ed25519.sign(m, w.secretKey));
  const accept = (w: (typeof witnesses)[number], size: number, now: number, signature = cosignature(w, size)) =>
    db.transaction(() => acceptCosignature(db.sql, ORIGIN, w, { size, root: new Uint8Array(checkpoint(size).root), signature }, now));
  return { db, witnesses, cosignature, accept };
}

describe("cosignatures", () => {
  it("stores a verifying cosignature of a signed checkpoint, refuses unknown checkpoints and bad signatures, keeps the newest by timestamp", () => {
    const { db, witnesses, cosignature, accept } = setup(3, 2);
    const [a, b] = witnesses as [(typeof witnesses)[number], (typeof witnesses)[number]];
    expect(accept(a, 2, 100)).toEqual({ kind: "stored", timestamp: 1_800_000_000 });
    const root = new Uint8Array(db.sql.exec<{ root: ArrayBuffer }>(`SELECT root FROM checkpoints WHERE size = 2`).toArray()[0]!.root);
    const claim = (size: number, signature: Uint8Array, r = root) => acceptCosignature(db.sql, ORIGIN, a, { size, root: r, signature }, 200);
    expect(claim(9, cosignature(a, 2))).toMatchObject({ kind: "unknown_checkpoint" });
    expect(claim(2, cosignature(a, 2), new Uint8Array(32))).toMatchObject({ kind: "unknown_checkpoint" });
    expect(claim(2, cosignature(b, 2))).toMatchObject({ kind: "bad_cosignature" });
    expect(claim(2, cosignature(a, 3))).toMatchObject({ kind: "bad_cosignature" });
    expect(claim(2, cosignature(a, 2).slice(0, 75))).toMatchObject({ kind: "bad_cosignature" });
    // An older timestamp does not replace a newer one; a newer does.
    expect(accept(a, 2, 300, cosignature(a, 2, 1_700_000_000))).toMatchObject({ kind: "stored" });
    expect(cosignaturesOf(db.sql, 2, undefined, 48).map((c) => [c.timestamp, c.receivedAt])).toEqual([[1_800_000_000, 100]]);
    expect(accept(a, 2, 400, cosignature(a, 2, 1_900_000_000))).toMatchObject({ kind: "stored" });
    expect(cosignaturesOf(db.sql, 2, undefined, 48).map((c) => [c.timestamp, c.receivedAt])).toEqual([[1_900_000_000, 400]]);
    db.close();
  });

  it(`keeps the cosignatures of the newest ${COSIGNED_SIZES_KEPT} cosigned sizes`, () => {
    const sizes = COSIGNED_SIZES_KEPT + 6;
    const { db, witnesses, accept } = setup(sizes, 1);
    for (let size = 1; size <= sizes; size++) expect(accept(witnesses[0]!, size, size).kind).toBe("stored");
    const kept = db.sql.exec<{ size: number }>(`SELECT DISTINCT size FROM cosignatures ORDER BY size`).toArray().map((r) => r.size);
    expect(kept).toEqual(Array.from({ length: COSIGNED_SIZES_KEPT }, (_, i) => sizes - COSIGNED_SIZES_KEPT + 1 + i));
    db.close();
  });

  it(`publishes at most ${PUBLISHED_COSIGNATURES_MAX} lines, most recently received first, and the note opens with every key`, () => {
    const { db, witnesses, accept } = setup(2, PUBLISHED_COSIGNATURES_MAX + 2);
    witnesses.forEach((w, i) => expect(accept(w, 2, 1_000 + i).kind).toBe("stored"));
    const published = publishedCheckpoint(db.sql, ORIGIN, {});
    if (!published.ok) throw new Error(published.error.message);
    expect(published.value.cosigners).toEqual(witnesses.slice(2).reverse().map((w) => w.id));
    const log = parseVerifierKey(keys.verifierKey);
    expect(openCheckpoint(published.value.note, [log]).checkpoint.size).toBe(2);
    const opened = openNote(published.value.note, [log, ...witnesses.map((w) => cosignatureVerifier(witnessName(ORIGIN, w.id), w.publicKey))]);
    expect(opened.verified).toHaveLength(PUBLISHED_COSIGNATURES_MAX + 1);
    // Witnesses and quorum.
    const only = publishedCheckpoint(db.sql, ORIGIN, { witnesses: [witnesses[0]!.id, witnesses[1]!.id], quorum: 2 });
    expect(only.ok && only.value).toMatchObject({ size: 2, cosigners: [witnesses[1]!.id, witnesses[0]!.id] });
    expect(publishedCheckpoint(db.sql, ORIGIN, { size: 1 })).toMatchObject({ ok: true, value: { size: 1, cosigners: [] } });
    expect(publishedCheckpoint(db.sql, ORIGIN, { size: 1, quorum: 1 })).toMatchObject({ ok: false, error: { code: "checkpoint_not_found", message: "checkpoint 1 has fewer than 1 cosignatures" } });
    expect(publishedCheckpoint(db.sql, ORIGIN, { quorum: 48, witnesses: ["ag_nobody"] })).toMatchObject({ ok: false, error: { status: 404, code: "checkpoint_not_found" } });
    expect(publishedCheckpoint(db.sql, ORIGIN, { size: 5 })).toMatchObject({ ok: false, error: { status: 404, code: "checkpoint_not_found" } });
    db.close();
  });
});

describe("cosignatures over the session", () => {
  it("an agent quarantined for an inconsistent log is no witness: refused, nothing stored", () => {
    const { db, witnesses, cosignature } = setup(2, 1);
    const w = witnesses[0]!;
    const ws = new RecordingSocket();
    const state: ConnectionState = { agentId: w.id, connectedAt: 0, helloed: true, strikes: 0, strikeWindowStart: 0 };
    const root = new Uint8Array(db.sql.exec<{ root: ArrayBuffer }>(`SELECT root FROM checkpoints WHERE size = 2`).toArray()[0]!.root);
    const message = { v: 1 as const, type: "cosignature" as const, lamport: 1, size: 2, root: bytesToBase64(root), signature: bytesToBase64(cosignature(w, 2)) };
    const agent = { id: w.id, public_key_x: bytesToBase64Url(w.publicKey), quarantine_reason: AGENT_LOG_INCONSISTENT } as AgentRow;
    receiveCosignature(ws, state, db, ORIGIN, agent, message, 100);
    expect(ws.of("error")).toEqual([expect.objectContaining({ code: "unknown_checkpoint", ref: "cosignature" })]);
    expect(cosignaturesOf(db.sql, 2, undefined, 10)).toEqual([]);
    // The same cosignature from the agent in good standing is stored.
    receiveCosignature(ws, state, db, ORIGIN, { ...agent, quarantine_reason: null }, message, 200);
    expect(ws.of("error")).toHaveLength(1);
    expect(cosignaturesOf(db.sql, 2, undefined, 10)).toHaveLength(1);
  });
});
