/** The edge's admin API as `npm start` uses it: enrollment tokens, agents, the fleet summary. */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

export type Admin = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: Record<string, unknown> }>;

export function adminClient(edgeUrl: string, adminToken: string): Admin {
  return async (method, path, body) => {
    const res = await fetch(`${edgeUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  };
}

/**
 * The agent folders that need enrolling: no identity yet, or one the edge no longer knows (its
 * state was deleted while the agent kept its folder) — then the identity and the checkpoint kept
 * from the old global log are removed; the ledger stays and is replayed from seq 0.
 */
export async function foldersToEnroll(admin: Admin, dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    const idFile = join(dir, "edge-identity.json");
    if (existsSync(idFile)) {
      let agentId: unknown;
      try {
        agentId = (JSON.parse(readFileSync(idFile, "utf8")) as { agentId?: unknown }).agentId;
      } catch {
        agentId = undefined;
      }
      // Only an edge that says it does not know the agent (404) makes it enroll again; any other
      // answer (a 5xx, a rate limit) keeps the identity rather than turn the device into a new agent.
      if (typeof agentId === "string" && /^ag_[0-9a-f]{32}$/.test(agentId) && (await admin("GET", `/v1/agents/${agentId}`)).status !== 404) continue;
      rmSync(idFile);
      rmSync(join(dir, "edge-checkpoint.note"), { force: true });
    }
    out.push(dir);
  }
  return out;
}

/** One token for `uses` enrollments, valid for an hour (restarts of a not-yet-enrolled agent reuse it). */
export async function createEnrollmentToken(admin: Admin, uses: number): Promise<{ id: string; token: string }> {
  const res = await admin("POST", "/v1/enrollment-tokens", { name: "npm start", maxUses: uses, expiresInSeconds: 3600 });
  if (res.status !== 201 || typeof res.json.token !== "string") throw new Error(`cannot create an enrollment token: HTTP ${res.status} ${JSON.stringify(res.json)}`);
  return { id: String(res.json.id), token: res.json.token };
}

export interface FleetSummary {
  readonly online: number;
  readonly quarantined: number;
  readonly r: number;
  readonly n: number;
  readonly logSize: number;
}

export async function fleetSummary(admin: Admin): Promise<FleetSummary | undefined> {
  try {
    const { status, json } = await admin("GET", "/v1/fleet");
    if (status !== 200) return undefined;
    const a = json.agents as { online?: number; quarantined?: number } | undefined;
    const f = json.field as { r?: number; n?: number } | undefined;
    const l = json.log as { size?: number } | undefined;
    return { online: a?.online ?? 0, quarantined: a?.quarantined ?? 0, r: f?.r ?? 0, n: f?.n ?? 0, logSize: l?.size ?? 0 };
  } catch {
    return undefined;
  }
}
