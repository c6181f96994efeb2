/**
 * The workerd side of the receiver hub (test/support/webhook-receiver-hub.ts, started by the
 * workers project's globalSetup): a bin per test, scripted answers, and what arrived.
 */
import { exports } from "cloudflare:workers";
import { inject } from "vitest";
import { ADMIN } from "./fleet-agent.js";

declare module "vitest" {
  interface ProvidedContext {
    webhookHub: string;
  }
}

export type Answer = number | "hang" | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number };

export interface Arrival {
  path: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
  id: string;
  timestamp: number;
  signature: string;
  verifyError: string | null | undefined;
}

export class Bin {
  readonly url: string;
  constructor(readonly name: string) {
    this.url = `${inject("webhookHub")}/hook/${name}`;
  }
  async script(spec: { answers?: Answer[]; fallback?: Answer; secrets?: string[] }): Promise<void> {
    const res = await fetch(`${inject("webhookHub")}/_ctl/${this.name}/script`, { method: "POST", body: JSON.stringify(spec) });
    if (!res.ok) throw new Error(`hub script: ${res.status}`);
  }
  async requests(): Promise<Arrival[]> {
    const res = await fetch(`${inject("webhookHub")}/_ctl/${this.name}/requests`);
    return (await res.json()) as Arrival[];
  }
  /** Waits until `count` requests arrived (polling the hub), then returns them all. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<Arrival[]> {
    const start = Date.now();
    for (;;) {
      const got = await this.requests();
      if (got.length >= count) return got;
      if (Date.now() - start > timeoutMs) throw new Error(`bin ${this.name}: ${got.length} of ${count} requests after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

let bins = 0;
export function newBin(prefix: string): Bin {
  return new Bin(`${prefix}-${Date.now().toString(36)}-${bins++}`);
}

/** An admin API call on the Worker; `T` is the shape the caller expects of the JSON answer. */
export async function api<T = Record<string, unknown>>(fleet: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const sep = path.includes("?") ? "&" : "?";
  const res = await exports.default.fetch(`http://edge.test${path}${sep}fleet=${fleet}`, {
    method,
    headers: ADMIN,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text === "" ? null : JSON.parse(text)) as T };
}

/** Creates an endpoint to the bin and tells the bin the secret to verify every request with. */
export async function createEndpoint(fleet: string, bin: Bin, extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const res = await api<{ endpoint: { id: string }; secret: string }>(fleet, "POST", "/v1/webhooks/endpoints", { url: bin.url, ...extra });
  if (res.status !== 201) throw new Error(`create endpoint: ${res.status} ${JSON.stringify(res.body)}`);
  await bin.script({ secrets: [res.body.secret] });
  return { id: res.body.endpoint.id, secret: res.body.secret };
}
