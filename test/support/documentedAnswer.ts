import { isDocumentedCode } from "./hostile-arbitraries.js";

/** An HTTP answer, read once and held to what every answer of ours must be. */
export interface Answer {
  readonly status: number;
  readonly code: string | undefined;
  readonly json: unknown;
  readonly text: string;
}

/**
 * Reads `res` and throws unless it is no 5xx and, if a refusal, the JSON error shape with a code
 * from `documented` (the docs' code table). Runs in Node and in workerd.
 */
export async function documentedAnswer(method: string, path: string, res: Response, documented: Parameters<typeof isDocumentedCode>[1]): Promise<Answer> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const where = `${method} ${path.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
  if (res.status >= 500) throw new Error(`5xx: ${where}`);
  let code: string | undefined;
  // A HEAD answer has no body by definition (RFC 9110 §9.3.2): only its status can be judged.
  if (res.status >= 400 && method !== "HEAD") {
    const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    if (typeof error?.code !== "string" || typeof error.message !== "string") throw new Error(`a refusal without the JSON error shape: ${where}`);
    code = error.code;
    if (!isDocumentedCode(code, documented)) throw new Error(`undocumented error code ${code}: ${where}`);
  }
  return { status: res.status, code, json, text };
}
