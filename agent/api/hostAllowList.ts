import { isIP } from "node:net";

/**
 * Which `Host` headers the local API answers (against DNS rebinding: a page on evil.example whose
 * name is re-pointed at 127.0.0.1 reaches the API with `Host: evil.example`, never with one of the
 * names below). Allowed, with any port: `localhost`, loopback addresses (127.0.0.0/8, [::1]), the
 * address the API is bound to, the host's interface addresses when bound to all of them, and the
 * names the operator lists (`api.allowedHosts`). Names compare case-insensitively, without a
 * trailing dot.
 */
export class HostAllowList {
  private readonly names: Set<string>;

  constructor(options: { readonly boundHost: string; readonly names?: readonly string[]; readonly interfaceAddresses?: readonly string[] }) {
    const names = new Set<string>(["localhost", "::1"]);
    const bound = normalise(options.boundHost);
    if (bound === "0.0.0.0" || bound === "::") for (const a of options.interfaceAddresses ?? []) names.add(normalise(a));
    else names.add(bound);
    for (const n of options.names ?? []) names.add(normalise(n));
    this.names = names;
  }

  /** True when `host` (a Host header value) names this agent; false for a missing or malformed one. */
  allows(host: string | undefined): boolean {
    const name = hostName(host);
    if (name === undefined) return false;
    if (this.names.has(name)) return true;
    return isIP(name) === 4 && name.startsWith("127.");
  }
}

function normalise(name: string): string {
  const lower = name.trim().toLowerCase().replace(/\.$/, "");
  return lower.startsWith("[") && lower.endsWith("]") ? lower.slice(1, -1) : lower;
}

/** The name part of a Host header (`[v6]:port`, `name:port`, `name`), or undefined if malformed. */
export function hostName(host: string | undefined): string | undefined {
  if (host === undefined || host.length === 0 || host.length > 255) return undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/.exec(host);
  if (v6) return isIP(v6[1]!) === 6 ? normalise(v6[1]!) : undefined;
  const m = /^([A-Za-z0-9.-]+?)(?::\d{1,5})?$/.exec(host);
  return m ? normalise(m[1]!) : undefined;
}
