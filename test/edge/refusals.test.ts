/**
 * One test per refusal, against the real Worker: each is refused with its documented status and code
 * and changes nothing (state checked after).
 */
import { createHmac, randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { bytesToBase64Url } from "../../shared/protocol/index.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { connectJwt, newAgentKey, sealedRecord } from "./agent-identity.js";
import { call, enroll, enrollNew, issueToken, join, sleep, type Enrollment } from "./fleet-client.js";
import { RefusedUpgrade, SocketClient } from "./socket-client.js";

let edge: RunningEdge;

beforeAll(async () => {
  edge = await startEdge();
});

afterAll(async () => {
  await edge?.dispose();
});

async function agentsSnapshot(fleet = "default"): Promise<unknown> {
  const res = await call(edge, "GET", `/v1/agents?fleet=${fleet}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function tokensSnapshot(fleet = "default"): Promise<unknown> {
  const res = await call(edge, "GET", `/v1/enrollment-tokens?fleet=${fleet}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function enrollRaw(token: string, fleet: string, publicKey: unknown = newAgentKey().jwk) {
  return call(edge, "POST", `/v1/enroll?fleet=${fleet}`, { token: null, body: { token, publicKey, name: "refused" } });
}

describe("enrollment refusals", () => {
  it("refuses an unknown token with 401 and changes nothing", async () => {
    await issueToken(edge, {}, "enr-unknown");
    const before = [await agentsSnapshot("enr-unknown"), await tokensSnapshot("enr-unknown")];
    const res = await enrollRaw("bet_not-a-real-token", "enr-unknown");
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("enrollment_token_unknown");
    expect([await agentsSnapshot("enr-unknown"), await tokensSnapshot("enr-unknown")]).toEqual(before);
  });

  it("refuses an expired token with 410", async () => {
    const { token } = await issueToken(edge, { expiresInSeconds: 1 }, "enr-expired");
    await sleep(1200);
    const before = [await agentsSnapshot("enr-expired"), await tokensSnapshot("enr-expired")];
    const res = await enrollRaw(token, "enr-expired");
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe("enrollment_token_expired");
    expect([await agentsSnapshot("enr-expired"), await tokensSnapshot("enr-expired")]).toEqual(before);
  });

  it("refuses a used-up token with 410", async () => {
    const { token } = await issueToken(edge, { maxUses: 1 }, "enr-used");
    expect((await enrollRaw(token, "enr-used")).status).toBe(201);
    const before = [await agentsSnapshot("enr-used"), await tokensSnapshot("enr-used")];
    const res = await enrollRaw(token, "enr-used");
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe("enrollment_token_used_up");
    expect(res.body.error.details).toEqual({ uses: 1, maxUses: 1 });
    expect([await agentsSnapshot("enr-used"), await tokensSnapshot("enr-used")]).toEqual(before);
  });

  it("refuses a revoked token with 410", async () => {
    const { id, token } = await issueToken(edge, { maxUses: 5 }, "enr-revoked");
    const deleted = await call(edge, "DELETE", `/v1/enrollment-tokens/${id}?fleet=enr-revoked`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.revokedAt).not.toBeNull();
    const before = [await agentsSnapshot("enr-revoked"), await tokensSnapshot("enr-revoked")];
    const res = await enrollRaw(token, "enr-revoked");
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe("enrollment_token_revoked");
    expect([await agentsSnapshot("enr-revoked"), await tokensSnapshot("enr-revoked")]).toEqual(before);
  });

  it("refuses a key that is already enrolled with 409", async () => {
    const { token } = await issueToken(edge, { maxUses: 5 }, "enr-dup");
    const key = newAgentKey();
    expect((await enrollRaw(token, "enr-dup", key.jwk)).status).toBe(201);
    const before = [await agentsSnapshot("enr-dup"), await tokensSnapshot("enr-dup")];
    const res = await enrollRaw(token, "enr-dup", key.jwk);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("key_already_enrolled");
    expect([await agentsSnapshot("enr-dup"), await tokensSnapshot("enr-dup")]).toEqual(before);
  });

  it("refuses malformed enrollments with 400", async () => {
    const { token } = await issueToken(edge, { maxUses: 5 }, "enr-bad");
    const before = [await agentsSnapshot("enr-bad"), await tokensSnapshot("enr-bad")];
    const cases: [unknown, string][] = [
      [{ token, publicKey: { kty: "RSA", crv: "Ed25519", x: newAgentKey().jwk.x }, name: "x" }, "invalid_body"],
      [{ token, publicKey: { kty: "OKP", crv: "Ed25519", x: "short" }, name: "x" }, "invalid_body"],
      [{ token, publicKey: newAgentKey().jwk }, "invalid_body"],
      [{ token, publicKey: newAgentKey().jwk, name: "x", extra: 1 }, "invalid_body"],
      // 32 bytes that are not a point on the curve
      [{ token, publicKey: { kty: "OKP", crv: "Ed25519", x: bytesToBase64Url(new Uint8Array(32).fill(0xff).map((v, i) => (i === 31 ? 0x7f : v))) }, name: "x" }, "invalid_public_key"],
    ];
    for (const [body, code] of cases) {
      const res = await call(edge, "POST", "/v1/enroll?fleet=enr-bad", { token: null, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe(code);
    }
    const badJson = await call(edge, "POST", "/v1/enroll?fleet=enr-bad", { token: null, raw: "{nope" });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.code).toBe("bad_json");
    expect([await agentsSnapshot("enr-bad"), await tokensSnapshot("enr-bad")]).toEqual(before);
  });
});

describe("connect JWT refusals (401, no socket, nothing changes)", () => {
  let enrolled: Enrollment;
  let before: unknown;

  beforeAll(async () => {
    enrolled = await enrollNew(edge, "jwt-target", "jwt");
    before = (await call(edge, "GET", `/v1/agents/${enrolled.agentId}?fleet=jwt`)).body;
  });

  async function refusedWith(jwt: string, code: string): Promise<void> {
    const err = await SocketClient.connect(enrolled.connectUrl, jwt).then(
      (client) => {
        client.close();
        throw new Error("the socket was accepted");
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RefusedUpgrade);
    expect((err as RefusedUpgrade).status).toBe(401);
    expect((err as RefusedUpgrade).code).toBe(code);
    expect(JSON.parse((err as RefusedUpgrade).body).error.message).toBeTypeOf("string");
    const after = (await call(edge, "GET", `/v1/agents/${enrolled.agentId}?fleet=jwt`)).body;
    expect(after).toEqual(before);
  }

  const now = () => Math.floor(Date.now() / 1000);

  it("expired", async () => {
    await refusedWith(await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { iat: now() - 100, exp: now() - 30 }), "jwt_expired");
  });

  it("not yet valid (nbf in the future)", async () => {
    await refusedWith(await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { nbf: now() + 60 }), "jwt_not_yet_valid");
  });

  it("not yet valid (iat in the future)", async () => {
    await refusedWith(await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { iat: now() + 60, exp: now() + 90 }), "jwt_not_yet_valid");
  });

  it("wrong aud", async () => {
    await refusedWith(await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { aud: "urn:becomingone:fleet:other" }), "jwt_audience_mismatch");
  });

  it("wrong iss", async () => {
    await refusedWith(await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { iss: "ag_" + "1".repeat(32) }), "jwt_issuer_mismatch");
  });

  it("wrong typ", async () => {
    await refusedWith(await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { typ: "JWT" }), "jwt_type_mismatch");
  });

  it("alg none", async () => {
    const enc = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const t = now();
    const unsigned = `${enc({ alg: "none", typ: "agent+jwt", kid: enrolled.agentId })}.${enc({
      iss: enrolled.agentId,
      sub: enrolled.agentId,
      aud: enrolled.audience,
      iat: t,
      exp: t + 60,
      jti: randomUUID(),
    })}.`;
    await refusedWith(unsigned, "jwt_alg_not_allowed");
  });

  it("HS256 signed with the agent's public key as the secret", async () => {
    const t = now();
    const forged = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: "HS256", typ: "agent+jwt", kid: enrolled.agentId })
      .setIssuer(enrolled.agentId)
      .setSubject(enrolled.agentId)
      .setAudience(enrolled.audience)
      .setIssuedAt(t)
      .setExpirationTime(t + 60)
      .sign(enrolled.agent.publicKey);
    await refusedWith(forged, "jwt_alg_not_allowed");
    // The same with the JWK's x text as the secret.
    const [h, p] = forged.split(".");
    const mac = createHmac("sha256", enrolled.agent.jwk.x).update(`${h}.${p}`).digest("base64url");
    await refusedWith(`${h}.${p}.${mac}`, "jwt_alg_not_allowed");
  });

  it("unknown kid", async () => {
    const stranger = newAgentKey();
    const strangerId = "ag_" + "ab".repeat(16);
    await refusedWith(await connectJwt(stranger, strangerId, enrolled.audience), "agent_unknown");
  });

  it("signed by another key than the enrolled one", async () => {
    await refusedWith(await connectJwt(newAgentKey(), enrolled.agentId, enrolled.audience), "jwt_signature_invalid");
  });

  it("exp too far ahead", async () => {
    const t = now();
    await refusedWith(await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { iat: t, exp: t + 600 }), "jwt_lifetime_too_long");
  });

  it("replayed jti", async () => {
    const jwt = await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience);
    const first = await SocketClient.connect(enrolled.connectUrl, jwt);
    first.close();
    await first.waitClosed();
    await sleep(300);
    before = (await call(edge, "GET", `/v1/agents/${enrolled.agentId}?fleet=jwt`)).body;
    await refusedWith(jwt, "jwt_replayed");
  });

  it("a refused token burns nothing: its jti is still usable by a valid token", async () => {
    const jti = `jti-${randomUUID()}`;
    await refusedWith(await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { jti, aud: "urn:becomingone:fleet:elsewhere" }), "jwt_audience_mismatch");
    const client = await SocketClient.connect(enrolled.connectUrl, await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { jti }));
    client.close();
    await client.waitClosed();
    await sleep(300);
    before = (await call(edge, "GET", `/v1/agents/${enrolled.agentId}?fleet=jwt`)).body;
  });

  it("no token at all", async () => {
    const ws = new WebSocket(enrolled.connectUrl);
    const refusal = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      ws.once("open", () => reject(new Error("the socket was accepted")));
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.once("error", reject);
    });
    expect(refusal.status).toBe(401);
    expect(JSON.parse(refusal.body).error.code).toBe("jwt_missing");
  });
});

