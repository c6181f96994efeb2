/**
 * Dashboard sessions, the Origin rule, the records route and the dashboard's static files, against
 * the real Worker and Fleet object in workerd (docs/api.md, "Sessions (dashboard sign-in)").
 */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sealRecord } from "../../shared/log/index.js";
import { recordToWire } from "../../shared/protocol/index.js";
import { DASHBOARD_CSP, IMMUTABLE_CACHE } from "../../edge/http/dashboard-headers.js";
import { createApp } from "../../edge/http/app.js";
import { sessionIdHash } from "../../edge/fleet/session-store.js";
import { ADMIN, enrollAgent, open } from "./fleet-agent.js";

const TOKEN = "test-admin-token";
/** A loopback origin: plain http is local development there. */
const LOCAL = "http://127.0.0.1:8787";
const SECURE = "https://edge.test";

let clients = 0;
/** A client address of its own per test: the failed sign-in limit is per address. */
const newClient = () => `198.51.100.${++clients}`;

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function request(method: string, url: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await exports.default.fetch(url, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (assets)
  }
  return { status: res.status, body, headers: res.headers };
}

/** The attributes of a Set-Cookie header: name=value, then the flags as a map. */
function parseSetCookie(header: string | null): { name: string; value: string; flags: Map<string, string | true> } {
  expect(header).not.toBeNull();
  const [pair, ...attributes] = header!.split(";").map((part) => part.trim());
  const [name, value] = [pair!.slice(0, pair!.indexOf("=")), pair!.slice(pair!.indexOf("=") + 1)];
  const flags = new Map<string, string | true>();
  for (const attribute of attributes) {
    const eq = attribute.indexOf("=");
    flags.set((eq < 0 ? attribute : attribute.slice(0, eq)).toLowerCase(), eq < 0 ? true : attribute.slice(eq + 1));
  }
  return { name, value, flags };
}

