import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { tempDir } from "./tempDir.js";
import { describe, expect, it } from "vitest";
import { agentIdFromPublicKey } from "../../agent/identity/agentId.js";
import { loadOrCreateDeviceKey } from "../../agent/identity/deviceKey.js";
import { CONNECT_JWT_LIFETIME_S, connectJwt } from "../../agent/link/connectToken.js";
import { EDGE_IDENTITY_FILE, EdgeIdentityError, edgeHttpBase, edgeRoute, loadEdgeIdentity, relocatedIdentity, saveEdgeIdentity, type EdgeIdentity } from "../../agent/link/edgeIdentity.js";

describe("connect JWT", () => {
  it("is EdDSA, typ agent+jwt, kid = iss = sub = agent id, the fleet audience, ≤ 120 s, with a fresh jti each time", async () => {
    const dir = tempDir("link-jwt-");
    const key = loadOrCreateDeviceKey(dir);
    const agentId = agentIdFromPublicKey(key.publicKeyRaw);
    const aud = "urn:becomingone:fleet:default";
    const a = await connectJwt(key, agentId, aud);
    const b = await connectJwt(key, agentId, aud);
    expect(decodeProtectedHeader(a)).toEqual({ alg: "EdDSA", typ: "agent+jwt", kid: agentId });
    const { payload } = await jwtVerify(a, key.publicKey, { audience: aud, issuer: agentId, subject: agentId, typ: "agent+jwt", algorithms: ["EdDSA"] });
    expect(payload.exp! - payload.iat!).toBe(CONNECT_JWT_LIFETIME_S);
    expect(CONNECT_JWT_LIFETIME_S).toBeLessThanOrEqual(120);
    expect(Math.abs(payload.iat! * 1000 - Date.now())).toBeLessThan(5000);
    const { payload: pb } = await jwtVerify(b, key.publicKey, { audience: aud });
    expect(pb.jti).not.toBe(payload.jti);
    // The device key file is a secret.
    expect(statSync(join(dir, "device-key.pem")).mode & 0o777).toBe(0o600);
  });
});

describe("edge identity", () => {
  const identity: EdgeIdentity = {
    version: 1,
    agentId: "ag_" + "ab".repeat(16),
    fleetId: "default",
    status: "active",
    audience: "urn:becomingone:fleet:default",
    connectUrl: "ws://127.0.0.1:8787/v1/connect",
    edgeUrl: "http://127.0.0.1:8787/",
    verifierKey: "becomingone-edge+12345678+AQ",
    origin: null,
    enrolledAt: "2026-01-01T00:00:00.000Z",
  };

  it("round-trips through an 0600 file and refuses a damaged one with a clear error", () => {
    const dir = tempDir("link-id-");
    expect(loadEdgeIdentity(dir)).toBeUndefined();
    saveEdgeIdentity(dir, identity);
    expect(loadEdgeIdentity(dir)).toEqual(identity);
    expect(statSync(join(dir, EDGE_IDENTITY_FILE)).mode & 0o777).toBe(0o600);
    writeFileSync(join(dir, EDGE_IDENTITY_FILE), "{");
    expect(() => loadEdgeIdentity(dir)).toThrow(EdgeIdentityError);
    writeFileSync(join(dir, EDGE_IDENTITY_FILE), JSON.stringify({ ...identity, agentId: "nope" }));
    expect(() => loadEdgeIdentity(dir)).toThrow(/agentId/);
  });

  it("derives the HTTP base from what an operator types, keeping only the fleet", () => {
    expect(edgeHttpBase("ws://127.0.0.1:8787/v1/connect")).toBe("http://127.0.0.1:8787/");
    expect(edgeHttpBase("wss://edge.example/anything?fleet=lab&x=1")).toBe("https://edge.example/?fleet=lab");
    expect(edgeHttpBase("http://127.0.0.1:8787")).toBe("http://127.0.0.1:8787/");
    expect(() => edgeHttpBase("ftp://x")).toThrow(RangeError);
    expect(edgeRoute("https://edge.example/?fleet=lab", "/v1/log/proof/inclusion", { index: 3, size: 9 })).toBe(
      "https://edge.example/v1/log/proof/inclusion?fleet=lab&index=3&size=9",
    );
  });

  it("moves to a new edge address keeping the fleet", () => {
    expect(relocatedIdentity(identity, "http://127.0.0.1:9999/whatever")).toEqual({ edgeUrl: "http://127.0.0.1:9999/", connectUrl: "ws://127.0.0.1:9999/v1/connect" });
    expect(relocatedIdentity({ ...identity, fleetId: "lab" }, "wss://edge.example")).toEqual({
      edgeUrl: "https://edge.example/?fleet=lab",
      connectUrl: "wss://edge.example/v1/connect?fleet=lab",
    });
  });
});
