/**
 * Every documented error code, walked against the real Worker (wrangler dev, real HTTP, real `ws`
 * sockets). The codes come from the docs' own tables — docs/protocol.md (connect refusals, socket
 * errors) and docs/api.md (HTTP) — so a code added to a table without a trigger here, or a code the
 * edge's source emits that no doc names, fails this file. Adding a code = one entry in a table below.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { dirname, join as joinPath, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CompactSign, SignJWT, importJWK } from "jose";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealRecord } from "../../shared/log/index.js";
import { bytesToBase64Url, PROTOCOL_ERROR_CODES, recordToWire, type WireRecord } from "../../shared/protocol/index.js";
import { signAgentCheckpoint } from "../support/agent-checkpoint.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { connectJwt, newAgentKey, sealedRecord, type TestAgent } from "./agent-identity.js";
import { call, connect, enroll, enrollNew, issueToken, join, sleep, type Enrollment } from "./fleet-client.js";
import { RefusedUpgrade, SocketClient } from "./socket-client.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const read = (path: string) => readFileSync(joinPath(ROOT, path), "utf8");

// ---- the docs' tables ------------------------------------------------------------------------------

const CODE = /^[a-z][a-z_]*[a-z]$/;

/** The text of `## heading` up to the next `## `. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no section "## ${heading}"`);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** Rows of the first table in `text` whose first header cell is `code`: [codes of the first cell, other cells]. */
function codeTable(text: string): { codes: string[]; cells: string[] }[] {
  const lines = text.split("\n");
  const header = lines.findIndex((line) => /^\|\s*code\s*\|/.test(line));
  if (header < 0) throw new Error("no table with a code column");
  const rows: { codes: string[]; cells: string[] }[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    const cells = line.split("|").slice(1, -1).map((cell) => cell.trim());
    const codes = [...cells[0]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).filter((c) => CODE.test(c));
    rows.push({ codes, cells: cells.slice(1) });
  }
  return rows;
}

const protocolMd = read("docs/protocol.md");
const apiMd = read("docs/api.md");
/** Connect refusals: all HTTP 401 (protocol.md, "Authentication"). */
const CONNECT_CODES = codeTable(section(protocolMd, "Authentication")).flatMap((row) => row.codes);
/** Socket errors with their strike column. */
const SOCKET_ROWS = codeTable(section(protocolMd, "Error codes (socket)")).flatMap((row) => row.codes.map((code) => ({ code, strike: row.cells[1] })));
/** HTTP errors with their status column. */
const HTTP_ROWS = codeTable(section(apiMd, "Error codes (HTTP)")).flatMap((row) => row.codes.map((code) => ({ code, status: Number(row.cells[0]) })));

/**
 * Codes no request from outside can produce, each with the reason. Still documented (in text), so
 * an operator who sees one in a log can look it up.
 */
const UNTRIGGERABLE: Record<string, string> = {
  internal_error: "a bug in the edge (an exception in a handler); nothing a peer sends is meant to reach it",
  http_error: "Hono's own HTTPException, rendered as JSON; no route or middleware of ours raises one",
  log_signing_key_missing: "every fleet is checkpointed when created, with a key the middleware already checked",
  invalid_config: "the patch schema has the config schema's bounds, so a patch it lets through cannot fail it",
  bad_internal_request: "the Fleet object's answer to an upgrade without the Worker's headers; only the Worker reaches it",
};

// ---- the edge's source: every code it can emit ---------------------------------------------------

function sourceFiles(dir: string): string[] {
  return readdirSync(joinPath(ROOT, dir)).flatMap((name) => {
    const path = joinPath(dir, name);
    return statSync(joinPath(ROOT, path)).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** HTTP-side codes in edge/**: fail(status, "code"), failure(status, "code"), unauthorized("code"), code: "code". */
function edgeSourceCodes(): Set<string> {
  const codes = new Set<string>();
  for (const file of sourceFiles("edge")) {
    const text = read(file);
    for (const pattern of [/\b(?:fail|failure)\(\s*\d{3},\s*"([a-z_]+)"/g, /\bunauthorized\(\s*"([a-z_]+)"/g, /\bcode:\s*"([a-z_]+)"/g]) {
      for (const match of text.matchAll(pattern)) codes.add(match[1]!);
    }
  }
  return codes;
}

// ---- the edge and helpers ------------------------------------------------------------------------

let edge: RunningEdge;

/** A dashboard session of the fleet c-viewers-full, opened before signin_rate_limited's trigger locks this address out. */
let viewerCookie = "";

beforeAll(async () => {
  edge = await startEdge();
  const signIn = await fetch(`${edge.url}/v1/session?fleet=c-viewers-full`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: edge.url },
    body: JSON.stringify({ token: edge.adminToken }),
  });
  viewerCookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0]!;
});

afterAll(async () => {
  await edge?.dispose();
});

const fleetFor = (code: string) => `c-${code.replaceAll("_", "-")}`;
/** The root of the empty tree, SHA-256 of nothing (RFC 6962), standard base64. */
const EMPTY_ROOT_BASE64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
const nowS = () => Math.floor(Date.now() / 1000);

async function signingKey(agent: TestAgent) {
  return importJWK({ ...agent.jwk, d: bytesToBase64Url(agent.secretKey) }, "EdDSA");
}

/** A connect JWT with exactly these claims (for claims the helpers always set). */
async function rawJwt(enrolled: Enrollment, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "agent+jwt", kid: enrolled.agentId }).sign(await signingKey(enrolled.agent));
}

