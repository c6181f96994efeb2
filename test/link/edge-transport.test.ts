import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { agentConfigFromArgs } from "../../agent/cli/agentFlags.js";
import { UsageError } from "../../agent/cli/command.js";
import { deviceKeyFromPrivate } from "../../agent/identity/deviceKey.js";
import { enrollWithEdge } from "../../agent/link/enrollment.js";
import { assertEdgeTransport, assertNoDowngrade, EdgeTransportError, isLoopbackHost } from "../../agent/link/edgeTransport.js";

// Plaintext to the edge would carry the enrollment token, JWTs and records in the clear. No test
// here sends a byte off this machine: every refusal happens before any I/O, and the only address
// that could be dialled on a regression is under .invalid, which never resolves.

describe("edge transport policy", () => {
  it("knows loopback hosts, and nothing else, as loopback", () => {
    for (const host of ["localhost", "LOCALHOST.", "edge.localhost", "127.0.0.1", "127.8.9.10", "[::1]", "::1", "[::ffff:7f00:1]"]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ["192.0.2.10", "10.0.0.1", "localhost.example", "127.example", "[::2]", "[::ffff:c000:20a]", "edge.invalid"]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it("allows TLS anywhere and plaintext only on loopback, unless the operator allows it", () => {
    for (const url of ["https://edge.example", "wss://edge.example/v1/connect", "http://127.0.0.1:8787", "ws://[::1]:8787/v1/connect", "http://localhost:8787"]) {
      expect(() => assertEdgeTransport(url, false), url).not.toThrow();
    }
    for (const url of ["http://edge.example", "ws://192.0.2.10:8787/v1/connect", "http://[::ffff:c000:20a]/"]) {
      expect(() => assertEdgeTransport(url, false), url).toThrow(EdgeTransportError);
      expect(() => assertEdgeTransport(url, true), url).not.toThrow();
    }
  });

  it("refuses a TLS edge that hands out a plaintext socket, whatever the setting", () => {
    expect(() => assertNoDowngrade("https://edge.example/", "ws://edge.example/v1/connect")).toThrow(/downgrade/);
    expect(() => assertNoDowngrade("https://edge.example/", "wss://edge.example/v1/connect")).not.toThrow();
    expect(() => assertNoDowngrade("http://127.0.0.1:8787/", "ws://127.0.0.1:8787/v1/connect")).not.toThrow();
  });

  it("run refuses a plaintext non-loopback --edge as a usage error (exit 2), and takes --allow-plaintext-edge", () => {
    const argv = ["--data-dir", "/tmp/bo-unused", "--edge", "http://edge.invalid:8787", "--token", "t"];
    expect(() => agentConfigFromArgs(argv, {})).toThrow(UsageError);
    expect(() => agentConfigFromArgs(argv, {})).toThrow(/plaintext/);
    expect(agentConfigFromArgs([...argv, "--allow-plaintext-edge"], {}).edge.allowPlaintext).toBe(true);
    expect(agentConfigFromArgs(argv, { BECOMINGONE_EDGE_ALLOW_PLAINTEXT: "true" }).edge.allowPlaintext).toBe(true);
  });

  it("enrollment refuses before sending the token anywhere", async () => {
    const key = deviceKeyFromPrivate(generateKeyPairSync("ed25519").privateKey);
    await expect(enrollWithEdge({ edgeUrl: "http://edge.invalid:8787", token: "secret-token", key, agentId: "ag_x" })).rejects.toThrow(EdgeTransportError);
  });
});
