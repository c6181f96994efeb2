/** Where `npm start` keeps things: one data folder per running fleet (default <checkout>/.data). */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface Layout {
  readonly root: string;
  readonly data: string;
  /** wrangler's persisted Durable Object state. */
  readonly edgeState: string;
  readonly agentsDir: string;
  readonly logs: string;
  /** One `npm start` per data folder. */
  readonly lockFile: string;
  /**
   * The edge's local secrets (ADMIN_TOKEN, LOG_SIGNING_KEY), mode 0600: <checkout>/.dev.vars for
   * the default data folder (where wrangler and the README look), <data>/.dev.vars otherwise.
   */
  readonly secretsFile: string;
  readonly wrangler: string;
  readonly wranglerToml: string;
  readonly agentMain: string;
}

export function layout(dataOption: string | undefined): Layout {
  const data = dataOption === undefined ? join(ROOT, ".data") : resolve(dataOption);
  return {
    root: ROOT,
    data,
    edgeState: join(data, "edge"),
    agentsDir: join(data, "agents"),
    logs: join(data, "logs"),
    lockFile: join(data, "start.lock"),
    secretsFile: dataOption === undefined ? join(ROOT, ".dev.vars") : join(data, ".dev.vars"),
    wrangler: join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js"),
    wranglerToml: join(ROOT, "wrangler.toml"),
    agentMain: join(ROOT, "agent", "cli", "main.ts"),
  };
}

export const agentDir = (l: Layout, n: number): string => join(l.agentsDir, String(n));
export const agentLog = (l: Layout, n: number): string => join(l.logs, `agent-${n}.log`);
export const edgeLog = (l: Layout): string => join(l.logs, "edge.log");