async function signIn(base: string, fleet: string, client = newClient()): Promise<{ cookie: string; id: string; answer: Answer }> {
  const answer = await request("POST", `${base}/v1/session?fleet=${fleet}`, { body: { token: TOKEN }, headers: { Origin: base, "CF-Connecting-IP": client } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const { name, value } = parseSetCookie(answer.headers.get("Set-Cookie"));
  return { cookie: `${name}=${value}`, id: value, answer };
}

const stubFor = (fleet: string) => env.FLEET.get(env.FLEET.idFromName(fleet));

describe("sign-in", () => {
  it("a right token answers the expiry and sets the cookie with exactly the contract's flags (Secure off loopback)", async () => {
    const before = Date.now();
    const { id, answer } = await signIn(SECURE, "s-flags");
    expect(answer.body).toEqual({ expiresAt: expect.stringMatching(/Z$/) });
    const expiresAt = Date.parse(answer.body.expiresAt);
    expect(expiresAt - before).toBeGreaterThanOrEqual(12 * 3600_000 - 5_000);
    expect(expiresAt - before).toBeLessThanOrEqual(12 * 3600_000 + 5_000);
    const cookie = parseSetCookie(answer.headers.get("Set-Cookie"));
    expect(cookie.name).toBe("bo_session");
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.fromEntries(cookie.flags)).toEqual({ "max-age": "43200", path: "/", httponly: true, secure: true, samesite: "Strict" });
    // Only the SHA-256 of the id is stored.
    const rows = await runInDurableObject(stubFor("s-flags"), (_i, state) => state.storage.sql.exec<{ id_hash: string }>(`SELECT id_hash FROM sessions`).toArray());
    expect(rows).toEqual([{ id_hash: sessionIdHash(id) }]);
    for (const base of [LOCAL, "http://localhost:8787", "http://[::1]:8787"]) {
      const local = await signIn(base, "s-flags");
      expect(Object.fromEntries(parseSetCookie(local.answer.headers.get("Set-Cookie")).flags), base).toEqual({ "max-age": "43200", path: "/", httponly: true, samesite: "Strict" });
    }
  });

  it("a wrong token is 401 signin_failed and sets nothing; the 11th failure from one address is 429 with Retry-After, even with the right token", async () => {
    const client = newClient();
    for (let attempt = 1; attempt <= 10; attempt++) {
      const wrong = await request("POST", `${LOCAL}/v1/session?fleet=s-limit`, { body: { token: `${TOKEN}x` }, headers: { "CF-Connecting-IP": client } });
      expect([wrong.status, wrong.body.error.code]).toEqual([401, "signin_failed"]);
      expect(wrong.headers.get("Set-Cookie")).toBeNull();
    }
    for (const token of [`${TOKEN}x`, TOKEN]) {
      const limited = await request("POST", `${LOCAL}/v1/session?fleet=s-limit`, { body: { token }, headers: { "CF-Connecting-IP": client } });
      expect([limited.status, limited.body.error.code]).toEqual([429, "signin_rate_limited"]);
      const retryAfter = Number(limited.headers.get("Retry-After"));
      expect(retryAfter).toBeGreaterThan(500);
      expect(retryAfter).toBeLessThanOrEqual(600);
      expect(limited.headers.get("Set-Cookie")).toBeNull();
    }
    // Another address is not held back.
    await signIn(LOCAL, "s-limit");
  });

  it("plain http to a host that is not loopback is 403 https_required: the token must not travel in clear", async () => {
    const answer = await request("POST", "http://example.com/v1/session", { body: { token: TOKEN } });
    expect([answer.status, answer.body.error.code]).toEqual([403, "https_required"]);
    expect(answer.headers.get("Set-Cookie")).toBeNull();
  });

  it("a wrong token never creates a fleet", async () => {
    const wrong = await request("POST", `${LOCAL}/v1/session?fleet=s-nobody`, { body: { token: "nope" }, headers: { "CF-Connecting-IP": newClient() } });
    expect(wrong.status).toBe(401);
    const checkpoint = await request("GET", `${LOCAL}/v1/log/checkpoint?fleet=s-nobody`);
    expect(checkpoint.body.error.code).toBe("fleet_not_found");
  });
});

describe("the session on admin routes", () => {
  it("reads and changes state with the cookie alone (same Origin), and GET /v1/session says so", async () => {
    const { cookie } = await signIn(LOCAL, "s-admin");
    const state = await request("GET", `${LOCAL}/v1/session?fleet=s-admin`, { headers: { Cookie: cookie } });
    expect(state.status).toBe(200);
    expect(state.body).toEqual({ signedIn: true, expiresAt: expect.stringMatching(/Z$/) });
    expect((await request("GET", `${LOCAL}/v1/agents?fleet=s-admin`, { headers: { Cookie: cookie } })).status).toBe(200);
    const created = await request("POST", `${LOCAL}/v1/enrollment-tokens?fleet=s-admin`, { body: {}, headers: { Cookie: cookie, Origin: LOCAL } });
    expect(created.status).toBe(201);
    const patched = await request("PATCH", `${LOCAL}/v1/fleet/config?fleet=s-admin`, { body: { coupling: 2 }, headers: { Cookie: cookie, Origin: LOCAL } });
    expect(patched.status).toBe(200);
    // Signing in again with the cookie replaces that session.
    const again = await request("POST", `${LOCAL}/v1/session?fleet=s-admin`, { body: { token: TOKEN }, headers: { Cookie: cookie, Origin: LOCAL, "CF-Connecting-IP": newClient() } });
    expect(again.status).toBe(200);
    const replaced = await request("GET", `${LOCAL}/v1/session?fleet=s-admin`, { headers: { Cookie: cookie } });
    expect([replaced.status, replaced.body.error?.code]).toEqual([401, "session_required"]);
    const fresh = `bo_session=${parseSetCookie(again.headers.get("Set-Cookie")).value}`;
    expect((await request("GET", `${LOCAL}/v1/session?fleet=s-admin`, { headers: { Cookie: fresh } })).status).toBe(200);
    // A session belongs to its fleet.
    const elsewhere = await request("GET", `${LOCAL}/v1/agents?fleet=s-admin-other`, { headers: { Cookie: cookie } });
    expect([elsewhere.status, elsewhere.body.error.code]).toEqual([401, "session_required"]);
  });

  it("without any credential it is still admin_auth_required; a wrong bearer still admin_auth_invalid; a bearer wins over a cookie", async () => {
    const none = await request("GET", `${LOCAL}/v1/agents?fleet=s-bearer`);
    expect([none.status, none.body.error.code]).toEqual([401, "admin_auth_required"]);
    expect(none.headers.get("WWW-Authenticate")).toContain("Bearer");
    const wrong = await request("GET", `${LOCAL}/v1/agents?fleet=s-bearer`, { headers: { Authorization: "Bearer nope", Cookie: "bo_session=whatever" } });
    expect([wrong.status, wrong.body.error.code]).toEqual([401, "admin_auth_invalid"]);
    const right = await request("GET", `${LOCAL}/v1/agents?fleet=s-bearer`, { headers: { Authorization: `Bearer ${TOKEN}`, Cookie: "bo_session=whatever" } });
    expect(right.status).toBe(200);
  });

  it("an unknown, expired or revoked session is 401 session_required, and the answer clears the cookie", async () => {
    const expectRefused = async (cookie: string, what: string) => {
      for (const path of ["/v1/agents", "/v1/session"]) {
        const refused = await request("GET", `${LOCAL}${path}?fleet=s-ended`, { headers: { Cookie: cookie } });
        expect([refused.status, refused.body.error.code], `${what} ${path}`).toEqual([401, "session_required"]);
        const cleared = parseSetCookie(refused.headers.get("Set-Cookie"));
        expect([cleared.name, cleared.value, cleared.flags.get("max-age")], what).toEqual(["bo_session", "", "0"]);
      }
    };
    await signIn(LOCAL, "s-ended");
    await expectRefused(`bo_session=${"A".repeat(43)}`, "unknown");
    await expectRefused("bo_session=not-even-well-formed", "malformed");
    const expired = await signIn(LOCAL, "s-ended");
    await runInDurableObject(stubFor("s-ended"), (_i, state) => {
      state.storage.sql.exec(`UPDATE sessions SET expires_at = ? WHERE id_hash = ?`, Date.now() - 1, sessionIdHash(expired.id));
    });
    await expectRefused(expired.cookie, "expired");
    const revoked = await signIn(LOCAL, "s-ended");
    const all = await request("DELETE", `${LOCAL}/v1/sessions?fleet=s-ended`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(all.status).toBe(200);
    expect(all.body).toEqual({ revoked: 2 });
    await expectRefused(revoked.cookie, "revoked");
  });

  it("sign-out ends the session server-side: the cookie replayed afterwards fails, and its live sockets are closed", async () => {
    const { cookie, id } = await signIn(LOCAL, "s-out");
    const other = await signIn(LOCAL, "s-out");
    // Viewer sockets as the live channel accepts them (tag "viewer", attachment sessionHash); their
    // client ends stay inside the object (I/O objects cannot cross to the test's context).
    await runInDurableObject(stubFor("s-out"), (_i, state) => {
      for (const sessionId of [id, other.id]) {
        const pair = new WebSocketPair();
        state.acceptWebSocket(pair[1], ["viewer"]);
        pair[1].serializeAttachment({ kind: "viewer", sessionHash: sessionIdHash(sessionId), expiresAt: Date.now() + 60_000, openedAt: Date.now() });
      }
    });
    const viewerStates = () =>
      runInDurableObject(stubFor("s-out"), (_i, state) =>
        Object.fromEntries(state.getWebSockets("viewer").map((ws) => [(ws.deserializeAttachment() as { sessionHash: string }).sessionHash, ws.readyState])),
      );
    expect(await viewerStates()).toEqual({ [sessionIdHash(id)]: WebSocket.OPEN, [sessionIdHash(other.id)]: WebSocket.OPEN });
    const out = await request("DELETE", `${LOCAL}/v1/session?fleet=s-out`, { headers: { Cookie: cookie, Origin: LOCAL } });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ signedOut: true });
    const cleared = parseSetCookie(out.headers.get("Set-Cookie"));
    expect([cleared.value, cleared.flags.get("max-age"), cleared.flags.get("httponly"), cleared.flags.get("samesite"), cleared.flags.get("path")]).toEqual(["", "0", true, "Strict", "/"]);
    // The signed-out session's socket is closing (4401 sent), the other one is open.
    const after = await viewerStates();
    expect(after[sessionIdHash(id)] ?? WebSocket.CLOSED).not.toBe(WebSocket.OPEN);
    expect(after[sessionIdHash(other.id)]).toBe(WebSocket.OPEN);
    const replayed = await request("GET", `${LOCAL}/v1/agents?fleet=s-out`, { headers: { Cookie: cookie } });
    expect([replayed.status, replayed.body.error.code]).toEqual([401, "session_required"]);
    // The other session and its socket live on.
    expect((await request("GET", `${LOCAL}/v1/session?fleet=s-out`, { headers: { Cookie: other.cookie } })).status).toBe(200);
  });
});

