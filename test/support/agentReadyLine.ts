import type { ChildProcess } from "node:child_process";

export interface AgentReady {
  readonly api: string;
  readonly agentId: string;
}

/**
 * The `run` command's ready line (its first stdout line, JSON with the API URL and agent id); rejects,
 * with the tail of what `stderr()` returns, if the agent exits first.
 */
export function agentReadyLine(child: ChildProcess, stderr: () => string = () => ""): Promise<AgentReady> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as AgentReady);
    });
    child.once("exit", (code, signal) => reject(new Error(`agent exited (${code ?? signal}) before it was ready: ${stderr().slice(-3000)}`)));
  });
}
