/**
 * The ready-to-paste commands for a new enrollment token: `becomingone-agent enroll` with the edge
 * URL the operator is looking at (plus `?fleet=` for a fleet other than the default) and the token,
 * then `becomingone-agent run`, which finds the stored identity (agent/cli/commands/enroll.ts).
 */

/** POSIX shell single quoting: safe for any text, readable for URLs and tokens. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The edge URL an agent enrolls with: the dashboard's origin, with the fleet when not the default. */
export function edgeUrlFor(origin: string, fleet?: string | null): string {
  const url = new URL(origin);
  url.pathname = "/";
  url.search = "";
  url.hash = "";
  if (fleet !== undefined && fleet !== null && fleet !== "" && fleet !== "default") url.searchParams.set("fleet", fleet);
  // An origin's URL ends in "/"; the agent adds /v1/enroll itself.
  return url.search === "" ? url.origin : `${url.origin}/${url.search}`;
}

export function enrollCommand(options: { origin: string; token: string; fleet?: string | null }): string {
  return `becomingone-agent enroll --edge ${shellQuote(edgeUrlFor(options.origin, options.fleet))} --token ${shellQuote(options.token)}`;
}
