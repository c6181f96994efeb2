/**
 * The dashboard's sign-in and files through `wrangler dev` (real HTTP, the platform's own assets
 * routing with run_worker_first), as a browser on the operator's machine meets them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_CSP } from "../../edge/http/dashboard-headers.js";
import { startEdge, type RunningEdge } from "../support/edge.js";

let edge: RunningEdge;

beforeAll(async () => {
  edge = await startEdge();
});

afterAll(async () => {
  await edge?.dispose();
});

async function send(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(`${edge.url}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    redirect: "manual",
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

describe("dashboard over wrangler dev", () => {
  it("serves / and client routes from the assets with the CSP; /v1 stays the API", async () => {
    for (const path of ["/", "/agents", "/log/3", "/sign-in"]) {
      const page = await send("GET", path);
      expect(page.status, path).toBe(200);
      expect(page.headers.get("content-type"), path).toMatch(/^text\/html/);
      expect(page.headers.get("content-security-policy"), path).toBe(DASHBOARD_CSP);
      expect(page.headers.get("x-frame-options"), path).toBe("DENY");
      expect(page.headers.get("cache-control"), path).toBe("no-cache");
    }
    const api = await send("GET", "/v1/nope");
    expect([api.status, api.json?.error?.code]).toEqual([404, "not_found"]);
    const post = await send("POST", "/", {}, {});
    expect([post.status, post.json?.error?.code]).toEqual([404, "not_found"]);
  });

  it("signs in on loopback http (no Secure), works on admin routes by cookie, and signs out for good", async () => {
    const origin = edge.url;
    const wrong = await send("POST", "/v1/session", { Origin: origin }, { token: "nope" });
    expect([wrong.status, wrong.json.error.code]).toEqual([401, "signin_failed"]);
    const signedIn = await send("POST", "/v1/session", { Origin: origin }, { token: edge.adminToken });
    expect(signedIn.status).toBe(200);
    const setCookie = signedIn.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^bo_session=[A-Za-z0-9_-]{43};/);
    const flags = setCookie.split(";").slice(1).map((f) => f.trim().toLowerCase()).sort();
    expect(flags).toEqual(["httponly", "max-age=43200", "path=/", "samesite=strict"]);
    const cookie = setCookie.split(";")[0]!;
    expect((await send("GET", "/v1/fleet", { Cookie: cookie })).status).toBe(200);
    const token = await send("POST", "/v1/enrollment-tokens", { Cookie: cookie, Origin: origin }, {});
    expect(token.status).toBe(201);
    const foreign = await send("POST", "/v1/enrollment-tokens", { Cookie: cookie, Origin: "http://localhost:1" }, {});
    expect([foreign.status, foreign.json.error.code]).toEqual([403, "origin_refused"]);
    const out = await send("DELETE", "/v1/session", { Cookie: cookie, Origin: origin });
    expect(out.json).toEqual({ signedOut: true });
    expect(out.headers.get("set-cookie")).toMatch(/^bo_session=;.*Max-Age=0/i);
    const replayed = await send("GET", "/v1/fleet", { Cookie: cookie });
    expect([replayed.status, replayed.json.error.code]).toEqual([401, "session_required"]);
  });
});
