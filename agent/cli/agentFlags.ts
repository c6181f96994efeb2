import { parseArgs } from "node:util";
import { UsageError } from "./command.js";
import { ConfigError, envLayer, fileLayer, resolveAgentConfig, type AgentConfig } from "../config/agentConfig.js";

/** Flags shared by `run` and `status` (see `becomingone-agent run --help`). */
export const AGENT_FLAG_OPTIONS = {
  config: { type: "string" },
  "data-dir": { type: "string" },
  hz: { type: "string" },
  omega: { type: "string" },
  "sync-rule": { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "no-api": { type: "boolean" },
  "reset-key": { type: "string", multiple: true },
  "allow-host": { type: "string", multiple: true },
  stdin: { type: "boolean" },
  split: { type: "string" },
  file: { type: "string" },
  "sse-url": { type: "string" },
  "sse-prompt": { type: "string" },
  "sse-model": { type: "string" },
  "sse-max-tokens": { type: "string" },
  "sse-repeat": { type: "boolean" },
  "phase-stream": { type: "boolean" },
  "phase-step": { type: "string" },
  "phase-coherent": { type: "string" },
  "phase-scatter": { type: "string" },
  encoder: { type: "string" },
  "embeddings-url": { type: "string" },
  "embeddings-model": { type: "string" },
  "embeddings-timeout-ms": { type: "string" },
  edge: { type: "string" },
  token: { type: "string" },
  "allow-plaintext-edge": { type: "boolean" },
  "log-level": { type: "string" },
} as const;

export const AGENT_FLAGS_USAGE = `[options]

  --config FILE          JSON config file (env BECOMINGONE_CONFIG)
  --data-dir DIR         device key, API token, ledger (default ~/.becomingone; env BECOMINGONE_DATA_DIR)
  --hz N                 token clock rate, Hz (default 20)
  --omega W              the mesh oscillator's natural frequency, rad/s (default 1; env BECOMINGONE_MESH_OMEGA)
  --sync-rule RULE       fleet (default: coherent streams collapse) | reference (the reference's rule; env BECOMINGONE_SYNC_RULE)
  --host ADDR            local API address (default 127.0.0.1)
  --port N               local API port (default 8420; 0 = any free port)
  --tls-cert FILE        serve the API over TLS with this PEM certificate …
  --tls-key FILE         … and this PEM key
  --no-api               run without the local API
  --reset-key KEY        allow this Ed25519 public key (base64url) to sign POST /reset (repeatable)
  --allow-host NAME      answer requests whose Host is NAME, besides loopback and --host (repeatable)
  --stdin                read tokens from standard input
  --split words|lines    how stdin/file text becomes tokens (default words)
  --file PATH            read tokens from a file
  --sse-url URL          stream tokens from an OpenAI-compatible completion endpoint (SSE)
  --sse-prompt TEXT      prompt for --sse-url
  --sse-model NAME       model for --sse-url
  --sse-max-tokens N     max_tokens for --sse-url
  --sse-repeat           start a new completion whenever one ends
  --phase-stream         feed a generated stream of phase tokens (φ:x): coherent runs and scattered runs
  --phase-step=RAD       phase advance per token in coherent runs (default 0; −2·3.14159/hz with --sync-rule reference; negative: use =)
  --phase-coherent N     tokens per coherent run (default 200)
  --phase-scatter N      tokens of random phases between coherent runs (default 200; 0 = never)
  --encoder KIND         hash (default) | phase (tokens "φ:x" carry their phase) | embeddings
  --embeddings-url URL   OpenAI-compatible /v1/embeddings endpoint (llama.cpp, Ollama) for --encoder embeddings
  --embeddings-model M   model name sent to it (API key: env BECOMINGONE_EMBEDDINGS_API_KEY)
  --embeddings-timeout-ms N  per request (default 2000); a token not ready at its tick is hashed
  --edge URL             edge coordinator URL (env BECOMINGONE_EDGE_URL)
  --token T              enrollment token for the first start (env BECOMINGONE_ENROLL_TOKEN)
  --allow-plaintext-edge allow http:// / ws:// to an edge that is not on loopback (env BECOMINGONE_EDGE_ALLOW_PLAINTEXT)
  --log-level LEVEL      error | warn | info | debug (default info)`;

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got "${v}"`);
  return n;
}

/** Parses flags and merges them over the config file and the environment. */
export function agentConfigFromArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let values: ReturnType<typeof parseArgs<{ options: typeof AGENT_FLAG_OPTIONS; strict: true; allowPositionals: false }>>["values"];
  try {
    values = parseArgs({ args: [...argv], options: AGENT_FLAG_OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const flags = {
    dataDir: values["data-dir"],
    hz: num("hz", values.hz),
    syncRule: values["sync-rule"],
    mesh: { omega: num("omega", values.omega) },
    api: {
      host: values.host,
      port: num("port", values.port),
      tlsCert: values["tls-cert"],
      tlsKey: values["tls-key"],
      resetKeys: values["reset-key"],
      allowedHosts: values["allow-host"],
      enabled: values["no-api"] ? false : undefined,
    },
    sources: {
      stdin: values.stdin,
      split: values.split,
      file: values.file,
      sse: values["sse-url"]
        ? {
            url: values["sse-url"],
            prompt: values["sse-prompt"] ?? "",
            model: values["sse-model"],
            maxTokens: num("sse-max-tokens", values["sse-max-tokens"]),
            repeat: values["sse-repeat"],
          }
        : undefined,
      phaseStream: values["phase-stream"]
        ? {
            step: num("phase-step", values["phase-step"]),
            coherentTokens: num("phase-coherent", values["phase-coherent"]),
            scatterTokens: num("phase-scatter", values["phase-scatter"]),
          }
        : undefined,
    },
    encoder: {
      kind: values.encoder,
      embeddings: { url: values["embeddings-url"], model: values["embeddings-model"], timeoutMs: num("embeddings-timeout-ms", values["embeddings-timeout-ms"]) },
    },
    edge: { url: values.edge, enrollToken: values.token, allowPlaintext: values["allow-plaintext-edge"] },
    logLevel: values["log-level"],
  };
  try {
    const configPath = values.config ?? env.BECOMINGONE_CONFIG;
    return resolveAgentConfig({ file: configPath ? fileLayer(configPath) : {}, env: envLayer(env), flags });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}
