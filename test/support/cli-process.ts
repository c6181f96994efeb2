import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (tests run the CLI from its sources there). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `becomingone-agent …` from the sources, as a real process (tsx), with `stdin` (default: empty and
 * closed). Never rejects: the exit code, or -1 when it was killed (30 s timeout).
 */
export function runCli(args: readonly string[], stdin: string | Uint8Array = ""): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ["--import", "tsx", join(REPO_ROOT, "agent/cli/main.ts"), ...args], { cwd: REPO_ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
    child.stdin!.end(stdin);
  });
}