describe("Origin (CSRF)", () => {
  it("a state change from another Origin is 403 origin_refused, whatever the credential; with the cookie, a missing Origin is refused too", async () => {
    const { cookie } = await signIn(LOCAL, "s-origin");
    const foreign = "https://evil.example";
    const attempts: [string, string, unknown][] = [
      ["POST", "/v1/enrollment-tokens", {}],
      ["PATCH", "/v1/fleet/config", { coupling: 3 }],
      ["DELETE", "/v1/sessions", undefined],
      ["DELETE", "/v1/session", undefined],
    ];
    for (const [method, path, body] of attempts) {
      for (const [what, headers] of [
        ["cookie, foreign Origin", { Cookie: cookie, Origin: foreign }],
        ["bearer, foreign Origin", { Authorization: `Bearer ${TOKEN}`, Origin: foreign }],
        ["cookie, no Origin", { Cookie: cookie }],
        ["cookie, Origin null", { Cookie: cookie, Origin: "null" }],
        ["cookie, other port", { Cookie: cookie, Origin: "http://127.0.0.1:9999" }],
      ] as const) {
        const refused = await request(method, `${LOCAL}${path}?fleet=s-origin`, { body, headers });
        expect([refused.status, refused.body.error?.code], `${method} ${path} ${what}`).toEqual([403, "origin_refused"]);
      }
    }
    // Nothing was applied: the session still lives, and no token was created.
    expect((await request("GET", `${LOCAL}/v1/session?fleet=s-origin`, { headers: { Cookie: cookie } })).status).toBe(200);
    expect((await request("GET", `${LOCAL}/v1/enrollment-tokens?fleet=s-origin`, { headers: { Cookie: cookie } })).body.tokens).toEqual([]);
    // A sign-in from another Origin is refused as well (login CSRF).
    const signInElsewhere = await request("POST", `${LOCAL}/v1/session?fleet=s-origin`, { body: { token: TOKEN }, headers: { Origin: foreign } });
    expect([signInElsewhere.status, signInElsewhere.body.error.code]).toEqual([403, "origin_refused"]);
    // The CLI's bearer without Origin, and reads, are unaffected.
    expect((await request("POST", `${LOCAL}/v1/enrollment-tokens?fleet=s-origin`, { body: {}, headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(201);
    expect((await request("GET", `${LOCAL}/v1/agents?fleet=s-origin`, { headers: { Cookie: cookie, Origin: foreign } })).status).toBe(200);
  });
});

describe("agent records", () => {
  it("GET /v1/agents/:id/records pages an agent's records newest first, with the entry the log serves", async () => {
    const agent = await enrollAgent("s-records", "rec");
    const session = await open(agent, 1);
    const record = (seq: number) =>
      recordToWire(sealRecord({ agentId: agent.agentId, seq, kind: "memory", timestamp: 1_700_000_000_000 + seq, payloadJson: JSON.stringify({ seq, lamport: 10 + seq }) }, agent.secretKey));
    session.send({ v: 1, type: "records", lamport: 2, records: [0, 1, 2].map(record) });
    await session.next("ack", (a) => a.nextSeq === 3);
    const { cookie } = await signIn(LOCAL, "s-records");
    const first = await request("GET", `${LOCAL}/v1/agents/${agent.agentId}/records?fleet=s-records&limit=2`, { headers: { Cookie: cookie } });
    expect(first.status).toBe(200);
    expect(first.body.records.map((r: any) => [r.seq, r.kind, r.lamport, r.t])).toEqual([
      [2, "memory", 12, new Date(1_700_000_000_002).toISOString()],
      [1, "memory", 11, new Date(1_700_000_000_001).toISOString()],
    ]);
    expect(first.body.nextBefore).toBe(1);
    const top = first.body.records[0];
    const entries = await request("GET", `${LOCAL}/v1/log/entries?fleet=s-records&start=${top.index}&end=${top.index + 1}`);
    expect(top.entry).toEqual(entries.body.entries[0]);
    const rest = await request("GET", `${LOCAL}/v1/agents/${agent.agentId}/records?fleet=s-records&before=1`, { headers: ADMIN });
    expect(rest.body).toMatchObject({ records: [{ seq: 0 }], nextBefore: null });
    for (const limit of ["0", "101", "x"]) {
      const bad = await request("GET", `${LOCAL}/v1/agents/${agent.agentId}/records?fleet=s-records&limit=${limit}`, { headers: ADMIN });
      expect([bad.status, bad.body.error.code], limit).toEqual([400, "bad_query"]);
    }
    const unknown = await request("GET", `${LOCAL}/v1/agents/ag_${"0".repeat(32)}/records?fleet=s-records`, { headers: ADMIN });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "agent_not_found"]);
    expect((await request("GET", `${LOCAL}/v1/agents/${agent.agentId}/records?fleet=s-records`)).status).toBe(401);
    session.ws.close(1000, "done");
  });
});

describe("the dashboard's files", () => {
  it("/ , a client route and a hashed asset carry the CSP, frame-ancestors 'none', DENY and the cache rules", async () => {
    expect(DASHBOARD_CSP).not.toMatch(/unsafe-(inline|eval)/);
    expect(DASHBOARD_CSP).toContain("frame-ancestors 'none'");
    const index = await request("GET", `${LOCAL}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("Content-Type")).toMatch(/^text\/html/);
    const asset = /\/assets\/[^"']+\.js/.exec(String(index.body))?.[0];
    expect(asset, "index.html links its script under /assets/").toBeDefined();
    const clientRoute = await request("GET", `${LOCAL}/agents/ag_${"1".repeat(32)}`);
    expect(clientRoute.body).toBe(index.body);
    const script = await request("GET", `${LOCAL}${asset}`);
    expect(script.status).toBe(200);
    for (const [what, answer, cache] of [
      ["/", index, "no-cache"],
      ["client route", clientRoute, "no-cache"],
      [asset!, script, IMMUTABLE_CACHE],
    ] as const) {
      expect(answer.headers.get("Content-Security-Policy"), what).toBe(DASHBOARD_CSP);
      expect(answer.headers.get("X-Frame-Options"), what).toBe("DENY");
      expect(answer.headers.get("Referrer-Policy"), what).toBe("no-referrer");
      expect(answer.headers.get("X-Content-Type-Options"), what).toBe("nosniff");
      expect(answer.headers.get("Cache-Control"), what).toBe(cache);
    }
    // The API keeps its JSON and Hono's secure headers.
    const api = await request("GET", `${LOCAL}/v1/nope`);
    expect([api.status, api.body.error.code, api.headers.get("X-Frame-Options")]).toEqual([404, "not_found", "DENY"]);
  });

  it("X-BecomingOne-* headers from outside never reach what the Worker forwards", async () => {
    // The assets binding as the platform gives it, recording what the Worker passes on.
    const seen: string[][] = [];
    const ASSETS = { fetch: async (input: RequestInfo | URL, init?: RequestInit) => (seen.push([...new Request(input, init).headers.keys()]), new Response("<!doctype html>", { headers: { "Content-Type": "text/html" } })) };
    const res = await createApp().fetch(
      new Request(`${LOCAL}/`, { headers: { "X-BecomingOne-Viewer": "a".repeat(64), "x-becomingone-agent-id": "ag_x", "X-Other": "kept" } }),
      { ...env, ASSETS } as typeof env,
    );
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toContain("x-other");
    expect(seen[0]!.filter((name) => name.startsWith("x-becomingone-"))).toEqual([]);
    // And a forged agent id on an upgrade does not stand in for the JWT.
    const forged = await request("GET", `${LOCAL}/v1/connect?fleet=s-forged`, { headers: { Upgrade: "websocket", "X-BecomingOne-Agent-Id": "ag_x", "X-BecomingOne-Jti": "j" } });
    expect([forged.status, forged.body.error.code]).toEqual([401, "jwt_missing"]);
  });
});
