#!/usr/bin/env node
// `npm start`'s entry, plain JavaScript so it runs before `npm install`: checks that the
// dependencies are there, then loads the TypeScript supervisor (scripts/start/main.ts) through
// tsx in this same process (no extra process between npm and the supervisor).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 6)) {
  process.stderr.write(`npm start: Node ${process.versions.node} is too old; install Node 20.6 or newer\n`);
  process.exit(1);
}
const needed = ["tsx", "wrangler", "hono", "ws"];
const missing = needed.filter((name) => !existsSync(join(root, "node_modules", name, "package.json")));
if (missing.length > 0) {
  process.stderr.write(`npm start: the dependencies are not installed (missing ${missing.join(", ")}); run \`npm install\` first, then \`npm start\`\n`);
  process.exit(1);
}
const { register } = await import("tsx/esm/api");
register();
await import(pathToFileURL(join(root, "scripts", "start", "main.ts")).href);
