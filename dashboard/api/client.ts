/**
 * The admin API over fetch with the session cookie (same origin; the browser sends Origin on every
 * state-changing request, which the edge's CSRF check requires). A 401 means the session is gone:
 * the shell is told and shows the sign-in page.
 */
import { signal } from "@preact/signals";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** "unknown" until the first GET /v1/session answers; the shell routes on it. */
export const sessionState = signal<"unknown" | "signed-in" | "signed-out">("unknown");

const MAX_TIMEOUT_MS = 15_000;

async function errorOf(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body: unknown = await response.json();
    if (typeof body === "object" && body !== null && "error" in body) {
      const error = (body as { error: unknown }).error;
      if (typeof error === "object" && error !== null) {
        const e = error as { code?: unknown; message?: unknown };
        if (typeof e.code === "string") code = e.code;
        if (typeof e.message === "string") message = e.message;
      }
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, code, message);
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = {
    method,
    credentials: "same-origin",
    headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
    signal: AbortSignal.timeout(MAX_TIMEOUT_MS),
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && path !== "/v1/session") sessionState.value = "signed-out";
    throw error;
  }
  return response;
}

/** JSON from an admin or public route; throws ApiError. */
export async function apiJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  return (await response.json()) as T;
}

/** Text from a public route (the log key, the signed checkpoint). */
export async function apiText(path: string): Promise<string> {
  const response = await send("GET", path);
  return response.text();
}

export async function checkSession(): Promise<boolean> {
  try {
    await send("GET", "/v1/session");
    sessionState.value = "signed-in";
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      sessionState.value = "signed-out";
      return false;
    }
    throw error;
  }
}

/** Exchanges the admin token for a session cookie. The token goes in the body only, once. */
export async function signIn(token: string): Promise<void> {
  await send("POST", "/v1/session", { token });
  sessionState.value = "signed-in";
}

export async function signOut(): Promise<void> {
  try {
    await send("DELETE", "/v1/session");
  } finally {
    sessionState.value = "signed-out";
  }
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