function validClaims(enrolled: Enrollment): Record<string, unknown> {
  const t = nowS();
  return { iss: enrolled.agentId, sub: enrolled.agentId, aud: enrolled.audience, iat: t, exp: t + 60, jti: crypto.randomUUID() };
}

/** The refusal of an upgrade: status and code. */
async function refusal(url: string, jwt: string): Promise<{ status: number; code: string | undefined }> {
  const outcome = await SocketClient.connect(url, jwt).then(
    (client) => {
      client.close();
      return new Error("the upgrade was accepted");
    },
    (err: unknown) => err,
  );
  if (!(outcome instanceof RefusedUpgrade)) throw outcome;
  return { status: outcome.status, code: outcome.code };
}

async function httpCode(edgeUnderTest: RunningEdge, method: string, path: string, options: Parameters<typeof call>[3] = {}) {
  const res = await call(edgeUnderTest, method, path, options);
  return { status: res.status, code: (res.body as { error?: { code?: string } })?.error?.code };
}

/** A request with headers `call` does not set (Origin, Cookie, Host), over node:http so Host is kept. */
async function rawCode(edgeUnderTest: RunningEdge, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Observed> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${edgeUnderTest.url}${path}`, { method, headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => {
        try {
          resolve({ status: res.statusCode ?? 0, code: (JSON.parse(text) as { error?: { code?: string } }).error?.code });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The next error message on the socket, from `from` on. */
async function nextError(client: SocketClient, from = 0): Promise<string> {
  return (await client.next("error", () => true, { from })).code;
}

/** A sealed-looking record whose fields break the entry encoding (payloadJson is not JSON). */
function unencodableRecord(enrolled: Enrollment, seq: number): WireRecord {
  return { agentId: enrolled.agentId, seq, kind: "memory", timestamp: Date.now(), payloadJson: "not json", signature: `${"A".repeat(86)}==` };
}

/** The agent's signed checkpoint of its log at `size` (origin from the session's welcome). */
function agentCheckpointNote(client: SocketClient, enrolled: Enrollment, size: number, root: Uint8Array): string {
  const welcome = client.messages.find((m) => m.type === "welcome");
  if (welcome?.type !== "welcome") throw new Error("no welcome yet");
  return signAgentCheckpoint(welcome.log.origin, enrolled.agentId, enrolled.agent.secretKey, size, root);
}

function summary(lamport: number) {
  return { v: 1, type: "summary", lamport, t: Date.now(), theta: 0.5, omega: 1, coherence: 0.5, tokenHz: 20 };
}

/**
 * Opens the dashboard's live channel with real `ws` upgrades: resolves the open socket, or the
 * refusal's status and code.
 */
function liveUpgrade(headers: Record<string, string>): Promise<{ ws: WebSocket } | Observed> {
  return new Promise((resolvePromise, reject) => {
    const ws = new WebSocket(`${edge.url.replace(/^http/, "ws")}/v1/dashboard/live?fleet=c-viewers-full`, { headers });
    ws.once("open", () => resolvePromise({ ws }));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolvePromise({ status: res.statusCode ?? 0, code: (JSON.parse(body) as { error?: { code?: string } }).error?.code }));
    });
    ws.once("error", reject);
  });
}

// ---- triggers: one entry per code ----------------------------------------------------------------

type Observed = { status: number; code: string | undefined };

/** Misconfigured edges, started only for the two codes that need one. */
async function withEdge<T>(vars: Record<string, string>, run: (e: RunningEdge) => Promise<T>): Promise<T> {
  const misconfigured = await startEdge({ vars, misconfigured: true });
  try {
    return await run(misconfigured);
  } finally {
    await misconfigured.dispose();
  }
}

const HTTP_TRIGGERS: Record<string, (code: string) => Promise<Observed>> = {
  not_found: () => httpCode(edge, "GET", "/v1/nope", { token: null }),
  method_not_allowed: () => httpCode(edge, "PUT", "/v1/enroll", { token: null, body: {} }),
  bad_json: () => httpCode(edge, "POST", "/v1/enroll", { token: null, raw: "{nope" }),
  invalid_body: () => httpCode(edge, "POST", "/v1/enroll", { token: null, body: { token: "bet_x" } }),
  unsupported_media_type: () => httpCode(edge, "POST", "/v1/enroll", { token: null, raw: "token=x", contentType: "application/x-www-form-urlencoded" }),
  body_too_large: () => httpCode(edge, "POST", "/v1/enroll", { token: null, raw: JSON.stringify({ token: "x".repeat(20_000) }) }),
  bad_query: () => httpCode(edge, "GET", "/v1/log/proof/inclusion?index=-1", { token: null }),
  bad_range: () => httpCode(edge, "GET", "/v1/log/entries?start=5&end=2", { token: null }),
  bad_proof_request: () => httpCode(edge, "GET", "/v1/log/proof/inclusion?index=999999", { token: null }),
  // The default fleet's checkpoints: the empty tree's (0) and whatever was signed since; never 999999.
  unsigned_size: () => httpCode(edge, "GET", "/v1/log/proof/inclusion?index=0&size=999999", { token: null }),
  checkpoint_not_found: () => httpCode(edge, "GET", "/v1/log/checkpoint?size=999999", { token: null }),
  bad_fleet: () => httpCode(edge, "GET", "/v1/log/key?fleet=Bad_Fleet", { token: null }),
  secrets_missing: () => withEdge({ ADMIN_TOKEN: "" }, (e) => httpCode(e, "GET", "/health", { token: null })),
  log_signing_key_invalid: () => withEdge({ LOG_SIGNING_KEY: "not-a-key" }, (e) => httpCode(e, "GET", "/health", { token: null })),
  admin_auth_required: () => httpCode(edge, "GET", "/v1/agents", { token: null }),
  // In table order: one failure here, then the limit's trigger fails until it is reached.
  signin_failed: () => httpCode(edge, "POST", "/v1/session", { token: null, body: { token: `${edge.adminToken}x` } }),
  signin_rate_limited: async () => {
    let last: Observed = { status: 0, code: undefined };
    for (let attempt = 0; attempt < 11 && last.status !== 429; attempt++) {
      last = await httpCode(edge, "POST", "/v1/session", { token: null, body: { token: `${edge.adminToken}x` } });
    }
    return last;
  },
  session_required: () => rawCode(edge, "GET", "/v1/agents", { Cookie: `bo_session=${"A".repeat(43)}` }),
  origin_refused: () => rawCode(edge, "POST", "/v1/enrollment-tokens", { Authorization: `Bearer ${edge.adminToken}`, Origin: "https://evil.example" }, "{}"),
  https_required: () => rawCode(edge, "POST", "/v1/session", { Host: "edge.example.com" }, JSON.stringify({ token: edge.adminToken })),
  admin_auth_invalid: () => httpCode(edge, "GET", "/v1/agents", { token: `${edge.adminToken}x` }),
  enrollment_token_unknown: (code) => httpCode(edge, "POST", `/v1/enroll?fleet=${fleetFor(code)}`, { token: null, body: { token: "bet_unknown", publicKey: newAgentKey().jwk, name: "x" } }),
  enrollment_token_revoked: async (code) => {
    const { id, token } = await issueToken(edge, {}, fleetFor(code));
    await call(edge, "DELETE", `/v1/enrollment-tokens/${id}?fleet=${fleetFor(code)}`);
    return httpCode(edge, "POST", `/v1/enroll?fleet=${fleetFor(code)}`, { token: null, body: { token, publicKey: newAgentKey().jwk, name: "x" } });
  },
  enrollment_token_expired: async (code) => {
    const { token } = await issueToken(edge, { expiresInSeconds: 1 }, fleetFor(code));
    await sleep(1200);
    return httpCode(edge, "POST", `/v1/enroll?fleet=${fleetFor(code)}`, { token: null, body: { token, publicKey: newAgentKey().jwk, name: "x" } });
  },
  enrollment_token_used_up: async (code) => {
    const { token } = await issueToken(edge, { maxUses: 1 }, fleetFor(code));
    await enroll(edge, token, "first", fleetFor(code));
    return httpCode(edge, "POST", `/v1/enroll?fleet=${fleetFor(code)}`, { token: null, body: { token, publicKey: newAgentKey().jwk, name: "x" } });
  },
  key_already_enrolled: async (code) => {
    const { token } = await issueToken(edge, { maxUses: 2 }, fleetFor(code));
    const key = newAgentKey();
    await call(edge, "POST", `/v1/enroll?fleet=${fleetFor(code)}`, { token: null, body: { token, publicKey: key.jwk, name: "x" } });
    return httpCode(edge, "POST", `/v1/enroll?fleet=${fleetFor(code)}`, { token: null, body: { token, publicKey: key.jwk, name: "x" } });
  },
  invalid_public_key: async (code) => {
    const { token } = await issueToken(edge, {}, fleetFor(code));
    const offCurve = bytesToBase64Url(new Uint8Array(32).fill(0xff).map((v, i) => (i === 31 ? 0x7f : v)));
    return httpCode(edge, "POST", `/v1/enroll?fleet=${fleetFor(code)}`, { token: null, body: { token, publicKey: { kty: "OKP", crv: "Ed25519", x: offCurve }, name: "x" } });
  },
  rate_limited: async (code) => {
    // The default limit is 30 attempts per client address per minute in a fleet.
    const { token } = await issueToken(edge, { maxUses: 100 }, fleetFor(code));
    let last: Observed = { status: 0, code: undefined };
    for (let attempt = 0; attempt < 31; attempt++) {
      last = await httpCode(edge, "POST", `/v1/enroll?fleet=${fleetFor(code)}`, { token: null, body: { token, publicKey: newAgentKey().jwk, name: "x" } });
    }
    return last;
  },
  enrollment_token_not_found: () => httpCode(edge, "DELETE", "/v1/enrollment-tokens/tok_0000000000000000"),
  agent_not_found: () => httpCode(edge, "GET", "/v1/agents/ag_00000000000000000000000000000000"),
  agent_revoked: async (code) => {
    const enrolled = await enrollNew(edge, "revoked", fleetFor(code));
    await call(edge, "POST", `/v1/agents/${enrolled.agentId}/revoke?fleet=${fleetFor(code)}`);
    return httpCode(edge, "POST", `/v1/agents/${enrolled.agentId}/approve?fleet=${fleetFor(code)}`);
  },
  fleet_not_found: () => httpCode(edge, "GET", "/v1/log/checkpoint?fleet=nobody-made-this", { token: null }),
  entry_not_found: () => httpCode(edge, "GET", "/v1/log/proof/inclusion?agent=ag_00000000000000000000000000000000&seq=0", { token: null }),
  upgrade_required: () => httpCode(edge, "GET", "/v1/connect", { token: null }),
  // Agents' own logs (docs/api.md, "Agent logs").
  agent_checkpoint_not_found: () => httpCode(edge, "GET", `/v1/log/agents/ag_${"0".repeat(32)}/checkpoint`, { token: null }),
  // The dashboard's live channel (docs/api.md, "Dashboard live channel").
  // (origin_refused and session_required are triggered above through the admin routes; the live
  // channel's own refusals are in test/workers/dashboard-live.test.ts.)
  viewers_full: async () => {
    // The session opened in beforeAll, then 17 viewers in its fleet.
    const cookie = viewerCookie;
    const open: WebSocket[] = [];
    try {
      for (let k = 0; k < 17; k++) {
        const outcome = await liveUpgrade({ Origin: edge.url, Cookie: cookie });
        if ("ws" in outcome) open.push(outcome.ws);
        else return outcome;
      }
      throw new Error("17 viewers were accepted");
    } finally {
      for (const ws of open) ws.close();
    }
  },
  webhook_endpoint_not_found: () => httpCode(edge, "GET", `/v1/webhooks/endpoints/ep_${"0".repeat(32)}`),
  webhook_message_not_found: async (code) => {
    const created = await call(edge, "POST", `/v1/webhooks/endpoints?fleet=${fleetFor(code)}`, { body: { url: "https://hooks.example.com/x", enabled: false } });
    return httpCode(edge, "POST", `/v1/webhooks/endpoints/${created.body.endpoint.id}/messages/msg_${"0".repeat(32)}/replay?fleet=${fleetFor(code)}`);
  },
  webhook_url_refused: () => httpCode(edge, "POST", "/v1/webhooks/endpoints", { body: { url: "https://169.254.169.254/latest/meta-data" } }),
  webhook_endpoint_limit: async (code) => {
    // Disabled endpoints: nothing is ever sent to these names.
    let last: Observed = { status: 0, code: undefined };
    for (let i = 0; i <= 20 && last.code === undefined; i++) {
      last = await httpCode(edge, "POST", `/v1/webhooks/endpoints?fleet=${fleetFor(code)}`, { body: { url: `https://hooks.example.com/${i}`, enabled: false } });
    }
    return last;
  },
  webhook_endpoint_disabled: async (code) => {
    const created = await call(edge, "POST", `/v1/webhooks/endpoints?fleet=${fleetFor(code)}`, { body: { url: "https://hooks.example.com/x", enabled: false } });
    return httpCode(edge, "POST", `/v1/webhooks/endpoints/${created.body.endpoint.id}/test?fleet=${fleetFor(code)}`);
  },
};

