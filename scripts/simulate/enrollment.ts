/**
 * Real enrollment through the admin API: one enrollment token with enough uses, then
 * `POST /v1/enroll` per agent with a fresh Ed25519 key (node:crypto), a few at a time. A 429 waits
 * the edge's retryAfterSeconds; every other refusal is counted by its code.
 */
import { generateKeyPairSync } from "node:crypto";
import { enrollResponseSchema, enrollmentTokenResponseSchema } from "../../shared/protocol/index.js";
import type { SimIdentity } from "./sim-agent.js";

export interface EdgeAccess {
  /** http://host:port, no trailing slash. */
  readonly url: string;
  readonly adminToken: string;
  readonly fleet: string | undefined;
}

export interface EnrollOutcome {
  readonly identities: SimIdentity[];
  /** Refusals by code (HTTP error code, or the network error). */
  readonly failures: Record<string, number>;
  readonly ms: number;
}

const CONCURRENCY = 8;
const ATTEMPTS = 5;

function fleetQuery(access: EdgeAccess): string {
  return access.fleet === undefined ? "" : `?fleet=${encodeURIComponent(access.fleet)}`;
}

async function errorCode(res: Response): Promise<string> {
  const text = await res.text();
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? `http_${res.status}`;
  } catch {
    return `http_${res.status}`;
  }
}

/** An enrollment token good for `uses` agents (the API allows up to 10,000 per token). */
export async function createEnrollmentToken(access: EdgeAccess, uses: number): Promise<string> {
  const res = await fetch(`${access.url}/v1/enrollment-tokens${fleetQuery(access)}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${access.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "simulate", maxUses: Math.min(10_000, uses), expiresInSeconds: 3600 }),
  });
  if (res.status !== 201) throw new Error(`creating an enrollment token failed: ${res.status} ${await errorCode(res)}`);
  return enrollmentTokenResponseSchema.parse(await res.json()).token;
}

async function enrollOne(access: EdgeAccess, token: string, index: number): Promise<SimIdentity | string> {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" }) as { x: string; d: string };
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(`${access.url}/v1/enroll${fleetQuery(access)}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token, publicKey: { kty: "OKP", crv: "Ed25519", x: jwk.x }, name: `sim-${index}` }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      if (attempt >= ATTEMPTS) return (err as Error).name === "TimeoutError" ? "timeout" : "network_error";
      continue;
    }
    if (res.status === 201) {
      const body = enrollResponseSchema.parse(await res.json());
      return {
        index,
        agentId: body.agentId,
        audience: body.audience,
        connectUrl: body.connectUrl,
        secretKey: new Uint8Array(Buffer.from(jwk.d, "base64url")),
        publicKeyX: jwk.x,
      };
    }
    if (res.status === 429 && attempt < ATTEMPTS) {
      const body = (await res.json().catch(() => ({}))) as { error?: { details?: { retryAfterSeconds?: number } } };
      const wait = Math.min(60, Math.max(1, body.error?.details?.retryAfterSeconds ?? 5));
      await new Promise((r) => setTimeout(r, wait * 1000));
      continue;
    }
    return errorCode(res);
  }
}

/** Enrolls n agents (indices 0 … n − 1); failed ones are left out and counted. */
export async function enrollAgents(access: EdgeAccess, n: number, say: (line: string) => void): Promise<EnrollOutcome> {
  const started = Date.now();
  const token = await createEnrollmentToken(access, n);
  const identities: SimIdentity[] = [];
  const failures: Record<string, number> = {};
  let next = 0;
  let lastSaid = Date.now();
  const lane = async () => {
    while (next < n) {
      const index = next++;
      const outcome = await enrollOne(access, token, index);
      if (typeof outcome === "string") failures[outcome] = (failures[outcome] ?? 0) + 1;
      else identities.push(outcome);
      if (Date.now() - lastSaid > 10_000) {
        lastSaid = Date.now();
        say(`enrolled ${identities.length}/${n}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  identities.sort((a, b) => a.index - b.index);
  return { identities, failures, ms: Date.now() - started };
}