describe("record refusals", () => {
  it("refuses records claiming another agent, or signed by another key, and appends nothing", async () => {
    const { token } = await issueToken(edge, { maxUses: 2 }, "records");
    const alice = await enroll(edge, token, "alice", "records");
    const bob = await enroll(edge, token, "bob", "records");
    const client = await join(alice);
    client.send({ v: 1, type: "records", lamport: 2, records: [sealedRecord(alice.agent, alice.agentId, 0)] });
    await client.next("ack", (a) => a.nextSeq === 1);
    const logBefore = await call(edge, "GET", "/v1/log/entries?fleet=records&start=0&end=100", { token: null });
    const bobBefore = (await call(edge, "GET", `/v1/agents/${bob.agentId}?fleet=records`)).body;

    // Bob's genuinely signed record, relayed over Alice's socket.
    client.send({ v: 1, type: "records", lamport: 3, records: [sealedRecord(bob.agent, bob.agentId, 0)] });
    const relayed = await client.next("error", (e) => e.code === "agent_mismatch");
    expect(relayed.message).toContain(alice.agentId);
    // A record naming Bob, signed by Alice.
    client.send({ v: 1, type: "records", lamport: 4, records: [sealedRecord(alice.agent, bob.agentId, 0)] });
    await client.next("error", (e) => e.code === "agent_mismatch" && e !== relayed);
    // A record naming Alice, signed by Bob's key.
    client.send({ v: 1, type: "records", lamport: 5, records: [sealedRecord(bob.agent, alice.agentId, 1)] });
    await client.next("error", (e) => e.code === "bad_signature");
    // A gap and a conflicting replay.
    client.send({ v: 1, type: "records", lamport: 6, records: [sealedRecord(alice.agent, alice.agentId, 5)] });
    expect((await client.next("error", (e) => e.code === "seq_gap")).details).toEqual({ expected: 1, got: 5 });
    client.send({ v: 1, type: "records", lamport: 7, records: [sealedRecord(alice.agent, alice.agentId, 0, { different: true })] });
    await client.next("error", (e) => e.code === "seq_conflict");

    const logAfter = await call(edge, "GET", "/v1/log/entries?fleet=records&start=0&end=100", { token: null });
    expect(logAfter.body).toEqual(logBefore.body);
    // Alice's and Bob's key entries (enrolled, approved each), and Alice's one record.
    expect(logAfter.body.entries.map((e: { type: string }) => e.type)).toEqual(["key", "key", "key", "key", "record"]);
    expect((await call(edge, "GET", `/v1/agents/${bob.agentId}?fleet=records`)).body).toEqual(bobBefore);
    expect((await call(edge, "GET", `/v1/agents/${alice.agentId}?fleet=records`)).body.nextSeq).toBe(1);
    client.close();
  });
});

