import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { agentConfigFromArgs } from "../../agent/cli/agentFlags.js";
import { ConfigError, envLayer, resolveAgentConfig } from "../../agent/config/agentConfig.js";

describe("agent configuration", () => {
  it("takes the mesh oscillator's starting phase from the file (default 0), and refuses one out of bounds", () => {
    expect(resolveAgentConfig({}).mesh.theta0).toBe(0);
    expect(resolveAgentConfig({ file: { mesh: { theta0: 2.2 } } }).mesh.theta0).toBe(2.2);
    expect(() => resolveAgentConfig({ file: { mesh: { theta0: 1e9 } } })).toThrow(ConfigError);
  });

  it("layers defaults < file < env < flags", () => {
    const dir = mkdtempSync(join(tmpdir(), "bo-cfg-"));
    try {
      const file = join(dir, "agent.json");
      writeFileSync(file, JSON.stringify({ hz: 10, api: { port: 9001, host: "127.0.0.2" }, ledger: { fsyncIntervalMs: 500 } }));
      const env = { BECOMINGONE_CONFIG: file, BECOMINGONE_API_PORT: "9002", BECOMINGONE_DATA_DIR: dir };
      const a = agentConfigFromArgs([], env);
      expect(a).toMatchObject({ hz: 10, dataDir: dir, api: { port: 9002, host: "127.0.0.2" }, ledger: { fsyncIntervalMs: 500, fsyncEveryRecords: 64 } });
      const b = agentConfigFromArgs(["--port", "9003", "--hz", "25", "--reset-key", "A".repeat(43)], env);
      expect(b).toMatchObject({ hz: 25, api: { port: 9003, resetKeys: ["A".repeat(43)] } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("has safe defaults: loopback, 20 Hz, API on", () => {
    const c = resolveAgentConfig({});
    expect(c.api.host).toBe("127.0.0.1");
    expect(c.hz).toBe(20);
    expect(c.api.enabled).toBe(true);
    expect(c.dataDir).toMatch(/\.becomingone$/);
  });

  it("explains every invalid field", () => {
    expect(() => resolveAgentConfig({ flags: { hz: 0, api: { port: 70000 }, nope: true } })).toThrow(ConfigError);
    try {
      resolveAgentConfig({ flags: { hz: 0, api: { port: 70000 }, nope: true } });
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain("hz:");
      expect(message).toContain("api.port:");
      expect(message).toContain("nope");
    }
    expect(() => envLayer({ BECOMINGONE_STDIN: "maybe" })).toThrow(/BECOMINGONE_STDIN/);
    expect(() => resolveAgentConfig({ flags: { api: { resetKeys: ["short"] } } })).toThrow(/resetKeys/);
  });

  it("chooses the encoder, the phase stream and ω from flags and the environment; refuses embeddings without an endpoint", () => {
    const env = { BECOMINGONE_DATA_DIR: tmpdir() };
    expect(agentConfigFromArgs([], env)).toMatchObject({ encoder: { kind: "hash" }, mesh: { omega: 1 } });
    const a = agentConfigFromArgs(["--phase-stream", "--phase-step=-0.5", "--phase-scatter", "0", "--omega", "1.3"], env);
    expect(a.sources.phaseStream).toEqual({ step: -0.5, coherentTokens: 200, scatterTokens: 0, seed: 1 });
    expect(a.mesh.omega).toBe(1.3);
    expect(agentConfigFromArgs([], { ...env, BECOMINGONE_MESH_OMEGA: "0.7" }).mesh.omega).toBe(0.7);
    const b = agentConfigFromArgs(["--encoder", "embeddings", "--embeddings-url", "http://127.0.0.1:8080", "--embeddings-model", "nomic"], {
      ...env,
      BECOMINGONE_EMBEDDINGS_API_KEY: "secret",
    });
    expect(b.encoder).toEqual({
      kind: "embeddings",
      embeddings: { url: "http://127.0.0.1:8080", model: "nomic", apiKey: "secret", timeoutMs: 2000, cacheSize: 4096, maxDimensions: 8192, planes: 8 },
    });
    expect(() => agentConfigFromArgs(["--encoder", "embeddings"], env)).toThrow(/encoder/);
    expect(() => agentConfigFromArgs(["--encoder", "magic"], env)).toThrow(/encoder/);
    expect(() => agentConfigFromArgs(["--phase-stream", "--phase-step", "9"], env)).toThrow(/step/);
    expect(() => agentConfigFromArgs(["--encoder", "embeddings", "--embeddings-url", "ftp://x", "--embeddings-model", "m"], env)).toThrow(/url/);
  });

  it("chooses the sync rule: fleet by default, reference by flag or environment, anything else refused", () => {
    const env = { BECOMINGONE_DATA_DIR: tmpdir() };
    expect(agentConfigFromArgs([], env).syncRule).toBe("fleet");
    expect(agentConfigFromArgs(["--sync-rule", "reference"], env).syncRule).toBe("reference");
    expect(agentConfigFromArgs([], { ...env, BECOMINGONE_SYNC_RULE: "reference" }).syncRule).toBe("reference");
    expect(agentConfigFromArgs(["--sync-rule", "fleet"], { ...env, BECOMINGONE_SYNC_RULE: "reference" }).syncRule).toBe("fleet");
    expect(() => agentConfigFromArgs(["--sync-rule", "kairos"], env)).toThrow(/syncRule/);
  });
});
