#!/usr/bin/env node
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { UsageError, type Command } from "./command.js";
import { packageVersion } from "./version.js";

// Subcommands are discovered from ./commands so each lives in one small module, named after the
// command. Works from the TypeScript sources (tsx, vitest) and from the compiled JavaScript in dist/.
// Only the command being run is imported: `run` is a long-lived process on a 512 MB Pi, and the
// other commands' modules (and through them the portable pure-JS Ed25519 of verify-* and enroll)
// would otherwise stay loaded for its whole life.
const commandsDir = new URL("./commands/", import.meta.url);

function commandFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const file of readdirSync(fileURLToPath(commandsDir)).sort()) {
    const m = /^([a-z][a-z-]*)\.(js|ts)$/.exec(file);
    if (m && !file.endsWith(".d.ts")) files.set(m[1]!, file);
  }
  return files;
}

async function importCommand(file: string): Promise<Command | undefined> {
  const mod = (await import(new URL(file, commandsDir).href)) as { command?: Command };
  return mod.command;
}

async function loadCommands(files: Map<string, string>): Promise<Command[]> {
  const commands: Command[] = [];
  for (const file of files.values()) {
    const command = await importCommand(file);
    if (command) commands.push(command);
  }
  return commands;
}

function helpText(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: becomingone-agent <command> [options]",
    "",
    "commands:",
    ...lines,
    "",
    "Run `becomingone-agent <command> --help` for a command's options; `becomingone-agent --version` prints the version.",
  ].join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  const files = commandFiles();
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(helpText(await loadCommands(files)) + "\n");
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    process.stdout.write(`becomingone-agent ${packageVersion()}\n`);
    return 0;
  }
  const file = files.get(name);
  const command = file === undefined ? undefined : await importCommand(file);
  if (!command || command.name !== name) {
    process.stderr.write(`becomingone-agent: unknown command "${name}" (try --help)\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`usage: becomingone-agent ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`becomingone-agent ${name}: ${err.message}\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`becomingone-agent ${name}: internal error: ${message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`becomingone-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
