/// <reference types="vite/client" />
/**
 * Property-based fuzzing of the edge's REST surface in workerd (the Worker's fetch, the real Fleet
 * object behind it): admin bodies (enrollment tokens, config patch), public enrollment, the log's
 * proof and entry queries, any method on any path with any credentials and fleet, and connect
 * tokens with hostile headers and claims signed by the agent's own key.
 *
 * For every request: no 5xx; every refusal is `{"error":{"code","message"}}` with a code documented
 * in docs/api.md or docs/protocol.md; the status and code are the ones the docs give for that input
 * (an oracle from the zod schemas and the documented order of checks); a refused request changed
 * nothing (token list, agent list, fleet config); every 200 proof verifies against the root
 * recomputed from the entries; a 101 happens only for a token that meets every documented rule.
 *
 * Seeds are printed on failure; `FUZZ_RUNS=10` runs ten times the cases.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import docsApi from "../../docs/api.md?raw";
import docsProtocol from "../../docs/protocol.md?raw";
import { bytesEqual } from "../../shared/encoding/bytes.js";
import { MemoryNodeStore, MerkleTree, hashLeaf, verifyConsistency, verifyInclusion } from "../../shared/log/index.js";
import { sealRecord } from "../../shared/log/index.js";
import {
  base64ToBytes,
  bytesToBase64Url,
  enrollRequestSchema,
  enrollmentTokenRequestSchema,
  fleetConfigPatchSchema,
  recordToWire,
} from "../../shared/protocol/index.js";
import {
  documentedCodes,
  fuzzRuns,
  hostileFrom,
  hostileQueryInteger,
  hostileQueryIntegerList,
  isDocumentedCode,
  toJsonText,
  type JsonSchema,
} from "../support/hostile-arbitraries.js";
import { documentedAnswer, type Answer } from "../support/documentedAnswer.js";
import { ADMIN, ADMIN_TOKEN, EDGE, auditLog, connect, enrollAgent, freshFleet, signedSizes, type EnrolledAgent } from "./fuzz-harness.js";

const MULTIPLIER = (env as unknown as { FUZZ_RUNS?: string }).FUZZ_RUNS;
/**
 * The seed, printed before the run: fast-check prints it only when a property fails, and a run that
 * hangs (or is killed by a time limit) would otherwise leave nothing to replay. Set it here to replay.
 */
const SEED = Date.now() % 2 ** 31;
console.log(`${import.meta.url.split("/").pop()}: fast-check seed ${SEED}`);
const MAX_BODY_BYTES = 16 * 1024;

const HTTP_CODES = (() => {
  const api = documentedCodes(docsApi);
  const auth = documentedCodes(docsProtocol.slice(docsProtocol.indexOf("## Authentication"), docsProtocol.indexOf("## Session")));
  return { codes: new Set([...api.codes, ...auth.codes]), prefixes: [...api.prefixes, ...auth.prefixes] };
})();

const jsonSchemaOf = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input" }) as JsonSchema;

