#!/usr/bin/env node
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { UsageError, type Command } from "./command.js";

// Subcommands are discovered from ./commands so each lives in one small module. Works from the
// TypeScript sources (tsx, vitest) and from the compiled JavaScript in dist/.
async function loadCommands(): Promise<Command[]> {
  const dir = new URL("./commands/", import.meta.url);
  const files = readdirSync(fileURLToPath(dir))
    .filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith(".d.ts") && !f.endsWith(".map"))
    .sort();
  const commands: Command[] = [];
  for (const file of files) {
    const mod = (await import(new URL(file, dir).href)) as { command?: Command };
    if (mod.command) commands.push(mod.command);
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
    "Run `becomingone-agent <command> --help` for a command's options.",
  ].join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  const commands = await loadCommands();
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(helpText(commands) + "\n");
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
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
