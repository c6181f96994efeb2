/**
 * Writes docs/protocol.schema.json from the zod schemas in shared/protocol (the single source of
 * truth). `--check` only compares and exits 1 if the committed file is stale.
 *
 *   npx tsx scripts/protocol-schema.ts [--check]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { protocolJsonSchema } from "../shared/protocol/index.js";

export const PROTOCOL_SCHEMA_PATH = fileURLToPath(new URL("../docs/protocol.schema.json", import.meta.url));

export function renderProtocolSchema(): string {
  return `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rendered = renderProtocolSchema();
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(PROTOCOL_SCHEMA_PATH, "utf8");
    } catch {
      // missing counts as stale
    }
    if (current !== rendered) {
      console.error(`${PROTOCOL_SCHEMA_PATH} is stale: run npx tsx scripts/protocol-schema.ts`);
      process.exit(1);
    }
    console.log(`${PROTOCOL_SCHEMA_PATH} is current`);
  } else {
    writeFileSync(PROTOCOL_SCHEMA_PATH, rendered);
    console.log(`wrote ${PROTOCOL_SCHEMA_PATH}`);
  }
}