/** Connect refusals: each returns the refusal of an upgrade (always 401 by the docs). */
const CONNECT_TRIGGERS: Record<string, (code: string) => Promise<Observed>> = {
  jwt_missing: async (code) => refusal((await enrollNew(edge, "a", fleetFor(code))).connectUrl, ""),
  jwt_malformed: async (code) => {
    // A correctly signed JWS whose payload is not a JSON claims set.
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    const jws = await new CompactSign(new TextEncoder().encode("not a claims set"))
      .setProtectedHeader({ alg: "EdDSA", typ: "agent+jwt", kid: enrolled.agentId })
      .sign(await signingKey(enrolled.agent));
    return refusal(enrolled.connectUrl, jws);
  },
  jwt_alg_not_allowed: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    const enc = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    return refusal(enrolled.connectUrl, `${enc({ alg: "none", typ: "agent+jwt", kid: enrolled.agentId })}.${enc(validClaims(enrolled))}.`);
  },
  jwt_type_mismatch: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    return refusal(enrolled.connectUrl, await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { typ: "JWT" }));
  },
  jwt_kid_invalid: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    return refusal(enrolled.connectUrl, await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { kid: "not-an-agent-id" }));
  },
  agent_unknown: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    const strangerId = `ag_${"ab".repeat(16)}`;
    return refusal(enrolled.connectUrl, await connectJwt(newAgentKey(), strangerId, enrolled.audience));
  },
  agent_pending: async (code) => {
    const { token } = await issueToken(edge, { requireApproval: true }, fleetFor(code));
    const enrolled = await enroll(edge, token, "pending", fleetFor(code));
    return refusal(enrolled.connectUrl, await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience));
  },
  agent_revoked: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    await call(edge, "POST", `/v1/agents/${enrolled.agentId}/revoke?fleet=${fleetFor(code)}`);
    return refusal(enrolled.connectUrl, await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience));
  },
  jwt_signature_invalid: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    return refusal(enrolled.connectUrl, await connectJwt(newAgentKey(), enrolled.agentId, enrolled.audience));
  },
  jwt_expired: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    return refusal(enrolled.connectUrl, await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { iat: nowS() - 100, exp: nowS() - 30 }));
  },
  jwt_not_yet_valid: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    return refusal(enrolled.connectUrl, await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { nbf: nowS() + 60 }));
  },
  jwt_audience_mismatch: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    return refusal(enrolled.connectUrl, await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { aud: "urn:becomingone:fleet:other" }));
  },
  jwt_issuer_mismatch: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    return refusal(enrolled.connectUrl, await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { iss: `ag_${"1".repeat(32)}` }));
  },
  jwt_subject_mismatch: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    return refusal(enrolled.connectUrl, await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { sub: `ag_${"1".repeat(32)}` }));
  },
  jwt_claim_missing: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    const { jti: _jti, ...claims } = validClaims(enrolled);
    return refusal(enrolled.connectUrl, await rawJwt(enrolled, claims));
  },
  jwt_claim_invalid: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    return refusal(enrolled.connectUrl, await rawJwt(enrolled, { ...validClaims(enrolled), exp: "soon" }));
  },
  jwt_lifetime_too_long: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    return refusal(enrolled.connectUrl, await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience, { iat: nowS(), exp: nowS() + 600 }));
  },
  jwt_jti_invalid: async (code) => {
    // Not a string: jose checks that jti is present, not its type.
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    return refusal(enrolled.connectUrl, await rawJwt(enrolled, { ...validClaims(enrolled), jti: 7 }));
  },
  jwt_replayed: async (code) => {
    const enrolled = await enrollNew(edge, "a", fleetFor(code));
    const jwt = await connectJwt(enrolled.agent, enrolled.agentId, enrolled.audience);
    const first = await SocketClient.connect(enrolled.connectUrl, jwt);
    first.close();
    await first.waitClosed();
    return refusal(enrolled.connectUrl, jwt);
  },
};

