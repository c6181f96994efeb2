import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_ERROR_CODES } from "../../agent/api/apiError.js";
import { signedRequestString } from "../../agent/api/resetSignature.js";
import { agentConfigFromArgs } from "../../agent/cli/agentFlags.js";
import { mergeLayers, resolveAgentConfig } from "../../agent/config/agentConfig.js";
import { startAgent, type AgentHandle } from "../../agent/runtime/agent.js";
import { agentReadyLine } from "../support/agentReadyLine.js";
import { haveOpenssl, makeSelfSignedCert } from "../support/selfSignedCert.js";

// Hostile clients of the local API, against real agents: in this process where only the API's
// behaviour matters, a real agent process (dist/, `npm run build` first) where its memory or a
// restart does. Every wait polls for a condition with a generous limit; nothing asserts a duration.

const root = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(root, "dist/agent/cli/main.js");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, condition: () => boolean | Promise<boolean>, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(25);
  }
}

interface InProcessAgent {
  readonly handle: AgentHandle;
  readonly port: number;
  readonly token: string;
  readonly dataDir: string;
  readonly logs: string[];
  stop(): Promise<void>;
}

/** A real agent in this process with its log lines captured. */
async function startInProcess(overrides: Record<string, unknown> = {}): Promise<InProcessAgent> {
  const dataDir = mkdtempSync(join(tmpdir(), "bo-hostile-"));
  const config = resolveAgentConfig({ flags: mergeLayers({ dataDir, hz: 20, api: { port: 0 }, logLevel: "error" }, overrides) });
  const logs: string[] = [];
  const handle = await startAgent(config, { log: (line) => logs.push(line) });
  return {
    handle,
    port: handle.api!.address.port,
    token: readFileSync(join(dataDir, "api-token"), "utf8").trim(),
    dataDir,
    logs,
    async stop() {
      await handle.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface AgentProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  readonly agentId: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The built agent (dist/) as its own process, with a JSON config file for the API's settings. */
async function spawnAgent(dataDir: string, config: Record<string, unknown>, extraArgs: string[] = []): Promise<AgentProcess> {
  const configPath = join(dataDir, "..", `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(configPath, JSON.stringify(config));
  const child = spawn(process.execPath, [MAIN, "run", "--config", configPath, "--data-dir", dataDir, "--port", "0", "--hz", "20", "--log-level", "warn", ...extraArgs], {
    cwd: root,
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const ready = await agentReadyLine(child, () => stderr);
  return {
    child,
    port: Number(new URL(ready.api).port),
    agentId: ready.agentId,
    async kill(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    },
  };
}

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly json: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** One request with any Host header (fetch cannot set Host), on its own connection. */
function httpCall(port: number, path: string, init: { method?: string; host?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: init.method ?? "GET", agent: false, headers: { host: init.host ?? `127.0.0.1:${port}`, ...init.headers } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => {
          let json: Answer["json"] = {};
          try {
            json = JSON.parse(body) as Answer["json"];
          } catch {
            // not JSON (metrics text)
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error(`${path}: no answer within 15 s`)));
    req.on("error", reject);
    req.end(init.body);
  });
}

/** A raw TCP client: what it received, and whether the server closed it. */
function rawClient(port: number): { socket: Socket; received: () => string; closed: () => boolean } {
  const socket = connect(port, "127.0.0.1");
  let data = "";
  let closed = false;
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => (data += d));
  socket.on("error", () => {});
  socket.on("close", () => (closed = true));
  return { socket, received: () => data, closed: () => closed };
}

function metric(text: string, line: RegExp): number {
  const m = line.exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

const haveBuild = existsSync(MAIN);

describe("hostile clients: a real agent process", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bo-hostile-proc-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!haveBuild)(
    "cuts sockets that pipeline thousands of requests and never read; memory stays bounded and /health is served",
    async () => {
      const dataDir = join(dir, "pipeline");
      const agent = await spawnAgent(dataDir, {});
      const attackers: ReturnType<typeof rawClient>[] = [];
      const timers: NodeJS.Timeout[] = [];
      try {
        await until("first ticks", async () => (await httpCall(agent.port, "/health")).status === 200);
        const before = rssBytes(agent.child.pid!);
        let rssMax = before;
        const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, rssBytes(agent.child.pid!))), 50);
        timers.push(rssTimer);
        const burst = `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(2000);
        for (let i = 0; i < 5; i++) {
          const a = rawClient(agent.port);
          a.socket.pause(); // never reads an answer
          a.socket.on("connect", () => a.socket.write(burst));
          // … and keeps pipelining more, as long as the server takes them.
          timers.push(setInterval(() => a.closed() || a.socket.write(burst), 50));
          attackers.push(a);
        }
        // A good client is served meanwhile.
        let served = 0;
        while (!attackers.every((a) => a.closed())) {
          const health = await httpCall(agent.port, "/health");
          expect(health.status).toBe(200);
          served++;
          if (served > 400) throw new Error("the attacking sockets were never cut");
          await sleep(50);
        }
        expect(served).toBeGreaterThan(0);
        for (const t of timers) clearInterval(t);
        // Unguarded, five such sockets took the agent from ~75 MB to 350–390 MB.
        expect(rssMax - before).toBeLessThan(40 * 1024 * 1024);
        const metrics = (await httpCall(agent.port, "/metrics")).body;
        expect(metric(metrics, /^becomingone_api_connections_cut_total\{reason="pipelined"\} (\d+)$/m)).toBeGreaterThanOrEqual(5);
      } finally {
        for (const t of timers) clearInterval(t);
        for (const a of attackers) a.socket.destroy();
        await agent.kill();
      }
    },
    60_000,
  );

  it.skipIf(!haveBuild)(
    "cuts a socket whose answers stay undrained (bounded answer buffer, drain deadline)",
    async () => {
      const dataDir = join(dir, "undrained");
      // Pipelining is allowed far enough here that only the bound on undrained answers can cut it.
      // Node's own timeouts are long here, so that only the drain deadline can cut this socket.
      const agent = await spawnAgent(dataDir, {
        api: { headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, maxPipelined: 1024, maxBufferedBytes: 16 * 1024, drainTimeoutMs: 500 },
      });
      const timers: NodeJS.Timeout[] = [];
      const a = rawClient(agent.port);
      try {
        a.socket.pause();
        // A few requests at a time, never reading: the kernel's socket buffers fill, then Node's.
        const four = `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(4);
        timers.push(setInterval(() => a.closed() || a.socket.write(four), 5));
        await until("the non-reading socket is cut", () => a.closed(), 40_000);
        const metrics = (await httpCall(agent.port, "/metrics")).body;
        const buffered = metric(metrics, /^becomingone_api_connections_cut_total\{reason="buffered"\} (\d+)$/m);
        const undrained = metric(metrics, /^becomingone_api_connections_cut_total\{reason="undrained"\} (\d+)$/m);
        expect(buffered + undrained).toBeGreaterThanOrEqual(1);
      } finally {
        for (const t of timers) clearInterval(t);
        a.socket.destroy();
        await agent.kill();
      }
    },
    60_000,
  );

  it.skipIf(!haveBuild)(
    "refuses a signed /reset replayed after the agent was killed and started again",
    async () => {
      const dataDir = join(dir, "replay");
      const { privateKey, publicKey } = generateKeyPairSync("ed25519");
      const operator = publicKey.export({ format: "jwk" }).x!;
      const first = await spawnAgent(dataDir, {}, ["--reset-key", operator]);
      const timestamp = String(Date.now());
      const nonce = `replay${Math.random().toString(36).slice(2)}`.padEnd(24, "x");
      const signature = sign(null, Buffer.from(signedRequestString("POST", "/reset", first.agentId, timestamp, nonce)), privateKey).toString("base64url");
      const headers = { "x-bo-key": operator, "x-bo-timestamp": timestamp, "x-bo-nonce": nonce, "x-bo-signature": signature };
      try {
        const ok = await httpCall(first.port, "/reset", { method: "POST", headers });
        expect(ok.status).toBe(200);
      } finally {
        // No clean shutdown: what was acknowledged must already be on disk.
        await first.kill("SIGKILL");
      }
      const second = await spawnAgent(dataDir, {}, ["--reset-key", operator]);
      try {
        expect(second.agentId).toBe(first.agentId);
        const replay = await httpCall(second.port, "/reset", { method: "POST", headers });
        expect([replay.status, replay.json.error?.code]).toEqual([401, "signature_replayed"]);
      } finally {
        await second.kill();
      }
    },
    60_000,
  );
});

describe("hostile clients: connections", () => {
  let agent: InProcessAgent;
  beforeAll(async () => {
    // Node's own header timeout is long here, so that only the first-request deadline (5 s) can close an idle socket.
    agent = await startInProcess({ api: { headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 } });
  });
  afterAll(async () => {
    await agent.stop();
  });

  it("closes a connection that never sends a request (first-request deadline)", async () => {
    const c = rawClient(agent.port);
    await until("the silent socket is closed", () => c.closed());
    expect(c.received()).toBe("");
  });

  it("serves a good client while 300 idle connections (the cap is 256) are held open", async () => {
    const idle = Array.from({ length: 300 }, () => rawClient(agent.port));
    try {
      await until("idle sockets connected", () => idle.every((c) => !c.socket.connecting));
      const health = await httpCall(agent.port, "/health");
      expect(health.status).toBe(200);
      const metrics = (await httpCall(agent.port, "/metrics")).body;
      expect(metric(metrics, /^becomingone_api_connections_cut_total\{reason="evicted"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
      expect(metric(metrics, /^becomingone_api_connections (\d+)$/m)).toBeLessThanOrEqual(256);
    } finally {
      for (const c of idle) c.socket.destroy();
    }
  });

  it("never evicts a connection with a request in flight: at the cap with every one busy, the new one is closed", async () => {
    const small = await startInProcess({ api: { maxConnections: 2 } });
    const busy = [rawClient(small.port), rawClient(small.port)];
    try {
      // Two authenticated POSTs whose bodies never come: both requests are in flight.
      for (const b of busy) {
        b.socket.write(`POST /input HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${small.token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`);
      }
      await until("both requests in flight", () => small.handle.api!.connections().inFlight === 2);
      const third = rawClient(small.port);
      await until("the third connection is closed", () => third.closed());
      expect(small.handle.api!.connections().cut.over_capacity).toBeGreaterThanOrEqual(1);
      expect(busy.some((b) => b.closed())).toBe(false);
    } finally {
      for (const b of busy) b.socket.destroy();
      await small.stop();
    }
  });

  it("at the cap evicts a silent connection before a served keep-alive one", async () => {
    const small = await startInProcess({ api: { maxConnections: 3 } });
    const served = rawClient(small.port);
    const silent: ReturnType<typeof rawClient>[] = [];
    try {
      served.socket.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      await until("the keep-alive client was answered", () => /\r\n\r\n\{/.test(served.received()));
      silent.push(rawClient(small.port), rawClient(small.port));
      await until("three connections open", () => small.handle.api!.connections().open === 3);
      const fourth = await httpCall(small.port, "/health");
      expect(fourth.status).toBe(200);
      expect(small.handle.api!.connections().cut.evicted).toBe(1);
      expect(served.closed()).toBe(false);
      expect(silent.filter((c) => c.closed())).toHaveLength(1);
    } finally {
      for (const c of [served, ...silent]) c.socket.destroy();
      await small.stop();
    }
  });

  it("refuses HTTP/0.9 and HTTP/2.0 request lines with 400 unsupported_http_version and closes", async () => {
    for (const line of ["GET /health\r\n\r\n", "GET /health HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n"]) {
      const c = rawClient(agent.port);
      // A well-formed request pipelined behind it is not answered: the connection is not kept.
      c.socket.write(line + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      await until("the connection is closed", () => c.closed());
      const text = c.received();
      expect(text, line).toMatch(/^HTTP\/1\.1 400 /);
      expect(text).toContain('"code":"unsupported_http_version"');
      expect(text.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
    }
  });

  it("does not read the body of an unauthenticated request: 401, Connection: close, socket closed", async () => {
    const c = rawClient(agent.port);
    const total = 16 * 1024 * 1024;
    let writeFailed = false;
    c.socket.on("error", () => (writeFailed = true));
    await new Promise<void>((r) => c.socket.once("connect", () => r()));
    c.socket.write(`POST /input HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    while (sent < total && !c.closed() && !writeFailed) {
      if (!c.socket.write(chunk)) await new Promise((r) => (c.socket.once("drain", r), c.socket.once("close", r)));
      sent += chunk.length;
    }
    await until("the connection is closed", () => c.closed());
    // The agent stopped reading: the client could not hand over the whole body.
    expect(writeFailed || sent < total).toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(c.received()).toMatch(/\r\nconnection: close\r\n/i);
  });

  it("authenticates /reset before its size limit (401, not 413) and closes", async () => {
    const r = await httpCall(agent.port, "/reset", { method: "POST", headers: { "content-type": "application/json", "content-length": "100000" }, body: "x".repeat(100_000) });
    expect([r.status, r.json.error?.code]).toEqual([401, "unauthorized"]);
    expect(r.headers.connection).toBe("close");
    const wrong = await httpCall(agent.port, "/input", { method: "POST", headers: { authorization: "Bearer nope", "content-type": "application/json" }, body: "{}" });
    expect([wrong.status, wrong.headers.connection]).toEqual([403, "close"]);
  });
});

describe("hostile clients: TLS", () => {
  const enabled = haveOpenssl();
  let dir: string;
  let cert: string;
  let agent: InProcessAgent;
  beforeAll(async () => {
    if (!enabled) return;
    dir = mkdtempSync(join(tmpdir(), "bo-hostile-tls-"));
    const made = makeSelfSignedCert(dir);
    cert = made.cert;
    const key = made.key;
    // The handshake deadline is the first-request deadline, 5 s by default; Node's header timeouts are long here.
    agent = await startInProcess({ api: { tlsCert: cert, tlsKey: key, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 } });
  });
  afterAll(async () => {
    if (!enabled) return;
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!enabled)("closes a TCP connection to the TLS port that never sends a ClientHello", async () => {
    const c = rawClient(agent.port);
    await until("the silent TLS connection is closed", () => c.closed());
    expect(c.received()).toBe("");
  }, 30_000);

  it.skipIf(!enabled)("cuts a TLS client that pipelines thousands of requests without reading, and serves a polite pipeliner", async () => {
    const ca = readFileSync(cert);
    const flood = tlsConnect({ port: agent.port, host: "127.0.0.1", ca });
    let floodClosed = false;
    flood.on("error", () => {});
    flood.on("close", () => (floodClosed = true));
    const burst = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(2000);
    flood.on("secureConnect", () => {
      flood.pause();
      flood.write(burst);
    });
    const more = setInterval(() => floodClosed || flood.write(burst), 50);
    try {
      await until("the TLS flood is cut", () => floodClosed);
    } finally {
      clearInterval(more);
    }
    expect(agent.handle.api!.connections().cut.pipelined).toBeGreaterThanOrEqual(1);
    const polite = await new Promise<string>((resolve) => {
      const s = tlsConnect({ port: agent.port, host: "127.0.0.1", ca }, () =>
        s.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
      );
      let d = "";
      s.setEncoding("utf8");
      s.on("data", (x: string) => (d += x));
      s.on("close", () => resolve(d));
    });
    expect(polite.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
  }, 30_000);
});

describe("hostile clients: Host, headers, errors", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const operator = publicKey.export({ format: "jwk" }).x!;
  let agent: InProcessAgent;
  beforeAll(async () => {
    agent = await startInProcess({ api: { resetKeys: [operator] } });
  });
  afterAll(async () => {
    await agent.stop();
  });

  it("refuses a Host that does not name the agent (DNS rebinding) on every route with 421 host_not_allowed", async () => {
    for (const [method, path] of [["GET", "/"], ["GET", "/health"], ["GET", "/coherence"], ["GET", "/metrics"], ["POST", "/input"], ["POST", "/reset"], ["GET", "/nope"]] as const) {
      for (const host of ["evil.example", "evil.example:8420", "127.0.0.1.evil.example"]) {
        const r = await httpCall(agent.port, path, { method, host, headers: { authorization: `Bearer ${agent.token}` } });
        expect([r.status, r.json.error?.code], `${method} ${path} Host: ${host}`).toEqual([421, "host_not_allowed"]);
        expect(r.headers.connection).toBe("close");
      }
    }
    const missing = rawClient(agent.port);
    missing.socket.write("GET /health HTTP/1.0\r\n\r\n");
    await until("answered and closed", () => missing.closed());
    expect(missing.received()).toMatch(/^HTTP\/1\.1 421 /);
  });

  it("answers loopback names and addresses with any port, and the names the operator configures", async () => {
    for (const host of ["localhost", "LOCALHOST:1", "127.0.0.1", "127.3.4.5:8420", "[::1]:8420", "[::1]"]) {
      const r = await httpCall(agent.port, "/health", { host });
      expect(r.status, host).toBe(200);
    }
    const named = await startInProcess({ api: { allowedHosts: ["pi-kitchen.lan"] } });
    try {
      for (const host of ["pi-kitchen.lan", "Pi-Kitchen.LAN.:80"]) expect((await httpCall(named.port, "/health", { host })).status, host).toBe(200);
      expect((await httpCall(named.port, "/health", { host: "pi-garage.lan" })).status).toBe(421);
    } finally {
      await named.stop();
    }
  });

  it("puts the security headers on answers, refusals and errors alike", async () => {
    const answers = [
      await httpCall(agent.port, "/health"),
      await httpCall(agent.port, "/metrics"),
      await httpCall(agent.port, "/nope"),
      await httpCall(agent.port, "/input", { method: "POST", body: "{}" }),
      await httpCall(agent.port, "/health", { host: "evil.example" }),
    ];
    for (const r of answers) {
      expect(r.headers["x-content-type-options"]).toBe("nosniff");
      expect(r.headers["cache-control"]).toBe("no-store");
      expect(r.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(r.headers["referrer-policy"]).toBe("no-referrer");
      expect(r.headers["cross-origin-resource-policy"]).toBe("same-origin");
    }
  });

  it("logs an internal error to the agent's log (a nonce that cannot be made durable is not accepted)", async () => {
    // The nonce file's place is taken by a directory: the durable write fails, so the reset must not run.
    mkdirSync(join(agent.dataDir, "reset-nonces.json"));
    const resetsBefore = agent.handle.pipeline.counters().resets;
    const timestamp = String(Date.now());
    const nonce = `broken${Math.random().toString(36).slice(2)}`.padEnd(24, "x");
    const signature = sign(null, Buffer.from(signedRequestString("POST", "/reset", agent.handle.agentId, timestamp, nonce)), privateKey).toString("base64url");
    const r = await httpCall(agent.port, "/reset", {
      method: "POST",
      headers: { "x-bo-key": operator, "x-bo-timestamp": timestamp, "x-bo-nonce": nonce, "x-bo-signature": signature },
    });
    expect([r.status, r.json.error?.code]).toEqual([500, "internal_error"]);
    expect(agent.handle.pipeline.counters().resets).toBe(resetsBefore);
    const line = agent.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "local API request failed");
    expect(line).toMatchObject({ level: "error", method: "POST", path: "/reset" });
    expect(String(line!.error)).toMatch(/reset-nonces\.json|EISDIR|directory/i);
  });
});

describe("hostile clients: the operator's host names", () => {
  it("come from --allow-host (repeatable) or BECOMINGONE_API_ALLOWED_HOSTS, and must be bare names", () => {
    const dataDir = join(tmpdir(), "bo-hostile-flags");
    const byFlag = agentConfigFromArgs(["--data-dir", dataDir, "--allow-host", "pi-kitchen.lan", "--allow-host", "pi.example"], {});
    expect(byFlag.api.allowedHosts).toEqual(["pi-kitchen.lan", "pi.example"]);
    const byEnv = agentConfigFromArgs(["--data-dir", dataDir], { BECOMINGONE_API_ALLOWED_HOSTS: "a.lan, b.lan" });
    expect(byEnv.api.allowedHosts).toEqual(["a.lan", "b.lan"]);
    for (const bad of ["http://a.lan", "a.lan:8420", "evil host"]) {
      expect(() => agentConfigFromArgs(["--data-dir", dataDir, "--allow-host", bad], {}), bad).toThrow(/allowedHosts/);
    }
  });
});

describe("the local API's error codes", () => {
  it("are each documented in docs/agent.md", () => {
    const doc = readFileSync(join(root, "docs/agent.md"), "utf8");
    for (const code of API_ERROR_CODES) expect(doc, code).toContain(`\`${code}\``);
  });
});
