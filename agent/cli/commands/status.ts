import { parseArgs } from "node:util";
import { UsageError, type Command } from "../command.js";
import { agentConfigFromArgs } from "../agentFlags.js";

/** `becomingone-agent status`: asks the running agent's local API how it is. */
export const command: Command = {
  name: "status",
  summary: "show the running agent's health and coherence (queries the local API)",
  usage: "status [--url URL | --config FILE | --host H --port N] [--json] [--insecure]",
  async run(argv) {
    const { values } = (() => {
      try {
        return parseArgs({
          args: [...argv],
          options: { url: { type: "string" }, json: { type: "boolean" }, insecure: { type: "boolean" }, config: { type: "string" }, host: { type: "string" }, port: { type: "string" } },
          strict: true,
          allowPositionals: false,
        });
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    })();
    let base = values.url;
    if (!base) {
      const pass: string[] = [];
      if (values.config) pass.push("--config", values.config);
      if (values.host) pass.push("--host", values.host);
      if (values.port) pass.push("--port", values.port);
      const config = agentConfigFromArgs(pass);
      const scheme = config.api.tlsCert ? "https" : "http";
      const host = config.api.host.includes(":") ? `[${config.api.host}]` : config.api.host;
      base = `${scheme}://${host === "0.0.0.0" ? "127.0.0.1" : host}:${config.api.port}`;
    }
    if (values.insecure) process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    let health: Record<string, unknown>;
    let coherence: Record<string, unknown>;
    try {
      const get = async (path: string) => {
        const res = await fetch(new URL(path, base), { signal: AbortSignal.timeout(5000) });
        if (!res.ok) throw new Error(`${path} answered HTTP ${res.status}`);
        return (await res.json()) as Record<string, unknown>;
      };
      [health, coherence] = await Promise.all([get("/health"), get("/coherence")]);
    } catch (err) {
      process.stderr.write(`becomingone-agent status: cannot reach the agent at ${base}: ${(err as Error).message}\n`);
      return 1;
    }
    if (values.json) {
      process.stdout.write(JSON.stringify({ health, coherence }, null, 2) + "\n");
      return 0;
    }
    const h = health as { status?: string; agentId?: string; uptimeSeconds?: number; link?: string; clock?: Record<string, number>; queue?: Record<string, number>; ledger?: Record<string, number>; edge?: Record<string, number | string | boolean | null> | null };
    const c = coherence as { coherence?: number; collapsed?: boolean; mesh?: { theta?: number; field?: { r?: number; n?: number } | null } };
    const lines = [
      `agent     ${h.agentId ?? "?"}  (${h.status ?? "?"}, up ${h.uptimeSeconds ?? "?"} s)`,
      `clock     ${h.clock?.hz ?? "?"} Hz, ${h.clock?.ticks ?? 0} ticks, ${h.clock?.late ?? 0} late, ${h.clock?.missed ?? 0} missed`,
      `queue     ${h.queue?.depth ?? 0} / ${h.queue?.capacity ?? 0}`,
      `ledger    ${h.ledger?.size ?? 0} records, ${h.ledger?.durable ?? 0} durable, ${h.ledger?.acked ?? 0} acknowledged`,
      `coherence ${(c.coherence ?? 0).toFixed(4)}${c.collapsed ? " (collapsed)" : ""}`,
      `mesh      θ = ${(c.mesh?.theta ?? 0).toFixed(4)} rad` + (c.mesh?.field ? `, field r = ${(c.mesh.field.r ?? 0).toFixed(3)} over ${c.mesh.field.n ?? 0} agents` : ", no field"),
      `link      ${h.link ?? "?"}`,
      ...(h.edge
        ? [
            h.edge.log_inconsistent
              ? `edge log  INCONSISTENT: ${String(h.edge.inconsistent_reason)}`
              : `edge log  checkpoint size ${h.edge.checkpoint_size ?? 0}, ${h.edge.inclusion_verified ?? 0} own records proven included`,
          ]
        : []),
      ...(h.edge && h.edge.agent_checkpoints_sent !== undefined
        ? [
            h.edge.agent_log_inconsistent
              ? "own log   AGENT LOG INCONSISTENT: the edge's records of this agent do not match its signed checkpoint"
              : `own log   agent checkpoint size ${h.edge.agent_checkpoint_size ?? 0} (${h.edge.agent_checkpoints_sent} sent), ${h.edge.cosignatures_sent ?? 0} edge checkpoints cosigned`,
          ]
        : []),
    ];
    process.stdout.write(lines.join("\n") + "\n");
    return 0;
  },
};