/** Socket errors: each returns the code of the error the edge answered with. */
const SOCKET_TRIGGERS: Record<string, (enrolled: Enrollment) => Promise<string>> = {
  bad_json: async (enrolled) => {
    const client = await join(enrolled);
    client.send("{nope");
    return nextError(client);
  },
  bad_message: async (enrolled) => {
    const client = await join(enrolled);
    client.send({ v: 1, type: "ping" });
    return nextError(client);
  },
  message_too_large: async (enrolled) => {
    const client = await join(enrolled);
    client.send(JSON.stringify({ v: 1, type: "ping", nonce: "x", pad: "x".repeat(300 * 1024) }));
    return nextError(client);
  },
  unsupported_version: async (enrolled) => {
    const client = await join(enrolled);
    client.send({ v: 2, type: "ping", nonce: "x" });
    return nextError(client);
  },
  hello_required: async (enrolled) => {
    const client = await connect(enrolled);
    client.send(summary(2));
    return nextError(client);
  },
  agent_mismatch: async (enrolled) => {
    const client = await connect(enrolled);
    client.send({ v: 1, type: "hello", agentId: `ag_${"cd".repeat(16)}`, lamport: 1 });
    return nextError(client);
  },
  rate_limited: async (enrolled) => {
    // Summaries: bursts of 2 at the default 2 per second.
    const client = await join(enrolled);
    for (const lamport of [2, 3, 4]) client.send(summary(lamport));
    return nextError(client);
  },
  bad_record: async (enrolled) => {
    const client = await join(enrolled);
    client.send({ v: 1, type: "records", lamport: 2, records: [unencodableRecord(enrolled, 0)] });
    return nextError(client);
  },
  seq_conflict: async (enrolled) => {
    const client = await join(enrolled);
    client.send({ v: 1, type: "records", lamport: 2, records: [sealedRecord(enrolled.agent, enrolled.agentId, 0)] });
    await client.next("ack", (a) => a.nextSeq === 1);
    client.send({ v: 1, type: "records", lamport: 3, records: [sealedRecord(enrolled.agent, enrolled.agentId, 0, { other: true })] });
    return nextError(client);
  },
  seq_gap: async (enrolled) => {
    const client = await join(enrolled);
    client.send({ v: 1, type: "records", lamport: 2, records: [sealedRecord(enrolled.agent, enrolled.agentId, 3)] });
    return nextError(client);
  },
  bad_signature: async (enrolled) => {
    const client = await join(enrolled);
    client.send({ v: 1, type: "records", lamport: 2, records: [sealedRecord(newAgentKey(), enrolled.agentId, 0)] });
    return nextError(client);
  },
  lamport_replay: async (enrolled) => {
    const client = await join(enrolled);
    client.send(summary(10));
    client.send(summary(5));
    return nextError(client);
  },
  bad_checkpoint: async (enrolled) => {
    const client = await join(enrolled);
    client.send({ v: 1, type: "agent_checkpoint", lamport: 2, note: "not a signed note" });
    return nextError(client);
  },
  checkpoint_ahead: async (enrolled) => {
    // Signs a log of one record the edge never got.
    const client = await join(enrolled);
    client.send({ v: 1, type: "agent_checkpoint", lamport: 2, note: agentCheckpointNote(client, enrolled, 1, new Uint8Array(32)) });
    return nextError(client);
  },
  agent_log_inconsistent: async (enrolled) => {
    // One record sent, a root signed that is not that record's.
    const client = await join(enrolled);
    client.send({ v: 1, type: "records", lamport: 2, records: [sealedRecord(enrolled.agent, enrolled.agentId, 0)] });
    await client.next("ack", (a) => a.nextSeq === 1);
    client.send({ v: 1, type: "agent_checkpoint", lamport: 3, note: agentCheckpointNote(client, enrolled, 1, new Uint8Array(32)) });
    return nextError(client);
  },
  unknown_checkpoint: async (enrolled) => {
    const client = await join(enrolled);
    client.send({ v: 1, type: "cosignature", lamport: 2, size: 999_999, root: EMPTY_ROOT_BASE64, signature: `${"A".repeat(102)}==` });
    return nextError(client);
  },
  bad_cosignature: async (enrolled) => {
    // A checkpoint this edge signed (the latest of the agent's fleet), with a signature that is not the agent's.
    const fleet = new URL(enrolled.connectUrl).searchParams.get("fleet") ?? "default";
    const note = await (await fetch(`${edge.url}/v1/log/checkpoint?fleet=${fleet}`)).text();
    const [, size, root] = note.split("\n");
    const client = await join(enrolled);
    client.send({ v: 1, type: "cosignature", lamport: 2, size: Number(size), root, signature: `${"A".repeat(102)}==` });
    return nextError(client);
  },
  lamport_jump: async (enrolled) => {
    const client = await join(enrolled);
    client.send(summary(10));
    client.send(summary(10 + 1_000_000_000));
    return nextError(client);
  },
};

