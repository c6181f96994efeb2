import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { agentLogOrigin, witnessName } from "../../shared/checkpoint/index.js";
import { encodeBase64 } from "../../shared/encoding/base64.js";
import { decodeLogEntry } from "../../shared/log/index.js";
import { parseCosignerKey } from "../../shared/note/cosignature.js";
import { parseVerifierKey } from "../../shared/note/index.js";
import { base64ToBytes, bytesToBase64Url } from "../../shared/protocol/index.js";
import { agentKeys, appendKeyEvent, backfillKeyHistory, inKeyTransaction, keyHistory } from "../../edge/fleet/key-history.js";
import { approveAgent, enroll, enrollAgent, issueToken, revokeAgent } from "../../edge/fleet/registry.js";
import { GlobalLog } from "../../edge/fleet/global-log.js";
import { logOf, openFleetDb, rowsOf } from "./fleet-fixture.js";

const ORIGIN = "edge.test/fleet/f";

function newKey() {
  const publicKey = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
  return { publicKey, publicKeyX: bytesToBase64Url(publicKey) };
}

/** The key entries the log holds, decoded from their leaf bytes. */
function keyEntries(log: GlobalLog) {
  return log.entries(0, 100).map((e) => {
    const entry = decodeLogEntry(base64ToBytes(e.leaf));
    if (entry.type !== "key") throw new Error(`entry ${e.index} is a ${entry.type}`);
    return { index: e.index, event: entry.event, agentId: entry.agentId, publicKey: encodeBase64(entry.publicKey), timestamp: entry.timestamp };
  });
}