describe("admin refusals", () => {
  const routes: [string, string, unknown?][] = [
    ["POST", "/v1/enrollment-tokens", {}],
    ["GET", "/v1/enrollment-tokens"],
    ["DELETE", "/v1/enrollment-tokens/tok_0000000000000000"],
    ["GET", "/v1/agents"],
    ["GET", "/v1/agents/ag_00000000000000000000000000000000"],
    ["POST", "/v1/agents/ag_00000000000000000000000000000000/approve"],
    ["POST", "/v1/agents/ag_00000000000000000000000000000000/revoke"],
    ["GET", "/v1/fleet"],
    ["PATCH", "/v1/fleet/config", { coupling: 9 }],
  ];

  it("refuses every admin route without a token (401) and with a wrong one (401), changing nothing", async () => {
    const enrolled = await enrollNew(edge, "bystander", "admin");
    const agentPath = (path: string) => path.replace("ag_00000000000000000000000000000000", enrolled.agentId);
    const state = async () => [await agentsSnapshot("admin"), await tokensSnapshot("admin"), (await call(edge, "GET", "/v1/fleet?fleet=admin")).body.config];
    const before = await state();
    for (const [method, path, body] of routes) {
      const target = `${agentPath(path)}?fleet=admin`;
      const missing = await call(edge, method, target, { token: null, ...(body === undefined ? {} : { body }) });
      expect(missing.status, `${method} ${path}`).toBe(401);
      expect(missing.body.error.code).toBe("admin_auth_required");
      expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const wrong = await call(edge, method, target, { token: `${edge.adminToken}x`, ...(body === undefined ? {} : { body }) });
      expect(wrong.status, `${method} ${path}`).toBe(401);
      expect(wrong.body.error.code).toBe("admin_auth_invalid");
    }
    expect(await state()).toEqual(before);
  });
});