// ---- the walk ------------------------------------------------------------------------------------

describe("documented error codes", () => {
  it("the tables parse, and every documented code has a trigger or a stated reason", () => {
    expect(CONNECT_CODES.length).toBeGreaterThan(15);
    expect(SOCKET_ROWS.length).toBeGreaterThan(10);
    expect(HTTP_ROWS.length).toBeGreaterThan(20);
    for (const row of HTTP_ROWS) expect(row.status, row.code).toBeGreaterThanOrEqual(400);
    for (const row of SOCKET_ROWS) expect(["yes", "no"], row.code).toContain(row.strike);
    const missing = [
      ...CONNECT_CODES.filter((code) => !(code in CONNECT_TRIGGERS)).map((c) => `connect ${c}`),
      ...SOCKET_ROWS.filter((row) => !(row.code in SOCKET_TRIGGERS) && !(row.code in UNTRIGGERABLE)).map((r) => `socket ${r.code}`),
      ...HTTP_ROWS.filter((row) => !(row.code in HTTP_TRIGGERS) && !(row.code in UNTRIGGERABLE)).map((r) => `http ${r.code}`),
    ];
    expect(missing, "documented codes without a trigger").toEqual([]);
    // And no trigger for a code the tables do not list (a code removed from the docs).
    const documented = new Set([...CONNECT_CODES, ...SOCKET_ROWS.map((r) => r.code), ...HTTP_ROWS.map((r) => r.code)]);
    const stale = [...Object.keys(CONNECT_TRIGGERS), ...Object.keys(SOCKET_TRIGGERS), ...Object.keys(HTTP_TRIGGERS)].filter((code) => !documented.has(code));
    expect(stale, "triggers for codes no table lists").toEqual([]);
  });

  it("every code the edge can emit is documented, and the untriggerable ones are few and explained", () => {
    const emitted = new Set([...PROTOCOL_ERROR_CODES, ...edgeSourceCodes()]);
    // The scan must see the codes it is meant to see, or it proves nothing.
    for (const known of ["not_found", "jwt_replayed", "agent_unknown", "bad_range", "upgrade_required"]) expect(emitted, known).toContain(known);
    const inDocs = (code: string) => protocolMd.includes(`\`${code}\``) || apiMd.includes(`\`${code}\``);
    expect([...emitted].filter((code) => !inDocs(code)), "codes the edge emits that no doc names").toEqual([]);
    const tabled = new Set([...CONNECT_CODES, ...SOCKET_ROWS.map((r) => r.code), ...HTTP_ROWS.map((r) => r.code)]);
    // An emitted code outside every table must be an explained untriggerable one (documented in text).
    expect([...emitted].filter((code) => !tabled.has(code) && !(code in UNTRIGGERABLE))).toEqual([]);
    expect(Object.keys(UNTRIGGERABLE).length).toBeLessThanOrEqual(5);
    for (const code of Object.keys(UNTRIGGERABLE)) expect(inDocs(code), code).toBe(true);
  });

  describe("HTTP (docs/api.md), against the real Worker", () => {
    it.each(HTTP_ROWS.filter((row) => row.code in HTTP_TRIGGERS))("$code → $status", async ({ code, status }) => {
      expect(await HTTP_TRIGGERS[code]!(code)).toEqual({ status, code });
    });
  });

  describe("connect refusals (docs/protocol.md, Authentication): 401 and the code", () => {
    it.each(CONNECT_CODES.filter((code) => code in CONNECT_TRIGGERS))("%s", async (code) => {
      expect(await CONNECT_TRIGGERS[code]!(code)).toEqual({ status: 401, code });
    });
  });

  describe("socket errors (docs/protocol.md, Error codes (socket))", () => {
    it.each(SOCKET_ROWS.filter((row) => row.code in SOCKET_TRIGGERS))("$code", async ({ code }) => {
      const enrolled = await enrollNew(edge, "socket", fleetFor(`s_${code}`));
      expect(await SOCKET_TRIGGERS[code]!(enrolled)).toBe(code);
    });
  });
});

