/** Small HTTP helpers for edge tests: admin calls, enrollment, connecting an enrolled agent. */
import { enrollResponseSchema, signConnectToken } from "../../shared/protocol/index.js";
import type { RunningEdge } from "../support/edge.js";
import { connectJwt, newAgentKey, type JwtOverrides, type TestAgent } from "./agent-identity.js";
import { SocketClient } from "./socket-client.js";

export interface JsonResponse<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export async function call<T = any>(edge: RunningEdge, method: string, path: string, options: { body?: unknown; token?: string | null; raw?: string; contentType?: string } = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? edge.adminToken : options.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.raw !== undefined || options.body !== undefined) {
    headers["Content-Type"] = options.contentType ?? "application/json";
    body = options.raw ?? JSON.stringify(options.body);
  }
  const res = await fetch(`${edge.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // text bodies (checkpoint, key) stay text
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export interface Enrollment {
  readonly agent: TestAgent;
  readonly agentId: string;
  readonly audience: string;
  readonly connectUrl: string;
  readonly status: string;
}

export async function issueToken(edge: RunningEdge, spec: Record<string, unknown> = {}, fleet?: string): Promise<{ id: string; token: string }> {
  const res = await call(edge, "POST", `/v1/enrollment-tokens${fleet ? `?fleet=${fleet}` : ""}`, { body: spec });
  if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function enroll(edge: RunningEdge, token: string, name = "pi", fleet?: string): Promise<Enrollment> {
  const agent = newAgentKey();
  const res = await call(edge, "POST", `/v1/enroll${fleet ? `?fleet=${fleet}` : ""}`, { token: null, body: { token, publicKey: agent.jwk, name } });
  if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${JSON.stringify(res.body)}`);
  const body = enrollResponseSchema.parse(res.body);
  return { agent, agentId: body.agentId, audience: body.audience, connectUrl: body.connectUrl, status: body.status };
}

export async function enrollNew(edge: RunningEdge, name = "pi", fleet?: string): Promise<Enrollment> {
  const { token } = await issueToken(edge, {}, fleet);
  return enroll(edge, token, name, fleet);
}

/** Connects with the shared signConnectToken (what the agent uses), or a hand-made JWT with overrides. */
export async function connect(enrollment: Enrollment, overrides?: JwtOverrides): Promise<SocketClient> {
  const jwt =
    overrides === undefined
      ? await signConnectToken({ secretKey: enrollment.agent.secretKey, agentId: enrollment.agentId, audience: enrollment.audience })
      : await connectJwt(enrollment.agent, enrollment.agentId, enrollment.audience, overrides);
  return SocketClient.connect(enrollment.connectUrl, jwt);
}

/** Connects and completes hello → welcome. */
export async function join(enrollment: Enrollment, lamport = 1): Promise<SocketClient> {
  const client = await connect(enrollment);
  client.send({ v: 1, type: "hello", agentId: enrollment.agentId, lamport, software: "test/1" });
  await client.next("welcome");
  return client;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
