import { hostname } from "node:os";
import { z } from "zod";
import { parseVerifierKeyText } from "../../shared/note/key-text.js";
import type { DeviceKey } from "../identity/deviceKey.js";
import { edgeHttpBase, edgeRoute, type EdgeIdentity } from "./edgeIdentity.js";
import { EdgeHttpError, edgeJson, edgeText } from "./edgeHttp.js";
import { assertEdgeTransport, assertNoDowngrade } from "./edgeTransport.js";

const enrolledSchema = z.object({
  agentId: z.string().regex(/^ag_[0-9a-f]{32}$/),
  fleetId: z.string().min(1).max(63),
  status: z.enum(["active", "pending"]),
  audience: z.string().min(1),
  connectUrl: z.url({ protocol: /^wss?$/ }),
});

export interface EnrollOptions {
  /** The edge as the operator gave it: http(s) or ws(s), optionally with ?fleet=. */
  readonly edgeUrl: string;
  readonly token: string;
  readonly key: DeviceKey;
  /** The id the runtime derived from the key (the edge derives the same one). */
  readonly agentId: string;
  readonly name?: string;
  readonly hardware?: string;
  /** Aborts the requests (shutdown). */
  readonly signal?: AbortSignal;
  /** Plain http to an edge that is not on loopback (edgeTransport.ts); default false. */
  readonly allowPlaintext?: boolean;
}

/**
 * Enrolls the device key with the edge (POST /v1/enroll) and pins the global log's verifier key
 * (GET /v1/log/key). The caller stores the result (saveEdgeIdentity).
 *
 * A `409 key_already_enrolled` for this very agent id means an earlier enrollment succeeded but its
 * answer was lost (e.g. a crash before the identity file was written): the identity is rebuilt
 * from what the edge's rules fix (audience urn:becomingone:fleet:<fleet>, connect URL), since the
 * edge already knows this key.
 * @throws EdgeHttpError (status 0 / 5xx / 429: retry later; other statuses: a refusal with its code)
 * @throws EdgeTransportError before anything is sent, for plaintext to a non-loopback edge; after, for a downgrade
 */
export async function enrollWithEdge(options: EnrollOptions): Promise<EdgeIdentity> {
  const base = edgeHttpBase(options.edgeUrl);
  assertEdgeTransport(base, options.allowPlaintext ?? false);
  const fleetParam = new URL(base).searchParams.get("fleet");
  let enrolled: z.infer<typeof enrolledSchema>;
  try {
    enrolled = await edgeJson(edgeRoute(base, "/v1/enroll"), enrolledSchema, {
      method: "POST",
      signal: options.signal,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        token: options.token,
        publicKey: { kty: "OKP", crv: "Ed25519", x: options.key.publicKeyBase64Url },
        name: (options.name ?? hostname()).slice(0, 64) || "agent",
        ...(options.hardware ? { hardware: options.hardware.slice(0, 128) } : {}),
      }),
    });
  } catch (err) {
    if (!(err instanceof EdgeHttpError) || err.code !== "key_already_enrolled" || err.details.agentId !== options.agentId) throw err;
    const fleetId = fleetParam ?? "default";
    const connect = new URL("/v1/connect", base);
    connect.protocol = connect.protocol === "https:" ? "wss:" : "ws:";
    if (fleetParam) connect.searchParams.set("fleet", fleetParam);
    enrolled = { agentId: options.agentId, fleetId, status: "active", audience: `urn:becomingone:fleet:${fleetId}`, connectUrl: connect.toString() };
  }
  assertNoDowngrade(base, enrolled.connectUrl);
  assertEdgeTransport(enrolled.connectUrl, options.allowPlaintext ?? false);
  if (enrolled.agentId !== options.agentId) {
    throw new EdgeHttpError(201, "agent_id_mismatch", `the edge enrolled this key as ${enrolled.agentId}, but its fingerprint is ${options.agentId}`);
  }
  return {
    version: 1,
    agentId: enrolled.agentId,
    fleetId: enrolled.fleetId,
    status: enrolled.status,
    audience: enrolled.audience,
    connectUrl: enrolled.connectUrl,
    edgeUrl: base,
    verifierKey: await fetchVerifierKey(base, options.signal),
    origin: null,
    enrolledAt: new Date().toISOString(),
  };
}

/** The edge's log verifier key, or null when it has none to give (pinned later from the first welcome). */
export async function fetchVerifierKey(base: string, signal?: AbortSignal): Promise<string | null> {
  try {
    const text = (await edgeText(edgeRoute(base, "/v1/log/key"), 1024, { signal })).trim();
    parseVerifierKeyText(text);
    return text;
  } catch (err) {
    if (err instanceof EdgeHttpError && err.transient && err.status === 0) throw err;
    return null;
  }
}
