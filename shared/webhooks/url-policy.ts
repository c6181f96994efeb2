/**
 * Which URLs an endpoint may have (the SSRF stance, docs/webhooks.md): HTTPS on the default port to
 * a public host name or a public IP literal. In local development mode (WEBHOOKS_ALLOW_LOOPBACK=1)
 * loopback receivers are allowed too, over plain HTTP and on any port. Names are judged by their
 * text only: a Worker cannot resolve DNS before it connects, so a name that resolves to a private
 * address is left to Cloudflare's egress, which does not route to private networks.
 */
export interface UrlPolicyOptions {
  /** Local development: loopback hosts (127/8, ::1, localhost), plain http to them, any port. */
  readonly allowLoopback: boolean;
}

export type UrlRefusal =
  | "malformed"
  | "too_long"
  | "scheme"
  | "userinfo"
  | "port"
  | "fragment"
  | "private_address"
  | "loopback"
  | "local_name";

export type UrlVerdict = { readonly ok: true; readonly url: string } | { readonly ok: false; readonly reason: UrlRefusal; readonly message: string };

export const URL_MAX_LENGTH = 2048;

function refuse(reason: UrlRefusal, message: string): UrlVerdict {
  return { ok: false, reason, message };
}

/** Four octets of a dotted IPv4 host as the URL parser normalises it, or null. */
function ipv4Octets(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (m === null) return null;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

/** Eight 16-bit groups of a bracketed IPv6 host as the URL parser serialises it, or null. */
function ipv6Groups(host: string): number[] | null {
  if (!host.startsWith("[") || !host.endsWith("]")) return null;
  const text = host.slice(1, -1);
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.every((g) => Number.isInteger(g)) ? groups : null;
}

type AddressClass = "public" | "loopback" | "private";

/** Special-purpose IPv4 ranges (RFC 6890 and successors) that a webhook must never reach. */
function classifyIpv4([a, b, c]: number[]): AddressClass {
  if (a === 127) return "loopback";
  if (a === 0 || a === 10 || a >= 224) return "private"; // unspecified/this-network, RFC 1918, multicast + reserved + broadcast
  if (a === 100 && b! >= 64 && b! <= 127) return "private"; // CGNAT 100.64/10
  if (a === 169 && b === 254) return "private"; // link-local (cloud metadata lives here)
  if (a === 172 && b! >= 16 && b! <= 31) return "private";
  if (a === 192 && b === 168) return "private";
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return "private"; // IETF protocol assignments, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return "private"; // benchmarking
  if (a === 198 && b === 51 && c === 100) return "private"; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return "private"; // TEST-NET-3
  if (a === 192 && b === 88 && c === 99) return "private"; // 6to4 relay anycast
  return "public";
}

function classifyIpv6(g: number[]): AddressClass {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 1) return "loopback";
  // ::, ::/96 (IPv4-compatible), ::ffff:0:0/96 (IPv4-mapped): all refused, whatever the embedded address.
  if (zeroPrefix && (g5 === 0 || g5 === 0xffff)) return "private";
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return "private"; // ::ffff:0:0:0/96 (SIIT)
  if (g0 === 0x64 && g1 === 0xff9b) return "private"; // NAT64 64:ff9b::/96 and 64:ff9b:1::/48 reach IPv4 space
  if (g0 === 0x2002) return "private"; // 6to4 embeds an IPv4 address
  if (g0 === 0x2001 && g1 === 0) return "private"; // Teredo
  if (g0 === 0x2001 && g1 === 0xdb8) return "private"; // documentation
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return "private"; // discard-only 100::/64
  if ((g0 & 0xfe00) === 0xfc00) return "private"; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80 || (g0 & 0xffc0) === 0xfec0) return "private"; // link-local, site-local
  if ((g0 & 0xff00) === 0xff00) return "private"; // multicast
  return "public";
}

/** Names that only mean something inside a private network or this machine. */
const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".localdomain", ".corp", ".private"];

/**
 * Judges an endpoint URL. Returns the URL as the WHATWG parser serialises it (what is stored and
 * fetched), or the refusal with a message for the operator.
 */
export function checkEndpointUrl(text: string, options: UrlPolicyOptions): UrlVerdict {
  if (text.length > URL_MAX_LENGTH) return refuse("too_long", `a URL has at most ${URL_MAX_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse("malformed", "not an absolute URL");
  }
  if (url.href.length > URL_MAX_LENGTH) return refuse("too_long", `a URL has at most ${URL_MAX_LENGTH} characters`);
  if (url.protocol !== "https:" && url.protocol !== "http:") return refuse("scheme", "the URL must be https://");
  if (url.username !== "" || url.password !== "") return refuse("userinfo", "credentials in the URL are refused; authenticate with the signature");
  if (url.hash !== "" || text.includes("#")) return refuse("fragment", "a fragment is never sent; leave it out");
  const host = url.hostname.toLowerCase();
  if (host === "") return refuse("malformed", "the URL has no host");

  const v4 = ipv4Octets(host);
  const v6 = v4 === null ? ipv6Groups(host) : null;
  let loopback = false;
  if (v4 !== null || v6 !== null) {
    const kind = v4 !== null ? classifyIpv4(v4) : classifyIpv6(v6!);
    if (kind === "private") return refuse("private_address", `${host} is a private, link-local or special-purpose address`);
    loopback = kind === "loopback";
  } else {
    const bare = host.endsWith(".") ? host.slice(0, -1) : host;
    if (bare === "localhost" || bare.endsWith(".localhost")) loopback = true;
    else if (!bare.includes(".")) return refuse("local_name", `${host} is a single-label name; give a public DNS name`);
    else if (LOCAL_SUFFIXES.some((suffix) => bare.endsWith(suffix))) return refuse("local_name", `${host} is a local-network name`);
  }
  if (loopback && !options.allowLoopback) {
    return refuse("loopback", `${host} is this machine; loopback receivers are allowed only in local development (WEBHOOKS_ALLOW_LOOPBACK=1)`);
  }
  if (url.protocol === "http:" && !loopback) return refuse("scheme", "the URL must be https:// (plain http only to loopback in local development)");
  if (url.port !== "" && !options.allowLoopback) return refuse("port", "only the default port (443) is allowed");
  return { ok: true, url: url.href };
}