/** One request through the Worker; checks the invariants every answer must meet. */
async function call(method: string, path: string, init: { headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<Answer> {
  const res = await exports.default.fetch(`${EDGE}${path}`, { method, headers: init.headers ?? {}, ...(init.body === undefined ? {} : { body: init.body }) });
  return documentedAnswer(method, path, res, HTTP_CODES);
}

const expectRefusal = (answer: Answer, status: number, code: string, what: string) => expect({ status: answer.status, code: answer.code }, `${what}: ${answer.text.slice(0, 300)}`).toEqual({ status, code });

// ---- bodies -------------------------------------------------------------------------------------

interface BodySpec {
  readonly value: unknown;
  /** "json": the value's JSON text; "garbage": text that may not be JSON at all; "huge": past the body limit. */
  readonly form: "json" | "garbage" | "huge";
  readonly garbage: string;
  readonly contentType: string | undefined;
}

const contentTypes = fc.oneof(
  { weight: 8, arbitrary: fc.constant("application/json") },
  { weight: 2, arbitrary: fc.constantFrom("application/json; charset=utf-8", "APPLICATION/JSON", "application/jsonx", "text/plain", "application/x-www-form-urlencoded", "", "application/ json", "multipart/form-data; boundary=x") },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

function bodySpec(schema: JsonSchema): fc.Arbitrary<BodySpec> {
  return fc.record({
    value: hostileFrom(schema, {}, { hugeChars: 20_000, maxDepth: 8_000 }),
    form: fc.constantFrom<BodySpec["form"]>("json", "json", "json", "json", "json", "json", "garbage", "huge"),
    garbage: fc.oneof(fc.string({ unit: "binary", maxLength: 60 }), fc.constantFrom("", "{", "null", "[]", "1e400", '{"a":1}{', "\u0000", "{}")),
    contentType: contentTypes,
  });
}

function bodyText(spec: BodySpec): string {
  if (spec.form === "garbage") return spec.garbage;
  if (spec.form === "huge") return JSON.stringify({ name: "x".repeat(MAX_BODY_BYTES) });
  return toJsonText(spec.value);
}

/**
 * What docs/api.md says the edge answers to a body, in the order it checks: size, then (for admin
 * routes, done by the caller) auth, content type, JSON, shape. Undefined: the body is acceptable.
 */
function bodyRefusal(spec: BodySpec, text: string, schema: z.ZodType): { status: number; code: string } | undefined {
  if (new TextEncoder().encode(text).length > MAX_BODY_BYTES) return { status: 413, code: "body_too_large" };
  if (spec.contentType === undefined || !/^application\/json\b/i.test(spec.contentType)) return { status: 415, code: "unsupported_media_type" };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { status: 400, code: "bad_json" };
  }
  if (!schema.safeParse(json).success) return { status: 400, code: "invalid_body" };
  return undefined;
}

const headersFor = (spec: BodySpec, auth: Record<string, string>) => ({ ...auth, ...(spec.contentType === undefined ? {} : { "Content-Type": spec.contentType }) });

async function tokenCount(fleet: string): Promise<number> {
  return ((await call("GET", `/v1/enrollment-tokens?fleet=${fleet}`, { headers: ADMIN })).json as { tokens: unknown[] }).tokens.length;
}

async function fleetConfig(fleet: string): Promise<{ version: number }> {
  return ((await call("GET", `/v1/fleet?fleet=${fleet}`, { headers: ADMIN })).json as { config: { version: number } }).config;
}

async function agentCount(fleet: string): Promise<number> {
  return ((await call("GET", `/v1/agents?fleet=${fleet}`, { headers: ADMIN })).json as { agents: unknown[] }).agents.length;
}

// ---- the log under query ------------------------------------------------------------------------

const LOG_FLEET = freshFleet("fz-rest-log");
const LOG_RECORDS = 37;
let logAgent: EnrolledAgent;
let leaves: Uint8Array[] = [];
let tree: MerkleTree;
/** The sizes of the checkpoints the edge signed: the only sizes a proof may be asked for. */
let signed: Set<number>;

beforeAll(async () => {
  logAgent = await enrollAgent(LOG_FLEET, "logger");
  const session = await connect(logAgent, 1);
  const records = Array.from({ length: LOG_RECORDS }, (_, seq) =>
    recordToWire(sealRecord({ agentId: logAgent.agentId, seq, kind: "memory", timestamp: 1_764_000_000_000 + seq, payloadJson: JSON.stringify({ seq }) }, logAgent.secretKey)),
  );
  for (let start = 0; start < LOG_RECORDS; start += 16) {
    session.send(JSON.stringify({ v: 1, type: "records", lamport: 2 + start, records: records.slice(start, start + 16) }));
    await session.until((m) => m.type === "ack" && m.nextSeq === Math.min(start + 16, LOG_RECORDS));
  }
  session.close();
  // The audit waits for a checkpoint of the whole log: no checkpoint is signed after it.
  leaves = await auditLog(LOG_FLEET, new Map([[logAgent.agentId, logAgent.publicKey]]));
  signed = new Set(await signedSizes(LOG_FLEET));
  tree = MerkleTree.open(new MemoryNodeStore());
  tree.appendMany(leaves);
}, 60_000);

/** A query parameter value, or absent. */
const param = (values: fc.Arbitrary<string>) => fc.option(values, { nil: undefined, freq: 4 });

function queryString(params: Record<string, string | undefined>): string {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join("&");
}

/** A query value the docs accept: a non-negative integer of at most 15 digits. */
const wellFormed = (v: string | undefined) => v === undefined || v === "" || /^\d{1,15}$/.test(v);

// ---- connect tokens -----------------------------------------------------------------------------

const claimsSchema: JsonSchema = {
  type: "object",
  properties: {
    iss: { type: "string", pattern: "^ag_[0-9a-f]{32}$" },
    sub: { type: "string", pattern: "^ag_[0-9a-f]{32}$" },
    aud: { type: "string", minLength: 1, maxLength: 64 },
    iat: { type: "integer", minimum: 0, maximum: 4_000_000_000 },
    exp: { type: "integer", minimum: 0, maximum: 4_000_000_000 },
    nbf: { type: "integer", minimum: 0, maximum: 4_000_000_000 },
    jti: { type: "string", minLength: 1, maxLength: 128 },
  },
  required: ["iss", "sub", "aud", "iat", "exp", "jti"],
};
const headerSchema: JsonSchema = {
  type: "object",
  properties: { alg: { const: "EdDSA" }, typ: { const: "agent+jwt" }, kid: { type: "string", pattern: "^ag_[0-9a-f]{32}$" } },
  required: ["alg", "typ", "kid"],
};

const b64url = (text: string) => bytesToBase64Url(new TextEncoder().encode(text));

describe("fuzz: the edge's REST surface", () => {
  it(`admin bodies: enrollment tokens and config patches get the documented answer and refusals change nothing (${fuzzRuns(15, MULTIPLIER)} cases)`, async () => {
    const tokenSchema = jsonSchemaOf(enrollmentTokenRequestSchema);
    const patchSchema = jsonSchemaOf(fleetConfigPatchSchema);
    const request = fc.oneof(
      fc.record({ route: fc.constant("tokens" as const), body: bodySpec(tokenSchema), auth: fc.constantFrom("admin", "admin", "admin", "none", "wrong", "lowercase") }),
      fc.record({ route: fc.constant("config" as const), body: bodySpec(patchSchema), auth: fc.constantFrom("admin", "admin", "admin", "none", "wrong", "lowercase") }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 6 }), async (requests) => {
        const fleet = freshFleet("fz-rest-admin");
        await call("GET", `/v1/fleet?fleet=${fleet}`, { headers: ADMIN });
        for (const r of requests) {
          const text = bodyText(r.body);
          const auth: Record<string, string> =
            r.auth === "admin" ? { Authorization: `Bearer ${ADMIN_TOKEN}` } : r.auth === "wrong" ? { Authorization: "Bearer not-the-token" } : r.auth === "lowercase" ? { Authorization: `bearer ${ADMIN_TOKEN}` } : {};
          const schema = r.route === "tokens" ? enrollmentTokenRequestSchema : fleetConfigPatchSchema;
          const sizeOrBody = bodyRefusal(r.body, text, schema);
          const expected =
            sizeOrBody?.status === 413
              ? sizeOrBody
              : r.auth === "none" || r.auth === "lowercase"
                ? { status: 401, code: "admin_auth_required" }
                : r.auth === "wrong"
                  ? { status: 401, code: "admin_auth_invalid" }
                  : sizeOrBody;
          const tokensBefore = await tokenCount(fleet);
          const configBefore = await fleetConfig(fleet);
          const answer =
            r.route === "tokens"
              ? await call("POST", `/v1/enrollment-tokens?fleet=${fleet}`, { headers: headersFor(r.body, auth), body: text })
              : await call("PATCH", `/v1/fleet/config?fleet=${fleet}`, { headers: headersFor(r.body, auth), body: text });
          if (expected !== undefined) {
            expectRefusal(answer, expected.status, expected.code, r.route);
          } else if (r.route === "tokens") {
            expect(answer.status, answer.text).toBe(201);
            const spec = enrollmentTokenRequestSchema.parse(JSON.parse(text));
            expect(answer.json).toMatchObject({ maxUses: spec.maxUses, requireApproval: spec.requireApproval, name: spec.name ?? null, fleetId: fleet });
          } else {
            // The patch is well-formed; the whole config must then be valid, or 400 invalid_config.
            if (answer.status !== 200) expectRefusal(answer, 400, "invalid_config", "config");
            else expect((answer.json as { version: number }).version).toBe(configBefore.version + 1);
          }
          const accepted = answer.status < 300;
          expect(await tokenCount(fleet)).toBe(tokensBefore + (accepted && r.route === "tokens" ? 1 : 0));
          expect((await fleetConfig(fleet)).version).toBe(configBefore.version + (accepted && r.route === "config" ? 1 : 0));
        }
      }),
      { seed: SEED, numRuns: fuzzRuns(15, MULTIPLIER) },
    );
  }, 600_000);

  it(`public enrollment: hostile bodies get the documented refusal in the documented order, and only a 201 adds an agent (${fuzzRuns(15, MULTIPLIER)} cases)`, async () => {
    const enrollSchema = jsonSchemaOf(enrollRequestSchema);
    const request = fc.record({
      body: bodySpec(enrollSchema),
      token: fc.constantFrom("good", "good", "revoked", "unknown", "generated"),
      key: fc.constantFrom("fresh", "fresh", "reused", "offCurve", "generated"),
      seed: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 6 }), async (requests) => {
        const fleet = freshFleet("fz-rest-enroll");
        const good = (await call("POST", `/v1/enrollment-tokens?fleet=${fleet}`, { headers: ADMIN, body: JSON.stringify({ maxUses: 2 }) })).json as { token: string };
        const revoked = (await call("POST", `/v1/enrollment-tokens?fleet=${fleet}`, { headers: ADMIN, body: "{}" })).json as { id: string; token: string };
        await call("DELETE", `/v1/enrollment-tokens/${revoked.id}?fleet=${fleet}`, { headers: ADMIN });
        let uses = 0;
        const enrolled: string[] = [];
        for (const r of requests) {
          let value = r.body.value;
          if (r.body.form === "json" && typeof value === "object" && value !== null && !Array.isArray(value)) {
            const v = { ...(value as Record<string, unknown>) };
            if (r.token !== "generated") v.token = r.token === "good" ? good.token : r.token === "revoked" ? revoked.token : "bet_unknown";
            if (r.key !== "generated" && typeof v.publicKey === "object" && v.publicKey !== null) {
              const fresh = bytesToBase64Url(ed25519.getPublicKey(r.seed));
              // 32 bytes of 0xff… is not the encoding of a curve point.
              const x = r.key === "fresh" ? fresh : r.key === "reused" ? (enrolled[0] ?? fresh) : bytesToBase64Url(new Uint8Array(32).fill(0xff));
              v.publicKey = { ...(v.publicKey as Record<string, unknown>), x };
            }
            value = v;
          }
          const spec = { ...r.body, value };
          const text = bodyText(spec);
          const before = await agentCount(fleet);
          const answer = await call("POST", `/v1/enroll?fleet=${fleet}`, { headers: headersFor(spec, {}), body: text });
          const refusal = bodyRefusal(spec, text, enrollRequestSchema);
          if (refusal !== undefined) {
            expectRefusal(answer, refusal.status, refusal.code, "enroll");
          } else {
            const body = enrollRequestSchema.parse(JSON.parse(text));
            let onCurve = true;
            try {
              ed25519.Point.fromBytes(base64ToBytes(body.publicKey.x.replace(/-/g, "+").replace(/_/g, "/") + "="));
            } catch {
              onCurve = false;
            }
            if (!onCurve) expectRefusal(answer, 400, "invalid_public_key", "enroll");
            else if (body.token === revoked.token) expectRefusal(answer, 410, "enrollment_token_revoked", "enroll");
            else if (body.token !== good.token) expectRefusal(answer, 401, "enrollment_token_unknown", "enroll");
            else if (uses >= 2) expectRefusal(answer, 410, "enrollment_token_used_up", "enroll");
            else if (enrolled.includes(body.publicKey.x)) expectRefusal(answer, 409, "key_already_enrolled", "enroll");
            else {
              expect(answer.status, answer.text).toBe(201);
              uses += 1;
              enrolled.push(body.publicKey.x);
            }
          }
          expect(await agentCount(fleet)).toBe(before + (answer.status === 201 ? 1 : 0));
        }
      }),
      { seed: SEED, numRuns: fuzzRuns(15, MULTIPLIER) },
    );
  }, 600_000);

  it(`log queries: hostile parameters are refused with bad_query/bad_proof_request/entry_not_found/unsigned_size, and every proof served verifies (${fuzzRuns(200, MULTIPLIER)} cases)`, async () => {
    const int = param(
      fc.oneof(
        { weight: 3, arbitrary: fc.nat({ max: leaves.length + 3 }).map(String) },
        { weight: 3, arbitrary: fc.constantFrom(...signed).map(String) },
        { weight: 2, arbitrary: hostileQueryInteger() },
      ),
    );
    const query = fc.oneof(
      fc.record({ route: fc.constant("inclusion" as const), index: int, size: int, agent: param(fc.constantFrom("self", "ag_" + "0".repeat(32), "", "x".repeat(300))), seq: int }),
      fc.record({ route: fc.constant("inclusions" as const), indices: param(hostileQueryIntegerList(64)), size: int }),
      fc.record({ route: fc.constant("consistency" as const), from: int, to: int }),
      fc.record({ route: fc.constant("entries" as const), start: int, end: int }),
    );
    // The agent's two key entries, then its records: the latest checkpoint covers them all.
    const latestSize = leaves.length;
    expect(latestSize).toBe(LOG_RECORDS + 2);
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const params: Record<string, string | undefined> = { ...q } as Record<string, string | undefined>;
        delete params.route;
        if (params.agent === "self") params.agent = logAgent.agentId;
        const path = `/v1/log/${q.route === "inclusion" || q.route === "inclusions" || q.route === "consistency" ? `proof/${q.route}` : "entries"}?fleet=${LOG_FLEET}&${queryString(params)}`;
        const answer = await call("GET", path);
        const malformed = Object.entries(params).some(([k, v]) => k !== "agent" && k !== "indices" && !wellFormed(v));
        if (malformed) {
          expectRefusal(answer, 400, "bad_query", path);
          return;
        }
        // Explicit proof sizes must be signed ones: refused with unsigned_size exactly when one is not.
        const sizes = q.route === "entries" ? [] : [params.size, params.from, params.to].filter((v) => v !== undefined && v !== "").map(Number);
        const unsigned = sizes.some((n) => !signed.has(n));
        if (answer.status !== 200) {
          expect(["bad_query", "bad_proof_request", "entry_not_found", "bad_range", "unsigned_size"], `${path}: ${answer.text}`).toContain(answer.code);
          if (answer.code === "unsigned_size") expect(unsigned, path).toBe(true);
          else if (answer.code !== "bad_query") expect(unsigned, `${path}: ${answer.text}`).toBe(false);
          return;
        }
        expect(unsigned, path).toBe(false);
        const size = (v: string | undefined) => (v === undefined || v === "" ? latestSize : Number(v));
        if (q.route === "inclusion") {
          const proof = answer.json as { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] };
          expect(proof.treeSize).toBe(size(params.size));
          verifyInclusion(hashLeaf(leaves[proof.leafIdx]!), proof.leafIdx, proof.treeSize, proof.proof.map(base64ToBytes), tree.root(proof.treeSize));
          expect(bytesEqual(base64ToBytes(proof.root), tree.root(proof.treeSize))).toBe(true);
        } else if (q.route === "inclusions") {
          const batch = answer.json as { treeSize: number; proofs: { leafIdx: number; proof: string[] }[] };
          expect(batch.proofs.map((p) => p.leafIdx)).toEqual(params.indices!.split(",").map(Number));
          for (const p of batch.proofs) verifyInclusion(hashLeaf(leaves[p.leafIdx]!), p.leafIdx, batch.treeSize, p.proof.map(base64ToBytes), tree.root(batch.treeSize));
        } else if (q.route === "consistency") {
          const proof = answer.json as { size1: number; size2: number; proof: string[] };
          expect(proof.size2).toBe(size(params.to));
          verifyConsistency(proof.size1, proof.size2, proof.proof.map(base64ToBytes), tree.root(proof.size1), tree.root(proof.size2));
        } else {
          const page = answer.json as { start: number; end: number; entries: { index: number; leaf: string }[] };
          expect(page.entries.length).toBeLessThanOrEqual(256);
          for (const e of page.entries) expect(bytesEqual(base64ToBytes(e.leaf), leaves[e.index]!)).toBe(true);
        }
      }),
      { seed: SEED, numRuns: fuzzRuns(200, MULTIPLIER) },
    );
  }, 600_000);

  it(`any method, path, fleet and credentials: JSON refusals with documented codes, admin routes closed without the token (${fuzzRuns(200, MULTIPLIER)} cases)`, async () => {
    const fleet = freshFleet("fz-rest-routes");
    await call("GET", `/v1/fleet?fleet=${fleet}`, { headers: ADMIN });
    const segment = fc.oneof(
      fc.constantFrom("v1", "agents", "fleet", "config", "enrollment-tokens", "enroll", "connect", "log", "proof", "inclusion", "entries", "checkpoint", "key", "health", "approve", "revoke", "..", ".", "%2e%2e", "%00", ""),
      fc.string({ unit: "grapheme-ascii", maxLength: 12 }).map(encodeURIComponent),
      fc.constant("ag_" + "0".repeat(32)),
      fc.integer({ min: 100, max: 9000 }).map((n) => "a".repeat(n)),
    );
    const request = fc.record({
      method: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"),
      path: fc.oneof(
        fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => "/" + s.join("/")),
        fc.constantFrom("/health", "/v1/agents", "/v1/fleet", "/v1/fleet/config", "/v1/enrollment-tokens", "/v1/enroll", "/v1/connect", "/v1/log/checkpoint", "/v1/log/key", "/v1/agents/x/approve", "/v1/agents/x/revoke", "/v1/enrollment-tokens/tok_x"),
      ),
      fleet: fc.oneof({ weight: 4, arbitrary: fc.constant(fleet) }, { weight: 1, arbitrary: fc.constantFrom("", "UPPER", "-x", "a".repeat(64), "a b", "ü", "default", "nope-never-made") }),
      auth: fc.constantFrom<string | undefined>(undefined, `Bearer ${ADMIN_TOKEN}`, "Bearer x", "Basic dGVzdA==", `Bearer ${ADMIN_TOKEN} `, `Bearer  ${ADMIN_TOKEN}`, "Bearer", "x".repeat(9000)),
      body: fc.option(fc.oneof(fc.constant("{}"), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v))), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = { "Content-Type": "application/json" };
        if (r.auth !== undefined) headers.Authorization = r.auth;
        const withBody = r.body !== undefined && r.method !== "GET" && r.method !== "HEAD";
        const answer = await call(r.method, `${r.path}?fleet=${encodeURIComponent(r.fleet)}`, withBody ? { headers, body: r.body! } : { headers });
        const admin = /^\/v1\/(agents|fleet|enrollment-tokens)(\/|$)/.test(r.path);
        if (admin && answer.status < 300 && r.method !== "OPTIONS") expect(r.auth?.trim(), `${r.method} ${r.path}`).toBe(`Bearer ${ADMIN_TOKEN}`);
        if (r.method !== "HEAD" && answer.status >= 400) expect(answer.json).toBeDefined();
      }),
      { seed: SEED, numRuns: fuzzRuns(200, MULTIPLIER) },
    );
  }, 600_000);

  it(`connect tokens: hostile headers and claims signed with the agent's own key never open a socket unless every rule holds (${fuzzRuns(60, MULTIPLIER)} cases)`, async () => {
    const fleet = freshFleet("fz-rest-connect");
    const agent = await enrollAgent(fleet, "connector");
    const now = () => Math.floor(Date.now() / 1000);
    const token = fc.record({
      header: hostileFrom(headerSchema),
      claims: hostileFrom(claimsSchema),
      identity: fc.constantFrom("self", "self", "self", "keep"),
      times: fc.constantFrom("now", "now", "keep", "past", "future", "long"),
      signer: fc.constantFrom("self", "self", "self", "other", "none"),
      tamper: fc.constantFrom("none", "none", "none", "dropSignature", "extraDot", "garbage"),
    });
    await fc.assert(
      fc.asyncProperty(token, async (t) => {
        const header = typeof t.header === "object" && t.header !== null && !Array.isArray(t.header) ? { ...(t.header as Record<string, unknown>) } : t.header;
        const claims = typeof t.claims === "object" && t.claims !== null && !Array.isArray(t.claims) ? { ...(t.claims as Record<string, unknown>) } : t.claims;
        if (t.identity === "self" && typeof header === "object" && header !== null && typeof claims === "object" && claims !== null) {
          const h = header as Record<string, unknown>;
          const c = claims as Record<string, unknown>;
          if (typeof h.kid === "string") h.kid = agent.agentId;
          for (const k of ["iss", "sub"]) if (typeof c[k] === "string") c[k] = agent.agentId;
          if (typeof c.aud === "string") c.aud = agent.audience;
          if (typeof c.jti === "string") c.jti = `${c.jti}-${crypto.randomUUID()}`.slice(-128);
          const n = now();
          if (t.times === "now") Object.assign(c, { iat: n, exp: n + 60 }, "nbf" in c ? { nbf: n } : {});
          if (t.times === "past") Object.assign(c, { iat: n - 600, exp: n - 300 });
          if (t.times === "future") Object.assign(c, { iat: n + 600, exp: n + 660 });
          if (t.times === "long") Object.assign(c, { iat: n, exp: n + 121 });
        }
        const signingInput = `${b64url(toJsonText(header))}.${b64url(toJsonText(claims))}`;
        const key = t.signer === "other" ? ed25519.utils.randomSecretKey() : agent.secretKey;
        const signature = t.signer === "none" ? "" : bytesToBase64Url(ed25519.sign(new TextEncoder().encode(signingInput), key));
        let jwt = `${signingInput}.${signature}`;
        if (t.tamper === "dropSignature") jwt = signingInput;
        if (t.tamper === "extraDot") jwt = `${jwt}.`;
        if (t.tamper === "garbage") jwt = jwt.replace(/\./g, "!");
        const res = await exports.default.fetch(`${EDGE}/v1/connect?fleet=${fleet}`, { headers: { Upgrade: "websocket", Authorization: `Bearer ${jwt}` } });
        if (res.status === 101) {
          res.webSocket?.accept();
          res.webSocket?.close(1000, "done");
          // Every documented rule must hold for the token the edge accepted.
          const h = header as Record<string, unknown>;
          const c = claims as Record<string, unknown>;
          const n = now();
          expect(["EdDSA", "Ed25519"]).toContain(h.alg);
          expect(h.typ).toBe("agent+jwt");
          expect([h.kid, c.iss, c.sub]).toEqual([agent.agentId, agent.agentId, agent.agentId]);
          expect(c.aud === agent.audience || (Array.isArray(c.aud) && c.aud.includes(agent.audience))).toBe(true);
          expect(t.signer).toBe("self");
          expect(typeof c.exp === "number" && typeof c.iat === "number" && c.exp - c.iat <= 120 && c.exp >= n - 5 && c.iat <= n + 5).toBe(true);
          expect(typeof c.jti === "string" && c.jti.length >= 1 && c.jti.length <= 128).toBe(true);
          return;
        }
        const text = await res.text();
        expect(res.status, text).toBe(401);
        const code = (JSON.parse(text) as { error: { code: string } }).error.code;
        expect(isDocumentedCode(code, HTTP_CODES), code).toBe(true);
      }),
      { seed: SEED, numRuns: fuzzRuns(60, MULTIPLIER) },
    );
  }, 600_000);
});

