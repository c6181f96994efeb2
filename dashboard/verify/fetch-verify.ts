/**
 * The I/O half of browser verification: fetches the log key, the latest signed checkpoint, the
 * entry (unless the caller has it) and its inclusion proof at the checkpoint's size from the public
 * log routes, then hands them to the pure verifier. Every answer is bounded in size and time.
 */
import { verifyCheckpoint, type CheckpointVerdict } from "./verify-checkpoint.js";
import { verifyEntry, type EntryVerdict } from "./verify-entry.js";

export interface LogFetchOptions {
  /** The fleet (`?fleet=`); absent = the default fleet. */
  readonly fleet?: string;
  /** Origin or base URL of the edge; absent = same origin (relative URLs). */
  readonly base?: string;
  /** Injected for Node tests against a real edge; the browser's fetch by default. */
  readonly fetch?: typeof fetch;
  readonly signal?: AbortSignal;
}

/** The fetched texts, kept so the page can show what was verified. */
export interface FetchedLogState {
  readonly keyText: string;
  readonly checkpointNote: string;
}

/** Largest answer read from a log route: a signed note is ≤ 64 KiB, an entry ≤ ~66 KiB of JSON in base64. */
const MAX_ANSWER_BYTES = 512 * 1024;
const TIMEOUT_MS = 15_000;

class FetchFailure extends Error {}

function url(path: string, query: Record<string, string | number>, options: LogFetchOptions): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) params.set(k, String(v));
  if (options.fleet !== undefined) params.set("fleet", options.fleet);
  const qs = params.toString();
  return `${options.base ?? ""}${path}${qs ? `?${qs}` : ""}`;
}

async function getText(path: string, query: Record<string, string | number>, options: LogFetchOptions): Promise<string> {
  const doFetch = options.fetch ?? fetch;
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS);
  let res: Response;
  try {
    res = await doFetch(url(path, query, options), { signal, credentials: "same-origin", headers: { Accept: "application/json, text/plain" } });
  } catch (err) {
    throw new FetchFailure(`could not fetch ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = await res.text();
  if (text.length > MAX_ANSWER_BYTES) throw new FetchFailure(`${path} answered ${text.length} characters, more than ${MAX_ANSWER_BYTES}`);
  if (!res.ok) throw new FetchFailure(`${path} answered ${res.status}: ${errorMessage(text)}`);
  return text;
}

/** The edge's JSON error message, or the start of whatever came back. */
function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown; code?: unknown } };
    if (typeof body.error?.message === "string") return body.error.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}

async function getJson(path: string, query: Record<string, string | number>, options: LogFetchOptions): Promise<unknown> {
  const text = await getText(path, query, options);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new FetchFailure(`${path} did not answer JSON`);
  }
}

/** GET /v1/log/key and /v1/log/checkpoint, and the checkpoint's signature status. */
export async function fetchAndVerifyCheckpoint(options: LogFetchOptions = {}): Promise<CheckpointVerdict & { fetched?: FetchedLogState }> {
  try {
    const [keyText, checkpointNote] = await Promise.all([getText("/v1/log/key", {}, options), getText("/v1/log/checkpoint", {}, options)]);
    return { ...verifyCheckpoint(keyText, checkpointNote), fetched: { keyText, checkpointNote } };
  } catch (err) {
    if (err instanceof FetchFailure) return { ok: false, step: "fetch", reason: err.message, steps: [] };
    throw err;
  }
}

/**
 * Verifies global-log entry `index` against the latest signed checkpoint: fetches what it needs
 * (the entry too, unless `entry` is given, e.g. from an agent's records), then `verifyEntry`.
 * An entry beyond the latest checkpoint is reported as not yet covered (checkpoints follow appends
 * within seconds).
 */
export async function fetchAndVerifyEntry(
  index: number,
  options: LogFetchOptions & { readonly entry?: unknown; readonly agentPublicKey?: Uint8Array } = {},
): Promise<EntryVerdict & { fetched?: FetchedLogState }> {
  if (!Number.isSafeInteger(index) || index < 0) return { ok: false, step: "entry", reason: `${index} is not a log index`, steps: [], facts: {} };
  try {
    const cp = await fetchAndVerifyCheckpoint(options);
    if (!cp.ok) return { ...cp, facts: {} };
    const size = cp.checkpoint.size;
    if (index >= size) {
      return { ok: false, step: "proof-size", reason: `entry ${index} is not covered by the latest checkpoint yet (size ${size}); try again in a few seconds`, steps: cp.steps, facts: { checkpoint: cp.checkpoint } };
    }
    const entryPromise =
      options.entry !== undefined
        ? Promise.resolve(options.entry)
        : getJson("/v1/log/entries", { start: index, end: index + 1 }, options).then((page) => {
            const entries = (page as { entries?: unknown }).entries;
            const first = Array.isArray(entries) ? (entries[0] as unknown) : undefined;
            if (first === undefined) throw new FetchFailure(`the log has no entry ${index}`);
            return first;
          });
    const [entry, proof] = await Promise.all([entryPromise, getJson("/v1/log/proof/inclusion", { index, size }, options)]);
    const input = { keyText: cp.fetched!.keyText, checkpointNote: cp.fetched!.checkpointNote, entry, proof };
    return { ...verifyEntry(options.agentPublicKey === undefined ? input : { ...input, agentPublicKey: options.agentPublicKey }), fetched: cp.fetched! };
  } catch (err) {
    if (err instanceof FetchFailure) return { ok: false, step: "fetch", reason: err.message, steps: [], facts: {} };
    throw err;
  }
}
