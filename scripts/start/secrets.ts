/**
 * The edge's local secrets, in one dotenv file of mode 0600 that wrangler reads (`--env-file`):
 * never on a command line, never printed. Written with fresh values on the first run.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { generateSignerKey } from "../../shared/note/index.js";

export interface EdgeSecrets {
  readonly adminToken: string;
  /** True when this run wrote the file. */
  readonly created: boolean;
}

export class SecretsError extends Error {
  override readonly name = "SecretsError";
}

export function loadOrCreateSecrets(path: string): EdgeSecrets {
  let created = false;
  if (!existsSync(path)) {
    const { signerKey, verifierKey } = generateSignerKey("becomingone-edge-local");
    const text = [
      "# Written by `npm start` on its first run. Local secrets for `wrangler dev`; never commit this file.",
      `ADMIN_TOKEN=adm_${randomBytes(24).toString("base64url")}`,
      `LOG_SIGNING_KEY=${signerKey}`,
      `# verifier key (public): ${verifierKey}`,
      "LOG_ORIGIN=becomingone.local/fleet/{fleet}",
      "# Local development: webhook endpoints on this machine (http://127.0.0.1:…) are allowed. Never set on a deployed Worker.",
      "WEBHOOKS_ALLOW_LOOPBACK=1",
      "",
    ].join("\n");
    writeFileSync(path, text, { mode: 0o600, flag: "wx" });
    created = true;
  }
  // An older file may have been made with the umask's mode: secrets are for this user only.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars[m[1]!] = m[2]!.replace(/^"(.*)"$/, "$1");
  }
  if (!vars.ADMIN_TOKEN || !vars.LOG_SIGNING_KEY) throw new SecretsError(`${path} lacks ADMIN_TOKEN or LOG_SIGNING_KEY; delete it to get fresh ones`);
  return { adminToken: vars.ADMIN_TOKEN, created };
}
