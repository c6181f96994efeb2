import type { Fleet } from "./fleet/fleet.js";


/** The Worker's bindings: the Fleet namespace, secrets and optional settings (docs/edge.md). */
export type Env = {
  FLEET: DurableObjectNamespace<Fleet>;
  /** The dashboard's static files (wrangler.toml `[assets]`, built into dist/dashboard). */
  ASSETS: Fetcher;
  /** Operators' bearer token (secret). */
  ADMIN_TOKEN?: string;
  /** Note signer key "PRIVATE+KEY+<name>+<hash>+<base64>" for checkpoints (secret). */
  LOG_SIGNING_KEY?: string;
  /** Checkpoint origin; "{fleet}" is replaced by the fleet id. Default "<host>/fleet/<fleetId>". */
  LOG_ORIGIN?: string;
  /** Enrollment attempts per client address per minute (default 30). */
  ENROLL_RATE_PER_MINUTE?: string;
  /**
   * "1": local development — webhook endpoints may be loopback (http, any port). Set only by
   * `wrangler dev`'s .dev.vars and the tests, never in wrangler.toml (docs/webhooks.md).
   */
  WEBHOOKS_ALLOW_LOOPBACK?: string;
  /** Local development only (read when WEBHOOKS_ALLOW_LOOPBACK=1): retry delays, ms, comma-separated. */
  WEBHOOKS_RETRY_SCHEDULE_MS?: string;
  /** Local development only: the delivery timeout, ms (100–15 000). */
  WEBHOOKS_TIMEOUT_MS?: string;
};
