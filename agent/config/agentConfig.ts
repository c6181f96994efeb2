import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { assertEdgeTransport, EdgeTransportError } from "../link/edgeTransport.js";

/**
 * The agent's configuration: defaults < JSON config file < environment (BECOMINGONE_*) < flags.
 * Validated with zod; every problem is reported with its source and path.
 */
const port = z.number().int().min(0).max(65535);

export const agentConfigSchema = z.strictObject({
  /** Device key, API token, ledger and identity live here. */
  dataDir: z.string().min(1),
  /** Token clock rate f, Hz. */
  hz: z.number().gt(0).max(1000).default(20),
  /** How the engine's Master, Emissary and sync layer are tuned (docs/engine.md, "Sync rules"). */
  syncRule: z.enum(["reference", "fleet"]).default("fleet"),
  api: z
    .strictObject({
      host: z.string().min(1).default("127.0.0.1"),
      port: port.default(8420),
      tlsCert: z.string().min(1).optional(),
      tlsKey: z.string().min(1).optional(),
      headersTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      requestTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
      /** How long POST /input waits for its tokens to run before answering 202. */
      inputWaitMs: z.number().int().min(0).max(60_000).default(5000),
      /** Ed25519 public keys (base64url, raw 32 bytes) allowed to sign POST /reset. */
      resetKeys: z.array(z.string().regex(/^[A-Za-z0-9_-]{43}$/, "a base64url 32-byte Ed25519 public key")).default([]),
      signatureWindowMs: z.number().int().min(1000).max(600_000).default(60_000),
      /** Host names (besides loopback and the bound address) that requests may carry in `Host`. */
      allowedHosts: z.array(z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, "a host name (no port, no scheme)")).default([]),
      /** Open connections at most; at the cap a new one closes the oldest idle one. */
      maxConnections: z.number().int().min(1).max(10_000).default(256),
      /** First request (TLS handshake included) must complete within this. */
      firstRequestTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
      /** Requests parsed but not answered per connection (pipelining). */
      maxPipelined: z.number().int().min(1).max(1024).default(8),
      /** Answer bytes written but not taken by the client per connection. */
      maxBufferedBytes: z.number().int().min(16 * 1024).max(64 * 1024 * 1024).default(256 * 1024),
      /** A connection with answers still not taken after this is cut. */
      drainTimeoutMs: z.number().int().min(100).max(60_000).default(2000),
      /** Off: no HTTP server at all. */
      enabled: z.boolean().default(true),
    })
    .prefault({}),
  queue: z.strictObject({ capacity: z.number().int().min(1).max(1_000_000).default(1024) }).prefault({}),
  ledger: z
    .strictObject({
      fsyncIntervalMs: z.number().int().min(1).max(60_000).default(200),
      fsyncEveryRecords: z.number().int().min(1).max(100_000).default(64),
      segmentBytes: z.number().int().min(4096).default(1024 * 1024),
      retainAckedBytes: z.number().int().min(0).default(8 * 1024 * 1024),
      maxBytes: z.number().int().min(64 * 1024).default(64 * 1024 * 1024),
    })
    .prefault({}),
  seal: z
    .strictObject({
      digestEverySeconds: z.number().gt(0).max(86_400).default(30),
      witnessEverySeconds: z.number().gt(0).max(86_400).default(10),
    })
    .prefault({}),
  mesh: z
    .strictObject({
      /** The oscillator's natural frequency ω, rad/s. */
      omega: z.number().min(-1000).max(1000).default(1),
      /** The oscillator's phase at start, rad (wrapped); a fleet started all at 0 would look locked before it is. */
      theta0: z.number().min(-1000).max(1000).default(0),
      /** Used until the edge sends its fleet config. */
      coupling: z.number().min(0).max(100).default(2.5),
      maxStep: z.number().gt(0).max(Math.PI).default(0.05),
      /** Summaries per second offered to the edge link (until the fleet config says otherwise). */
      summaryHz: z.number().gt(0).max(10).default(2),
    })
    .prefault({}),
  sources: z
    .strictObject({
      stdin: z.boolean().default(false),
      split: z.enum(["words", "lines"]).default("words"),
      file: z.string().min(1).optional(),
      sse: z
        .strictObject({
          url: z.url({ protocol: /^https?$/ }),
          prompt: z.string().min(1),
          model: z.string().min(1).optional(),
          maxTokens: z.number().int().min(1).optional(),
          apiKey: z.string().min(1).optional(),
          /** Start a new completion when one finishes (a continuous stream). */
          repeat: z.boolean().default(false),
        })
        .optional(),
      /** A generated stream of phase tokens (agent/sources/phaseStream.ts); turns on the phase-token encoder. */
      phaseStream: z
        .strictObject({
          /** Radians per token in coherent runs; default 0 under the fleet sync rule, −2·3.14159/hz under the reference rule (cancels the Master's carrier). */
          step: z.number().min(-2 * Math.PI).max(2 * Math.PI).optional(),
          coherentTokens: z.number().int().min(1).max(1e9).default(200),
          /** 0: one endless coherent run. */
          scatterTokens: z.number().int().min(0).max(1e9).default(200),
          seed: z.number().int().min(0).max(0xffffffff).default(1),
        })
        .optional(),
    })
    .prefault({}),
  /** How text tokens become phases (docs/engine.md, "Encoders and phase streams"). */
  encoder: z
    .strictObject({
      kind: z.enum(["hash", "phase", "embeddings"]).default("hash"),
      embeddings: z
        .strictObject({
          url: z.url({ protocol: /^https?$/ }).optional(),
          model: z.string().min(1).max(256).optional(),
          apiKey: z.string().min(1).optional(),
          timeoutMs: z.number().int().min(50).max(60_000).default(2000),
          /** Each entry holds 384 angles (3 KB): 16,384 is about 50 MB, the most a 512 MB Pi should give it. */
          cacheSize: z.number().int().min(1).max(16_384).default(4096),
          maxDimensions: z.number().int().min(1).max(8192).default(8192),
          planes: z.number().int().min(1).max(16).default(8),
        })
        .optional(),
    })
    .prefault({}),
  edge: z
    .strictObject({
      url: z.url({ protocol: /^(https?|wss?)$/ }).optional(),
      enrollToken: z.string().min(1).optional(),
      /** The name this device enrolls under (default: the host name); shown to operators. */
      name: z.string().min(1).max(64).optional(),
      /** Plain http/ws to an edge that is not on loopback (agent/link/edgeTransport.ts). */
      allowPlaintext: z.boolean().default(false),
    })
    .prefault({}),
  logLevel: z.enum(["error", "warn", "info", "debug"]).default("info"),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "config_invalid";
}

