import { describe, expect, it } from "vitest";
import { HostAllowList, hostName } from "../../agent/api/hostAllowList.js";

describe("Host allow-list (DNS rebinding)", () => {
  it("reads the name of a Host header, and nothing from a malformed one", () => {
    expect(hostName("LocalHost:8420")).toBe("localhost");
    expect(hostName("[::1]:80")).toBe("::1");
    expect(hostName("pi.lan.")).toBe("pi.lan");
    for (const bad of [undefined, "", "[::1", "[nope]:80", "a b", "a:b:c", "a:123456", "x".repeat(256), "evil.example/x", "user@host"]) {
      expect(hostName(bad), String(bad)).toBeUndefined();
    }
  });

  it("allows loopback and localhost with any port, the bound address, and configured names only", () => {
    const list = new HostAllowList({ boundHost: "192.0.2.10", names: ["Pi-Kitchen.lan"] });
    for (const ok of ["localhost", "localhost:1", "127.0.0.1", "127.255.0.9:8420", "[::1]", "[::1]:8420", "192.0.2.10:8420", "pi-kitchen.lan", "PI-KITCHEN.LAN.:443"]) {
      expect(list.allows(ok), ok).toBe(true);
    }
    for (const no of [undefined, "evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "192.0.2.11", "128.0.0.1", "[::2]", "pi-garage.lan", "0.0.0.0"]) {
      expect(list.allows(no), String(no)).toBe(false);
    }
  });

  it("bound to every interface, allows the interface addresses given", () => {
    const list = new HostAllowList({ boundHost: "0.0.0.0", interfaceAddresses: ["127.0.0.1", "192.0.2.10", "fe80::1"] });
    expect(list.allows("192.0.2.10:8420")).toBe(true);
    expect(list.allows("[fe80::1]:8420")).toBe(true);
    expect(list.allows("0.0.0.0")).toBe(false);
    expect(list.allows("192.0.2.99")).toBe(false);
  });
});
