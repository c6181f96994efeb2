import { ed25519 } from "@noble/curves/ed25519.js";
import { Hono } from "hono";
import { base64UrlToBytes, enrollRequestSchema, type EnrollResponse } from "../../../shared/protocol/index.js";
import { DEFAULT_FLEET_ID } from "../../fleet/scope.js";
import { fail, fleetStub, readJson, unwrap, type AppEnv } from "../context.js";

function validPublicKey(x: string): boolean {
  try {
    ed25519.Point.fromBytes(base64UrlToBytes(x));
    return true;
  } catch {
    return false;
  }
}

/** `POST /v1/enroll` (public; the object rate-limits it per client address). */
export const enrollmentRoutes = new Hono<AppEnv>().post("/enroll", async (c) => {
  const body = await readJson(c, enrollRequestSchema);
  if (!validPublicKey(body.publicKey.x)) fail(400, "invalid_public_key", "publicKey.x is not a valid Ed25519 public key");
  // Set by Cloudflare (and by wrangler dev) from the TCP peer; a client cannot choose it.
  const client = c.req.header("CF-Connecting-IP") ?? "unknown";
  const scope = c.get("scope");
  const enrolled = unwrap(
    await fleetStub(c).enroll(scope, { token: body.token, publicKeyX: body.publicKey.x, name: body.name, hardware: body.hardware }, client),
  );
  const url = new URL(c.req.url);
  const connect = new URL("/v1/connect", url);
  connect.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (scope.fleetId !== DEFAULT_FLEET_ID) connect.searchParams.set("fleet", scope.fleetId);
  const response: EnrollResponse = {
    agentId: enrolled.agentId,
    fleetId: enrolled.fleetId,
    status: enrolled.status,
    audience: enrolled.audience,
    connectUrl: connect.toString(),
  };
  return c.json(response, 201);
});
