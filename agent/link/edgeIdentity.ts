import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../storage/durableFile.js";

/** What enrollment leaves in the data dir: who the agent is to the edge, and which log key it trusts. */
export const EDGE_IDENTITY_FILE = "edge-identity.json";

const agentId = z.string().regex(/^ag_[0-9a-f]{32}$/);
const httpUrl = z.url({ protocol: /^https?$/ });

export const edgeIdentitySchema = z.strictObject({
  version: z.literal(1),
  agentId,
  fleetId: z.string().min(1).max(63),
  /** `pending` until an operator approves the agent (tokens with requireApproval). */
  status: z.enum(["active", "pending"]),
  /** The JWT audience, e.g. urn:becomingone:fleet:default. */
  audience: z.string().min(1),
  /** The WebSocket URL, ws(s)://…/v1/connect[?fleet=…]. */
  connectUrl: z.url({ protocol: /^wss?$/ }),
  /** The edge's HTTP base (with ?fleet= for a non-default fleet), for the log routes. */
  edgeUrl: httpUrl,
  /**
   * The global log's note verifier key, pinned at enrollment (GET /v1/log/key) or, if the edge had
   * none then, at the first welcome: trust on first use (docs/link.md).
   */
  verifierKey: z.string().min(1).nullable(),
  /** The log's checkpoint origin, pinned with the first checkpoint that verified. */
  origin: z.string().min(1).nullable(),
  enrolledAt: z.string(),
});

export type EdgeIdentity = z.infer<typeof edgeIdentitySchema>;

export class EdgeIdentityError extends Error {
  override readonly name = "EdgeIdentityError";
  readonly code = "edge_identity_invalid";
}

/** The stored identity, undefined before enrollment. Throws EdgeIdentityError when the file is damaged. */
export function loadEdgeIdentity(dataDir: string): EdgeIdentity | undefined {
  const path = join(dataDir, EDGE_IDENTITY_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new EdgeIdentityError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EdgeIdentityError(`${path} is not JSON; delete it and enroll again`);
  }
  const parsed = edgeIdentitySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EdgeIdentityError(`${path}: ${issue?.path.join(".") ?? ""} ${issue?.message ?? "invalid"}; delete it and enroll again`);
  }
  return parsed.data;
}

export function saveEdgeIdentity(dataDir: string, identity: EdgeIdentity): void {
  writeFileAtomic(join(dataDir, EDGE_IDENTITY_FILE), JSON.stringify(edgeIdentitySchema.parse(identity), null, 2) + "\n");
}

/**
 * The edge's HTTP base from what an operator typed: ws(s) becomes http(s), the path is dropped and
 * only the `fleet` query parameter is kept.
 */
export function edgeHttpBase(url: string): string {
  const u = new URL(url);
  if (u.protocol === "ws:") u.protocol = "http:";
  else if (u.protocol === "wss:") u.protocol = "https:";
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new RangeError(`edge URL must be http(s) or ws(s), got ${u.protocol}`);
  const fleet = u.searchParams.get("fleet");
  const base = new URL(u.origin + "/");
  if (fleet) base.searchParams.set("fleet", fleet);
  return base.toString();
}

/** `path` on the edge, keeping the base's `fleet` parameter, plus `query`. */
export function edgeRoute(base: string, path: string, query: Record<string, string | number> = {}): string {
  const b = new URL(base);
  const u = new URL(path, b.origin);
  const fleet = b.searchParams.get("fleet");
  if (fleet) u.searchParams.set("fleet", fleet);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, String(v));
  return u.toString();
}

/** The identity's URLs moved to another edge address (same fleet, same enrollment). */
export function relocatedIdentity(identity: EdgeIdentity, edgeUrl: string): Pick<EdgeIdentity, "edgeUrl" | "connectUrl"> {
  const base = new URL(edgeHttpBase(edgeUrl));
  base.search = "";
  if (identity.fleetId !== "default") base.searchParams.set("fleet", identity.fleetId);
  const connect = new URL("/v1/connect", base.origin);
  connect.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  if (identity.fleetId !== "default") connect.searchParams.set("fleet", identity.fleetId);
  return { edgeUrl: base.toString(), connectUrl: connect.toString() };
}
