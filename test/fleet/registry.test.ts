import { describe, expect, it } from "vitest";
import { bytesToBase64Url } from "../../shared/protocol/index.js";
import { approveAgent, enroll, getAgentRow, issueToken, revokeAgent, revokeToken } from "../../edge/fleet/registry.js";
import { consumeJti, pruneJti } from "../../edge/fleet/jti-store.js";
import { addAgent, logOf, openFleetDb, outboxKinds, rowsOf } from "./fleet-fixture.js";

const key = () => {
  const publicKey = crypto.getRandomValues(new Uint8Array(32));
  return { publicKey, publicKeyX: bytesToBase64Url(publicKey) };
};

describe("registry and enrollment", () => {
  it("refuses unknown, revoked, expired and used-up tokens and a key enrolled twice, changing nothing", () => {
    const db = openFleetDb();
    const codeOf = (token: string, k = key(), now = 1_000) => {
      const outcome = enroll(db, logOf(db), { token, ...k, name: "pi" }, now);
      return outcome.ok ? outcome.value.status : outcome.error.code;
    };
    expect(codeOf("bet_nope")).toBe("enrollment_token_unknown");
    const revoked = issueToken(db.sql, { maxUses: 5, expiresInSeconds: 60, requireApproval: false }, 1_000);
    revokeToken(db.sql, revoked.id, 1_500);
    expect(codeOf(revoked.token)).toBe("enrollment_token_revoked");
    const expiring = issueToken(db.sql, { maxUses: 5, expiresInSeconds: 1, requireApproval: false }, 1_000);
    expect(codeOf(expiring.token, key(), 2_000)).toBe("enrollment_token_expired");
    const once = issueToken(db.sql, { maxUses: 1, expiresInSeconds: 60, requireApproval: false }, 1_000);
    const k = key();
    expect(codeOf(once.token, k)).toBe("active");
    expect(codeOf(once.token)).toBe("enrollment_token_used_up");
    const other = issueToken(db.sql, { maxUses: 5, expiresInSeconds: 60, requireApproval: false }, 1_000);
    expect(codeOf(other.token, k)).toBe("key_already_enrolled");
    // Only the one success wrote an event.
    expect(outboxKinds(db)).toEqual(["agent.enrolled"]);
    db.close();
  });

  it("approves a pending agent and revokes for good, each change with its event in the same step", () => {
    const db = openFleetDb();
    const token = issueToken(db.sql, { maxUses: 2, expiresInSeconds: 60, requireApproval: true }, 1_000);
    const enrolled = enroll(db, logOf(db), { token: token.token, ...key(), name: "pending" }, 1_000);
    if (!enrolled.ok) throw new Error("enroll failed");
    expect(enrolled.value.status).toBe("pending");
    const id = enrolled.value.agentId;
    const approved = approveAgent(db, rowsOf(db), logOf(db), id, "f", 2_000);
    expect(approved.ok && approved.value).toMatchObject({ status: "active", approved_at: 2_000 });
    // Approving again changes nothing and says nothing.
    expect(approveAgent(db, rowsOf(db), logOf(db), id, "f", 3_000).ok).toBe(true);
    db.sql.exec(`UPDATE agents SET connected = 1, online = 1 WHERE id = ?`, id);
    const revoked = revokeAgent(db, rowsOf(db), logOf(db), id, "f", 4_000);
    expect(revoked.ok && revoked.value).toMatchObject({ status: "revoked", revoked_at: 4_000, connected: 0, online: 0 });
    const again = approveAgent(db, rowsOf(db), logOf(db), id, "f", 5_000);
    expect(!again.ok && again.error.code).toBe("agent_revoked");
    const missing = revokeAgent(db, rowsOf(db), logOf(db), "ag_none", "f", 5_000);
    expect(!missing.ok && [missing.error.status, missing.error.message]).toEqual([404, "no agent ag_none in fleet f"]);
    expect(outboxKinds(db)).toEqual(["agent.enrolled", "agent.approved", "agent.revoked"]);
    db.close();
  });

  it("a JWT id is single-use until it expires", () => {
    const db = openFleetDb();
    const agent = addAgent(db);
    expect(consumeJti(db.sql, "j1", agent.id, 10_000, 1_000)).toBe(true);
    expect(consumeJti(db.sql, "j1", agent.id, 10_000, 2_000)).toBe(false);
    pruneJti(db.sql, 9_999);
    expect(consumeJti(db.sql, "j1", agent.id, 10_000, 3_000)).toBe(false);
    pruneJti(db.sql, 10_001);
    expect(consumeJti(db.sql, "j1", agent.id, 20_000, 10_001)).toBe(true);
    expect(getAgentRow(db.sql, agent.id)?.status).toBe("active");
    db.close();
  });
});