describe("key history", () => {
  it("enroll, approve and revoke append key entries with the agent's key in their transaction; repeats append nothing", () => {
    const db = openFleetDb();
    const log = logOf(db);
    const active = newKey();
    const pending = newKey();
    const open = issueToken(db.sql, { maxUses: 1, expiresInSeconds: 60, requireApproval: false }, 1_000);
    const gated = issueToken(db.sql, { maxUses: 1, expiresInSeconds: 60, requireApproval: true }, 1_000);
    const a = enroll(db, log, { token: open.token, ...active, name: "a" }, 1_100);
    const p = enroll(db, log, { token: gated.token, ...pending, name: "p" }, 1_200);
    if (!a.ok || !p.ok) throw new Error("enroll failed");
    // A refused enrollment appends nothing.
    expect(enroll(db, log, { token: open.token, ...newKey(), name: "x" }, 1_250).ok).toBe(false);
    approveAgent(db, rowsOf(db), log, p.value.agentId, "f", 1_300);
    approveAgent(db, rowsOf(db), log, p.value.agentId, "f", 1_350);
    revokeAgent(db, rowsOf(db), log, a.value.agentId, "f", 1_400);
    revokeAgent(db, rowsOf(db), log, a.value.agentId, "f", 1_450);
    const [ka, kp] = [encodeBase64(active.publicKey), encodeBase64(pending.publicKey)];
    expect(keyEntries(log)).toEqual([
      { index: 0, event: "enrolled", agentId: a.value.agentId, publicKey: ka, timestamp: 1_100 },
      { index: 1, event: "approved", agentId: a.value.agentId, publicKey: ka, timestamp: 1_100 },
      { index: 2, event: "enrolled", agentId: p.value.agentId, publicKey: kp, timestamp: 1_200 },
      { index: 3, event: "approved", agentId: p.value.agentId, publicKey: kp, timestamp: 1_300 },
      { index: 4, event: "revoked", agentId: a.value.agentId, publicKey: ka, timestamp: 1_400 },
    ]);
    expect(keyHistory(db.sql, a.value.agentId).map((k) => [k.index, k.event, k.at])).toEqual([
      [0, "enrolled", 1_100],
      [1, "approved", 1_100],
      [4, "revoked", 1_400],
    ]);
    // The key history route's answer: the entries, and the verifier keys under the agent's two names.
    const view = agentKeys(db.sql, ORIGIN, p.value.agentId)!;
    expect(view).toMatchObject({ agentId: p.value.agentId, origin: agentLogOrigin(ORIGIN, p.value.agentId), witness: witnessName(ORIGIN, p.value.agentId) });
    expect(view.keys).toEqual([
      { event: "enrolled", publicKey: kp, index: 2, at: 1_200 },
      { event: "approved", publicKey: kp, index: 3, at: 1_300 },
    ]);
    expect(encodeBase64(parseVerifierKey(view.verifierKey).publicKey)).toBe(kp);
    expect(parseCosignerKey(view.cosignerKey).name).toBe(view.witness);
    expect(agentKeys(db.sql, ORIGIN, "ag_unknown")).toBeUndefined();
    db.close();
  });

  it("a rolled-back transaction leaves neither the entry nor the tree in memory", () => {
    const db = openFleetDb();
    const log = logOf(db);
    const { publicKey } = newKey();
    expect(() =>
      inKeyTransaction(db, log, () => {
        appendKeyEvent(db.sql, log, { event: "enrolled", agentId: "ag_x", publicKey, timestamp: 1 }, 1);
        throw new Error("after the append");
      }),
    ).toThrow("after the append");
    expect(log.size).toBe(0);
    expect(keyHistory(db.sql, "ag_x")).toEqual([]);
    // The next append takes index 0, as the store says.
    expect(inKeyTransaction(db, log, () => appendKeyEvent(db.sql, log, { event: "enrolled", agentId: "ag_x", publicKey, timestamp: 2 }, 2))).toBe(0);
    db.close();
  });

  it("backfills agents enrolled before keys were logged, once, at the registry's times", () => {
    const db = openFleetDb();
    // What an older edge wrote: registry rows and no key entries (enrollAgent alone, then approvals
    // and revocations as columns).
    const older = [newKey(), newKey(), newKey()];
    const token = issueToken(db.sql, { maxUses: 3, expiresInSeconds: 60, requireApproval: true }, 1_000);
    const ids = older.map((key, i) => {
      const enrolled = enrollAgent(db.sql, { token: token.token, ...key, name: `old${i}` }, 1_000 + i);
      if (!enrolled.ok) throw new Error(enrolled.error.message);
      return enrolled.value.agentId;
    });
    db.sql.exec(`UPDATE agents SET status = 'active', approved_at = 2000 WHERE id = ?`, ids[1]!);
    db.sql.exec(`UPDATE agents SET status = 'revoked', approved_at = 2100, revoked_at = 3000 WHERE id = ?`, ids[2]!);
    // An agent of this version already has its entries: it is left alone.
    const log = logOf(db);
    const current = enroll(db, log, { token: issueToken(db.sql, { maxUses: 1, expiresInSeconds: 60, requireApproval: false }, 4_000).token, ...newKey(), name: "new" }, 4_000);
    if (!current.ok) throw new Error("enroll failed");

    // A wake-up: a fresh log over the same SQLite.
    const woken = new GlobalLog(db.sql);
    expect(backfillKeyHistory(db, woken, 5_000)).toBe(6);
    expect(keyEntries(woken).map((k) => [k.agentId, k.event, k.timestamp])).toEqual([
      [current.value.agentId, "enrolled", 4_000],
      [current.value.agentId, "approved", 4_000],
      [ids[0], "enrolled", 1_000],
      [ids[1], "enrolled", 1_001],
      [ids[1], "approved", 2_000],
      [ids[2], "enrolled", 1_002],
      [ids[2], "approved", 2_100],
      [ids[2], "revoked", 3_000],
    ]);
    expect(keyEntries(woken)[2]!.publicKey).toBe(encodeBase64(older[0]!.publicKey));
    // Once: the next wake-up appends nothing.
    expect(backfillKeyHistory(db, new GlobalLog(db.sql), 6_000)).toBe(0);
    expect(new GlobalLog(db.sql).size).toBe(8);
    db.close();
  });
});