describe("records: refusals named right, an ack for every records message", () => {
  it("an unencodable record is bad_record, also at an already acknowledged seq, and nothing is appended", async () => {
    const enrolled = await enrollNew(edge, "enc", "c-enc");
    const client = await join(enrolled);
    client.send({ v: 1, type: "records", lamport: 2, records: [sealedRecord(enrolled.agent, enrolled.agentId, 0)] });
    await client.next("ack", (a) => a.nextSeq === 1);
    for (const seq of [0, 1]) {
      const mark = client.messages.length;
      client.send({ v: 1, type: "records", lamport: 3 + seq, records: [unencodableRecord(enrolled, seq)] });
      const error = await client.next("error", () => true, { from: mark });
      expect(error).toMatchObject({ code: "bad_record", ref: "records", details: { seq } });
    }
    const entries = await call(edge, "GET", "/v1/log/entries?fleet=c-enc&start=0&end=10", { token: null });
    // The agent's key entries (enrolled, approved), then its one record.
    expect(entries.body.entries.map((e: { type: string }) => e.type)).toEqual(["key", "key", "record"]);
    client.close();
  });

  it("a batch refused at its first record still gets an ack: no acks, the edge's nextSeq, after the error", async () => {
    const enrolled = await enrollNew(edge, "acks", "c-acks");
    const client = await join(enrolled);
    client.send({ v: 1, type: "records", lamport: 2, records: [0, 1].map((seq) => sealedRecord(enrolled.agent, enrolled.agentId, seq)) });
    await client.next("ack", (a) => a.nextSeq === 2);
    const refusals: [string, WireRecord][] = [
      ["seq_gap", sealedRecord(enrolled.agent, enrolled.agentId, 7)],
      ["bad_signature", sealedRecord(newAgentKey(), enrolled.agentId, 2)],
      ["bad_record", unencodableRecord(enrolled, 2)],
      ["seq_conflict", sealedRecord(enrolled.agent, enrolled.agentId, 1, { other: true })],
      ["agent_mismatch", sealedRecord(newAgentKey(), `ag_${"ef".repeat(16)}`, 2)],
    ];
    for (const [code, record] of refusals) {
      const mark = client.messages.length;
      client.send({ v: 1, type: "records", lamport: 10, records: [record] });
      const ack = await client.next("ack", () => true, { from: mark });
      expect(ack, code).toMatchObject({ acks: [], nextSeq: 2 });
      const answered = client.messages.slice(mark).map((m) => (m.type === "error" ? m.code : m.type)).filter((t) => t === code || t === "ack");
      expect(answered, code).toEqual([code, "ack"]);
    }
    // Records before the refused one are in the ack.
    const mark = client.messages.length;
    client.send({ v: 1, type: "records", lamport: 11, records: [sealedRecord(enrolled.agent, enrolled.agentId, 2), sealedRecord(enrolled.agent, enrolled.agentId, 9)] });
    expect(await client.next("ack", () => true, { from: mark })).toMatchObject({ acks: [{ seq: 2 }], nextSeq: 3 });
    client.close();
  });

  it("payloadJson is limited in UTF-8 bytes: 65,536 of multi-byte characters pass, 65,537 are bad_message", async () => {
    const enrolled = await enrollNew(edge, "bytes", "c-bytes");
    const client = await join(enrolled);
    const seal = (seq: number, payloadJson: string) =>
      recordToWire(sealRecord({ agentId: enrolled.agentId, seq, kind: "memory", timestamp: Date.now(), payloadJson }, enrolled.agent.secretKey));
    // 2-byte é and 4-byte 😀 (two UTF-16 units): exactly 65,536 bytes each.
    const twoByte = `"${"é".repeat(32_767)}"`;
    const fourByte = `"${"😀".repeat(16_383)}ab"`;
    expect([twoByte, fourByte].map((p) => Buffer.byteLength(p, "utf8"))).toEqual([65_536, 65_536]);
    client.send({ v: 1, type: "records", lamport: 2, records: [seal(0, twoByte)] });
    await client.next("ack", (a) => a.nextSeq === 1);
    client.send({ v: 1, type: "records", lamport: 3, records: [seal(1, fourByte)] });
    await client.next("ack", (a) => a.nextSeq === 2);
    // One byte more (fewer UTF-16 units than the byte limit), with a signature the edge never gets to.
    for (const over of [`"${"é".repeat(32_767)}a"`, `"${"😀".repeat(16_383)}abc"`]) {
      expect(Buffer.byteLength(over, "utf8")).toBe(65_537);
      expect(over.length).toBeLessThan(65_536);
      const mark = client.messages.length;
      const record = { agentId: enrolled.agentId, seq: 2, kind: "memory", timestamp: Date.now(), payloadJson: over, signature: `${"A".repeat(86)}==` };
      client.send({ v: 1, type: "records", lamport: 4, records: [record] });
      const error = await client.next("error", () => true, { from: mark });
      expect(error.code).toBe("bad_message");
      expect(error.message).toContain("payloadJson");
    }
    client.close();
  });
});
