import { describe, expect, it } from "vitest";
import { checkEndpointUrl, type UrlRefusal } from "../../shared/webhooks/index.js";

const prod = { allowLoopback: false };
const dev = { allowLoopback: true };

// [url, refusal in production (or the accepted URL), refusal in local dev (or accepted)]
const TABLE: [string, UrlRefusal | "ok", UrlRefusal | "ok"][] = [
  ["https://hooks.example.com/becomingone", "ok", "ok"],
  ["https://hooks.example.com:443/x", "ok", "ok"],
  ["https://93.184.215.14/x", "ok", "ok"],
  ["https://[2606:4700:4700::1111]/x", "ok", "ok"],
  ["http://hooks.example.com/x", "scheme", "scheme"],
  ["ftp://hooks.example.com/x", "scheme", "scheme"],
  ["javascript:alert(1)", "scheme", "scheme"],
  ["https://user:pw@hooks.example.com/x", "userinfo", "userinfo"],
  ["https://user@hooks.example.com/x", "userinfo", "userinfo"],
  ["https://hooks.example.com:8443/x", "port", "ok"],
  ["https://hooks.example.com/x#frag", "fragment", "fragment"],
  ["not a url", "malformed", "malformed"],
  ["https://hooks.example.com/" + "a".repeat(2100), "too_long", "too_long"],
  // Loopback: only in local dev, and then http and any port are fine.
  ["http://127.0.0.1:8787/hook", "loopback", "ok"],
  ["https://127.0.0.1/hook", "loopback", "ok"],
  ["http://127.1.2.3/hook", "loopback", "ok"],
  ["http://[::1]:9000/hook", "loopback", "ok"],
  ["http://localhost:9000/hook", "loopback", "ok"],
  ["http://api.localhost/hook", "loopback", "ok"],
  ["https://localhost./hook", "loopback", "ok"],
  // Numeric spellings the URL parser normalises to loopback.
  ["http://2130706433/", "loopback", "ok"],
  ["http://0x7f.1/", "loopback", "ok"],
  ["http://0177.0.0.1/", "loopback", "ok"],
  // Private and special IPv4.
  ["https://10.0.0.1/", "private_address", "private_address"],
  ["https://172.16.5.4/", "private_address", "private_address"],
  ["https://172.31.255.255/", "private_address", "private_address"],
  ["https://192.168.1.1/", "private_address", "private_address"],
  ["https://169.254.169.254/latest/meta-data", "private_address", "private_address"],
  ["https://100.64.0.1/", "private_address", "private_address"],
  ["https://100.127.255.254/", "private_address", "private_address"],
  ["https://0.0.0.0/", "private_address", "private_address"],
  ["https://224.0.0.1/", "private_address", "private_address"],
  ["https://255.255.255.255/", "private_address", "private_address"],
  ["https://198.18.0.1/", "private_address", "private_address"],
  ["https://0xa9fea9fe/", "private_address", "private_address"],
  ["https://172.32.0.1/", "ok", "ok"],
  ["https://100.128.0.1/", "ok", "ok"],
  // IPv6.
  ["https://[::]/", "private_address", "private_address"],
  ["https://[fc00::1]/", "private_address", "private_address"],
  ["https://[fd12:3456::1]/", "private_address", "private_address"],
  ["https://[fe80::1]/", "private_address", "private_address"],
  ["https://[ff02::1]/", "private_address", "private_address"],
  ["https://[::ffff:127.0.0.1]/", "private_address", "private_address"],
  ["https://[::ffff:8.8.8.8]/", "private_address", "private_address"],
  ["https://[::ffff:a9fe:a9fe]/", "private_address", "private_address"],
  ["https://[::127.0.0.1]/", "private_address", "private_address"],
  ["https://[64:ff9b::a9fe:a9fe]/", "private_address", "private_address"],
  ["https://[2002:a9fe:a9fe::1]/", "private_address", "private_address"],
  ["https://[2001:db8::1]/", "private_address", "private_address"],
  // Names that only mean something inside a network.
  ["https://metadata/", "local_name", "local_name"],
  ["https://printer.local/", "local_name", "local_name"],
  ["https://metadata.google.internal/", "local_name", "local_name"],
  ["https://router.home.arpa/", "local_name", "local_name"],
];

describe("endpoint URL policy (SSRF)", () => {
  it.each(TABLE)("%s → production %s, local dev %s", (url, inProd, inDev) => {
    const p = checkEndpointUrl(url, prod);
    const d = checkEndpointUrl(url, dev);
    expect(p.ok ? "ok" : p.reason).toBe(inProd);
    expect(d.ok ? "ok" : d.reason).toBe(inDev);
  });

  it("returns the URL as the parser serialises it (what is stored and fetched)", () => {
    expect(checkEndpointUrl("HTTPS://Hooks.Example.COM:443/a/../b?x=1", prod)).toEqual({ ok: true, url: "https://hooks.example.com/b?x=1" });
    expect(checkEndpointUrl("http://0x7f.1:9000/h", dev)).toEqual({ ok: true, url: "http://127.0.0.1:9000/h" });
  });
});