describe("HTTP errors are JSON with stable codes", () => {
  it("404, 405, 413, 415, bad query, bad fleet", async () => {
    const notFound = await call(edge, "GET", "/v1/nope", { token: null });
    expect(notFound).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    const wrongMethod = await call(edge, "PUT", "/v1/enroll", { token: null, body: {} });
    expect(wrongMethod).toMatchObject({ status: 405, body: { error: { code: "method_not_allowed" } } });
    expect(wrongMethod.headers.get("allow")).toContain("POST");
    const big = await call(edge, "POST", "/v1/enroll", { token: null, raw: JSON.stringify({ token: "x".repeat(20_000) }) });
    expect(big).toMatchObject({ status: 413, body: { error: { code: "body_too_large" } } });
    const form = await call(edge, "POST", "/v1/enroll", { token: null, raw: "token=x", contentType: "application/x-www-form-urlencoded" });
    expect(form).toMatchObject({ status: 415, body: { error: { code: "unsupported_media_type" } } });
    const query = await call(edge, "GET", "/v1/log/proof/inclusion?index=-1", { token: null });
    expect(query).toMatchObject({ status: 400, body: { error: { code: "bad_query" } } });
    // An index beyond the latest checkpoint's tree; a size no checkpoint signed.
    const beyond = await call(edge, "GET", "/v1/log/proof/inclusion?index=999999", { token: null });
    expect(beyond).toMatchObject({ status: 400, body: { error: { code: "bad_proof_request" } } });
    const unsigned = await call(edge, "GET", "/v1/log/proof/inclusion?index=0&size=999999", { token: null });
    expect(unsigned).toMatchObject({ status: 400, body: { error: { code: "unsigned_size", details: { size: 999999 } } } });
    for (const indices of ["", "1,,2", "1,-2", "a", Array.from({ length: 65 }, (_, i) => i).join(",")]) {
      const batch = await call(edge, "GET", `/v1/log/proof/inclusions?indices=${indices}`, { token: null });
      expect(batch, indices).toMatchObject({ status: 400, body: { error: { code: "bad_query" } } });
    }
    const batchBeyond = await call(edge, "GET", "/v1/log/proof/inclusions?indices=0,999999", { token: null });
    expect(batchBeyond).toMatchObject({ status: 400, body: { error: { code: "bad_proof_request" } } });
    const batchUnsigned = await call(edge, "GET", "/v1/log/proof/inclusions?indices=0&size=999999", { token: null });
    expect(batchUnsigned).toMatchObject({ status: 400, body: { error: { code: "unsigned_size" } } });
    const fleet = await call(edge, "GET", "/v1/log/key?fleet=Bad_Fleet", { token: null });
    expect(fleet).toMatchObject({ status: 400, body: { error: { code: "bad_fleet" } } });
    const plainGet = await call(edge, "GET", "/v1/connect", { token: null });
    expect(plainGet).toMatchObject({ status: 426, body: { error: { code: "upgrade_required" } } });
    expect(plainGet.headers.get("x-content-type-options")).toBe("nosniff");
    expect(notFound.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("enrollment rate limit", () => {
  let limited: RunningEdge;
  beforeAll(async () => {
    limited = await startEdge({ vars: { ENROLL_RATE_PER_MINUTE: "3", LOG_ORIGIN: "log.example/fleet/{fleet}" } });
  });
  afterAll(async () => {
    await limited?.dispose();
  });

  it("answers 429 past the per-minute limit, and the limit survives a restart", async () => {
    const { token } = await issueToken(limited, { maxUses: 10 });
    const attempt = () => call(limited, "POST", "/v1/enroll", { token: null, body: { token, publicKey: newAgentKey().jwk, name: "r" } });
    for (let i = 0; i < 3; i++) expect((await attempt()).status).toBe(201);
    const refused = await attempt();
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("rate_limited");
    expect(refused.body.error.details.limit).toBe(3);
    await limited.restart();
    expect((await attempt()).status).toBe(429);
    expect((await call(limited, "GET", "/v1/agents")).body.agents).toHaveLength(3);
    // LOG_ORIGIN, when set, names the checkpoints' origin.
    const checkpoint = (await call(limited, "GET", "/v1/log/checkpoint", { token: null })).body as string;
    expect(checkpoint.split("\n")[0]).toBe("log.example/fleet/default");
  });
});

