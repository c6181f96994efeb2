import { readFileSync } from "node:fs";
import { decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { sealRecord, verifyRecordSignature } from "../../shared/log/index.js";
import {
  DEFAULT_FLEET_CONFIG,
  LIMITS,
  PROTOCOL_VERSION,
  agentMessageSchema,
  decodeAgentMessage,
  decodeEdgeMessage,
  edgeMessageSchema,
  fleetConfigPatchSchema,
  bytesToBase64Url,
  enrollRequestSchema,
  enrollResponseSchema,
  recordFromWire,
  signConnectToken,
  recordToWire,
  sealedRecordSchema,
} from "../../shared/protocol/index.js";
import { PROTOCOL_SCHEMA_PATH, renderProtocolSchema } from "../../scripts/protocol-schema.js";

const agentId = "ag_0123456789abcdef0123456789abcdef";
const secretKey = ed25519.utils.randomSecretKey();
const record = recordToWire(sealRecord({ agentId, seq: 0, kind: "memory", timestamp: 1_700_000_000_000, payloadJson: '{"c":0.9}' }, secretKey));

/** One valid example of every message, both ways (docs/protocol.md shows the same shapes). */
export const EXAMPLES = {
  agent: [
    { v: 1, type: "hello", agentId, lamport: 7, software: "becomingone-agent/0.1.0", agentLog: { size: 3, root: "A".repeat(43) + "=" } },
    { v: 1, type: "summary", lamport: 8, t: 1_700_000_000_000, theta: 1.2, omega: 6.283, coherence: 0.42, tokenHz: 20, phaseDrift: 0.01, collapsed: false },
    { v: 1, type: "records", lamport: 9, records: [record] },
    { v: 1, type: "ping", nonce: "abc" },
    { v: 1, type: "log_report", lamport: 10, kind: "consistency", reason: "consistency proof 3 → 5 does not verify", evidence: { keptSize: 3, keptNote: "n", size: 5, note: "m" } },
    { v: 1, type: "agent_checkpoint", lamport: 11, note: `edge.example/fleet/default/agent/${agentId}\n3\n${"A".repeat(43)}=\n\n— edge.example/fleet/default/agent/${agentId} AAAA\n` },
    { v: 1, type: "cosignature", lamport: 12, size: 42, root: "B".repeat(43) + "=", signature: "C".repeat(102) + "==" },
  ],
  edge: [
    {
      v: 1,
      type: "welcome",
      agentId,
      fleetId: "default",
      resume: { nextSeq: 0, lastAckedSeq: null },
      lamport: 10,
      serverTime: 1_700_000_000_100,
      config: DEFAULT_FLEET_CONFIG,
      log: { origin: "edge.example/fleet/default", verifierKey: "k+01234567+AQ==", checkpoint: null },
      features: ["agent-checkpoint", "cosignature"],
    },
    { v: 1, type: "ack", acks: [{ seq: 0, index: 41 }], nextSeq: 1, lamport: 11 },
    { v: 1, type: "field", r: 0.8, psi: -0.3, omega: 6.2, n: 5, t: 1_700_000_000_200, lamport: 12, configVersion: 1 },
    { v: 1, type: "config", config: { ...DEFAULT_FLEET_CONFIG, version: 2, coupling: 1.5 } },
    { v: 1, type: "checkpoint", size: 42, root: "B".repeat(43) + "=", note: "edge.example/fleet/default\n42\n...\n" },
    { v: 1, type: "standing", quarantined: true, reason: "non-monotonic Lamport replay: clock 3 ≤ last accepted 9", weight: 0 },
    { v: 1, type: "pong", nonce: "abc", serverTime: 1_700_000_000_300 },
    { v: 1, type: "error", code: "seq_gap", message: "expected seq 4, got 6", ref: "records", details: { expected: 4, got: 6 } },
  ],
};

describe("protocol schemas", () => {
  it("accept one example of every message type, both ways", () => {
    for (const message of EXAMPLES.agent) expect(agentMessageSchema.safeParse(message).success, message.type).toBe(true);
    for (const message of EXAMPLES.edge) expect(edgeMessageSchema.safeParse(message).success, message.type).toBe(true);
    const agentTypes = agentMessageSchema.options.map((o) => o.shape.type.value);
    const edgeTypes = edgeMessageSchema.options.map((o) => o.shape.type.value);
    expect(EXAMPLES.agent.map((m) => m.type).sort()).toEqual([...agentTypes].sort());
    expect(EXAMPLES.edge.map((m) => m.type).sort()).toEqual([...edgeTypes].sort());
  });

  it("decode frames with stable error codes and never throw", () => {
    expect(decodeAgentMessage(JSON.stringify(EXAMPLES.agent[1]))).toMatchObject({ ok: true });
    expect(decodeAgentMessage("{")).toMatchObject({ ok: false, code: "bad_json" });
    expect(decodeAgentMessage(new ArrayBuffer(4))).toMatchObject({ ok: false, code: "bad_message" });
    expect(decodeAgentMessage(JSON.stringify({ v: 2, type: "hello" }))).toMatchObject({ ok: false, code: "unsupported_version", ref: "hello" });
    expect(decodeAgentMessage(JSON.stringify({ v: 1, type: "teleport" }))).toMatchObject({ ok: false, code: "bad_message" });
    const bad = decodeAgentMessage(JSON.stringify({ ...EXAMPLES.agent[1], coherence: 2 }));
    expect(bad).toMatchObject({ ok: false, code: "bad_message", ref: "summary" });
    expect(!bad.ok && bad.message).toMatch(/^coherence:/);
    expect(decodeAgentMessage("x".repeat(LIMITS.messageBytes + 1))).toMatchObject({ ok: false, code: "message_too_large" });
    expect(decodeAgentMessage(`"${"é".repeat(LIMITS.messageBytes / 2)}"`)).toMatchObject({ ok: false, code: "message_too_large" });
    for (const frame of ["null", "[]", "1", '"x"', '{"type":null}', '{"v":1}']) {
      expect(decodeAgentMessage(frame).ok).toBe(false);
    }
    expect(decodeEdgeMessage(JSON.stringify(EXAMPLES.edge[2]))).toMatchObject({ ok: true });
  });

  it("refuses batches beyond the limit and records of the wrong shape", () => {
    const many = { v: 1, type: "records", lamport: 1, records: Array.from({ length: LIMITS.batchRecords + 1 }, () => record) };
    expect(agentMessageSchema.safeParse(many).success).toBe(false);
    expect(sealedRecordSchema.safeParse({ ...record, agentId: "someone" }).success).toBe(false);
    expect(sealedRecordSchema.safeParse({ ...record, signature: "AAAA" }).success).toBe(false);
    expect(sealedRecordSchema.safeParse({ ...record, kind: "Memory" }).success).toBe(false);
  });

  it("carries a record's signed fields exactly (wire form round trip)", () => {
    const log = recordFromWire(record);
    expect(verifyRecordSignature(log, ed25519.getPublicKey(secretKey))).toBe(true);
    expect(recordToWire(log)).toEqual(record);
    expect(verifyRecordSignature(recordFromWire({ ...record, payloadJson: '{"c":0.8}' }), ed25519.getPublicKey(secretKey))).toBe(false);
  });

  it("lets operators patch only known config fields", () => {
    expect(fleetConfigPatchSchema.safeParse({ coupling: 1, drift: { minPeerCoherence: 0.2 } }).success).toBe(true);
    expect(fleetConfigPatchSchema.safeParse({ version: 9 }).success).toBe(false);
    expect(fleetConfigPatchSchema.safeParse({ summaryHz: 100 }).success).toBe(false);
  });

  it("has a committed JSON Schema that is current (regenerate: npx tsx scripts/protocol-schema.ts)", () => {
    const committed = readFileSync(PROTOCOL_SCHEMA_PATH, "utf8");
    expect(committed).toBe(renderProtocolSchema());
    const schema = JSON.parse(committed);
    expect(schema.title).toContain(`v${PROTOCOL_VERSION}`);
    expect(Object.keys(schema.$defs).sort()).toEqual(["AgentMessage", "EdgeMessage", "FleetConfig", "SealedRecord"]);
    const types = (def: { oneOf: { properties: { type: { const: string } } }[] }) => def.oneOf.map((o) => o.properties.type.const).sort();
    expect(types(schema.$defs.AgentMessage)).toEqual(["agent_checkpoint", "cosignature", "hello", "log_report", "ping", "records", "summary"]);
    expect(types(schema.$defs.EdgeMessage)).toEqual(["ack", "checkpoint", "config", "error", "field", "pong", "standing", "welcome"]);
  });
});

describe("connect token and enrollment shapes", () => {
  it("signs a token the edge's rules accept", async () => {
    const jwt = await signConnectToken({ secretKey, agentId, audience: "urn:becomingone:fleet:default" });
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: "EdDSA", typ: "agent+jwt", kid: agentId });
    const key = await importJWK({ kty: "OKP", crv: "Ed25519", x: bytesToBase64Url(ed25519.getPublicKey(secretKey)) }, "Ed25519");
    const { payload } = await jwtVerify(jwt, key, {
      algorithms: ["EdDSA", "Ed25519"],
      typ: "agent+jwt",
      issuer: agentId,
      subject: agentId,
      audience: "urn:becomingone:fleet:default",
      maxTokenAge: 120,
      requiredClaims: ["iat", "exp", "jti"],
    });
    expect(payload.exp! - payload.iat!).toBe(60);
    const other = await signConnectToken({ secretKey, agentId, audience: "a" });
    expect(decodeProtectedHeader(other)).toBeTruthy();
    expect(JSON.parse(Buffer.from(other.split(".")[1]!, "base64url").toString()).jti).not.toBe(payload.jti);
    await expect(signConnectToken({ secretKey, agentId, audience: "a", lifetimeSeconds: 121 })).rejects.toThrow(RangeError);
  });

  it("validates enrollment bodies and answers", () => {
    const x = bytesToBase64Url(ed25519.getPublicKey(secretKey));
    expect(enrollRequestSchema.safeParse({ token: "bet_x", publicKey: { kty: "OKP", crv: "Ed25519", x }, name: "pi" }).success).toBe(true);
    expect(enrollRequestSchema.safeParse({ token: "bet_x", publicKey: { kty: "OKP", crv: "Ed25519", x }, name: "pi\n" }).success).toBe(false);
    expect(enrollResponseSchema.safeParse({ agentId, fleetId: "default", status: "active", audience: "a", connectUrl: "wss://e/v1/connect" }).success).toBe(true);
    expect(enrollResponseSchema.safeParse({ agentId, fleetId: "default", status: "active", audience: "a", connectUrl: "http://e" }).success).toBe(false);
  });
});