/** Default data dir: $HOME/.becomingone (systemd installs use /var/lib/becomingone). */
export function defaultDataDir(): string {
  return join(homedir(), ".becomingone");
}

type Layer = Record<string, unknown>;

/** Deep-merges plain objects; later layers win; undefined never overrides. */
export function mergeLayers(...layers: Layer[]): Layer {
  const out: Layer = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      const prev = out[k];
      if (isPlain(v) && isPlain(prev)) out[k] = mergeLayers(prev, v);
      else out[k] = v;
    }
  }
  return out;
}

function isPlain(v: unknown): v is Layer {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(`${name}="${v}" is not a number`);
  return n;
}

function bool(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined || v === "") return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(`${name}="${v}" is not a boolean (use true or false)`);
}

/** The environment layer: BECOMINGONE_* variables (docs/agent.md lists them). */
export function envLayer(env: NodeJS.ProcessEnv): Layer {
  const e = (k: string) => env[`BECOMINGONE_${k}`];
  const sseUrl = e("SSE_URL");
  return {
    dataDir: e("DATA_DIR"),
    hz: num("BECOMINGONE_HZ", e("HZ")),
    syncRule: e("SYNC_RULE"),
    mesh: { omega: num("BECOMINGONE_MESH_OMEGA", e("MESH_OMEGA")) },
    api: {
      host: e("API_HOST"),
      port: num("BECOMINGONE_API_PORT", e("API_PORT")),
      tlsCert: e("TLS_CERT"),
      tlsKey: e("TLS_KEY"),
      resetKeys: e("RESET_KEYS")?.split(",").map((s) => s.trim()).filter(Boolean),
      allowedHosts: e("API_ALLOWED_HOSTS")?.split(",").map((s) => s.trim()).filter(Boolean),
    },
    sources: {
      stdin: bool("BECOMINGONE_STDIN", e("STDIN")),
      file: e("INPUT_FILE"),
      sse: sseUrl ? { url: sseUrl, prompt: e("SSE_PROMPT") ?? "", model: e("SSE_MODEL"), apiKey: e("SSE_API_KEY") } : undefined,
    },
    encoder: {
      kind: e("ENCODER"),
      embeddings: { url: e("EMBEDDINGS_URL"), model: e("EMBEDDINGS_MODEL"), apiKey: e("EMBEDDINGS_API_KEY") },
    },
    edge: { url: e("EDGE_URL"), enrollToken: e("ENROLL_TOKEN"), allowPlaintext: bool("BECOMINGONE_EDGE_ALLOW_PLAINTEXT", e("EDGE_ALLOW_PLAINTEXT")) },
    logLevel: e("LOG_LEVEL"),
  };
}

/** Reads and parses a JSON config file (relative paths in it are the caller's business). */
export function fileLayer(path: string): Layer {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlain(value)) throw new ConfigError(`config file ${path} must hold a JSON object`);
  return value;
}

/** Validates merged layers into a config, with one readable line per problem. */
export function resolveAgentConfig(layers: { file?: Layer; env?: Layer; flags?: Layer }): AgentConfig {
  const merged = mergeLayers({ dataDir: defaultDataDir() }, layers.file ?? {}, layers.env ?? {}, layers.flags ?? {});
  const parsed = agentConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const config = parsed.data;
  if ((config.api.tlsCert === undefined) !== (config.api.tlsKey === undefined)) {
    throw new ConfigError("invalid configuration:\n  api: TLS needs both tlsCert (--tls-cert) and tlsKey (--tls-key)");
  }
  if (config.ledger.retainAckedBytes >= config.ledger.maxBytes) {
    throw new ConfigError(`invalid configuration:\n  ledger.retainAckedBytes (${config.ledger.retainAckedBytes}) must be below ledger.maxBytes (${config.ledger.maxBytes})`);
  }
  if (config.encoder.kind === "embeddings" && !(config.encoder.embeddings?.url && config.encoder.embeddings.model)) {
    throw new ConfigError("invalid configuration:\n  encoder: kind embeddings needs encoder.embeddings.url and .model (--embeddings-url, --embeddings-model)");
  }
  if (config.edge.url !== undefined) {
    try {
      assertEdgeTransport(config.edge.url, config.edge.allowPlaintext);
    } catch (err) {
      if (!(err instanceof EdgeTransportError)) throw err;
      throw new ConfigError(`invalid configuration:\n  edge.url: ${err.message}`);
    }
  }
  return { ...config, dataDir: resolve(config.dataDir) };
}
