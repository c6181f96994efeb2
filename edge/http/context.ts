import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import type { Env } from "../env.js";
import type { FleetScope } from "../fleet/scope.js";
import { ApiError, type ApiFailure, type Outcome } from "./api-error.js";

/** The Worker's Hono environment: bindings, and the fleet a request addresses. */
export type AppEnv = { Bindings: Env; Variables: { scope: FleetScope } };
export type AppContext = Context<AppEnv>;

/** Throws the API error that `app.onError` renders as `{"error":{…}}`. */
export function fail(status: number, code: string, message: string, details?: ApiFailure["details"]): never {
  throw new ApiError(status, code, message, details);
}

/** The value of a Fleet object's outcome, or its failure thrown as an ApiError. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw ApiError.from(outcome.error);
  return outcome.value;
}

export function bearer(c: AppContext): string | undefined {
  const header = c.req.header("Authorization");
  const match = header === undefined ? null : /^Bearer ([\x21-\x7e]+)$/.exec(header.trim());
  return match?.[1];
}

/** The stub of the Durable Object of the request's fleet. */
export function fleetStub(c: AppContext) {
  const scope = c.get("scope");
  return c.env.FLEET.get(c.env.FLEET.idFromName(scope.fleetId));
}

/** Parses a JSON body against a schema: 415 without a JSON content type, 400 bad_json / invalid_body. */
export async function readJson<T>(c: AppContext, schema: z.ZodType<T>): Promise<T> {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    fail(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json");
  }
  let json: unknown;
  try {
    json = JSON.parse(await c.req.text());
  } catch (err) {
    if (err instanceof HTTPException) throw err;
    fail(400, "bad_json", "the request body is not valid JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue !== undefined && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    fail(400, "invalid_body", `${where}${issue?.message ?? "invalid body"}`);
  }
  return parsed.data;
}

/** A non-negative integer query parameter; undefined when absent, 400 when malformed. */
export function queryInt(c: AppContext, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,15}$/.test(raw)) fail(400, "bad_query", `query parameter ${name} must be a non-negative integer`, { [name]: raw.slice(0, 32) });
  return Number(raw);
}

/** A comma-separated list of 1 to `max` non-negative integers; 400 when absent or malformed. */
export function queryIntList(c: AppContext, name: string, max: number): number[] {
  const raw = c.req.query(name) ?? "";
  const parts = raw.split(",");
  if (raw === "" || parts.length > max || !parts.every((p) => /^\d{1,15}$/.test(p))) {
    fail(400, "bad_query", `query parameter ${name} must be 1 to ${max} comma-separated non-negative integers`, { [name]: raw.slice(0, 32) });
  }
  return parts.map(Number);
}
