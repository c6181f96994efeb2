/**
 * The audit command end to end: the real edge (wrangler dev), real agent processes that seal
 * records, sign checkpoints of their own logs and cosign the global checkpoints they verified, and
 * the built CLI (`node dist/agent/cli/main.js audit`, what an auditor runs) checking one record's
 * whole chain. Tamperings in transit go through an HTTP proxy in front of the edge (the edge is
 * unmodified); a crafted agent holding the real agent's device key signs a checkpoint that
 * rewrites its history, and the edge quarantines it and tells the webhook receiver.
 */
import { execFile } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentLogOrigin, openCheckpoint, signCheckpoint, witnessVerifierKey } from "../../shared/checkpoint/index.js";
import { decodeBase64, encodeBase64 } from "../../shared/encoding/base64.js";
import { generateSignerKey, parseSignerKey, parseVerifierKey } from "../../shared/note/index.js";
import { bytesToBase64Url } from "../../shared/protocol/index.js";
import { connectJwt } from "../edge/agent-identity.js";
import { call, issueToken, sleep } from "../edge/fleet-client.js";
import { SocketClient } from "../edge/socket-client.js";
import { startAnswerProxy, type AnswerProxy } from "../support/answer-proxy.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";
import { FAST_SEALING, removeTempDirs, startAgentProcess, tempDir, waitFor, type AgentProcess } from "./support/agentProcess.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BUILT_MAIN = join(ROOT, "dist", "agent", "cli", "main.js");

let edge: RunningEdge;
let receiver: Receiver;
let proxy: AnswerProxy;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  if (!existsSync(BUILT_MAIN)) throw new Error("dist/agent/cli/main.js is missing: run `npm run build` first");
  edge = await startEdge({ vars: { WEBHOOKS_ALLOW_LOOPBACK: "1" } });
  receiver = await startReceiver();
  proxy = await startAnswerProxy(edge.url);
  const created = await call(edge, "POST", "/v1/webhooks/endpoints", { body: { url: `${receiver.url}/audit`, description: "e2e audit" } });
  expect(created.status).toBe(201);
  receiver.secrets = [created.body.secret];
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await proxy?.close();
  await receiver?.close();
  await edge?.dispose();
  removeTempDirs();
});

interface Step {
  readonly step: string;
  readonly status: "ok" | "failed" | "skipped";
  readonly reason: string;
  readonly detail?: Record<string, string | number | boolean>;
}
interface Report {
  readonly ok: boolean;
  readonly failure?: { step: string; reason: string };
  readonly steps: Step[];
  readonly state?: { file: string; written: boolean; size?: number };
}

/** Runs the built CLI; parses --json output. */
function audit(args: string[]): Promise<{ code: number; stdout: string; stderr: string; report: Report | undefined }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BUILT_MAIN, "audit", ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      let report: Report | undefined;
      try {
        report = JSON.parse(stdout) as Report;
      } catch {
        report = undefined;
      }
      resolve({ code, stdout, stderr, report });
    });
  });
}

const step = (report: Report | undefined, name: string) => report?.steps.find((s) => s.step === name);

describe("becomingone-agent audit against the real edge and real agents", () => {
  it("verifies a record's whole chain; tamperings are caught by name; a rewritten agent history is quarantined", async () => {
    const { token } = await issueToken(edge, { maxUses: 2 });
    const dirs = [join(tempDir("e2e-audit-"), "a"), join(tempDir("e2e-audit-"), "b")];
    for (const dataDir of dirs) agents.push(startAgentProcess({ dataDir, edgeUrl: edge.url, token, config: FAST_SEALING, built: true }));
    const [a, b] = await Promise.all(agents.map((p) => p.ready));
    const logKey = parseVerifierKey(edge.verifierKey);

    // The pinned witness keys: each agent's cosigner key (type 0x04) from its key history, which
    // must match the key the operator sees for it.
    const keys = await Promise.all(
      [a!, b!].map((x) => waitFor(`keys of ${x.agentId}`, async () => {
        const res = await fetch(`${edge.url}/v1/log/agents/${x.agentId}/keys`);
        return res.status === 200 ? ((await res.json()) as { cosignerKey: string; witness: string }) : undefined;
      }, 30_000)),
    );
    const origin = openCheckpoint(await (await fetch(`${edge.url}/v1/log/checkpoint`)).text(), [logKey]).checkpoint.origin;
    for (const [i, x] of [a!, b!].entries()) {
      const view = await call(edge, "GET", `/v1/agents/${x.agentId}`);
      expect(keys[i]!.cosignerKey).toBe(witnessVerifierKey(origin, x.agentId, decodeBase64(view.body.publicKey.x.replaceAll("-", "+").replaceAll("_", "/") + "=")));
    }
    const witnessArgs = keys.flatMap((k) => ["--witness", k.cosignerKey]);

    // Wait until a's agent checkpoint covers seq 1 and a checkpoint both agents cosigned commits it.
    const agentCp = await waitFor("a's agent checkpoint", async () => {
      const res = await fetch(`${edge.url}/v1/log/agents/${a!.agentId}/checkpoint`);
      const doc = res.status === 200 ? ((await res.json()) as { size: number; index: number }) : undefined;
      return doc && doc.size > 1 ? doc : undefined;
    }, 60_000);
    await waitFor("a checkpoint cosigned by both agents that commits it", async () => {
      const res = await fetch(`${edge.url}/v1/log/checkpoint?witnesses=${a!.agentId},${b!.agentId}&quorum=2`);
      if (res.status !== 200) return undefined;
      return openCheckpoint(await res.text(), [logKey]).checkpoint.size > agentCp.index ? true : undefined;
    }, 90_000);

    const stateFile = join(tempDir("e2e-audit-state-"), "kept.json");
    const common = ["--log-key", edge.verifierKey, "--agent", a!.agentId, "--seq", "1", ...witnessArgs, "--json"];
    const first = await audit(["--edge", edge.url, ...common, "--state", stateFile]);
    expect(first.code, `${first.stderr}\n${first.stdout}`).toBe(0);
    expect(first.report!.steps.map((s) => s.status)).toEqual(Array(10).fill("ok"));
    expect(step(first.report, "consistency")!.detail).toMatchObject({ kept: "none" });
    expect(first.report!.state).toMatchObject({ file: stateFile, written: true });
    const kept = JSON.parse(readFileSync(stateFile, "utf8")) as { size: number; root: string; note: string; origin: string };
    expect(kept.size).toBe(first.report!.state!.size);

    // Monitor mode, second run: consistent with what it kept; the state moves on.
    const second = await audit(["--edge", edge.url, ...common, "--state", stateFile]);
    expect(second.code, second.stderr).toBe(0);
    expect(step(second.report, "consistency")!.detail).toMatchObject({ keptSize: kept.size });

    // A state file with a forged checkpoint of the same size (another root, signed by a key that is
    // not the log's but has its name): consistency fails, the state is left alone.
    const forgedFile = join(tempDir("e2e-audit-state-"), "forged.json");
    const impostor = parseSignerKey(generateSignerKey(logKey.name).signerKey);
    const forgedRoot = new Uint8Array(32).fill(7);
    const forgedState = { version: 1, origin: kept.origin, size: kept.size, root: encodeBase64(forgedRoot), note: signCheckpoint({ origin: kept.origin, size: kept.size, root: forgedRoot }, [impostor]) };
    writeFileSync(forgedFile, JSON.stringify(forgedState));
    const forged = await audit(["--edge", edge.url, ...common, "--state", forgedFile]);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toMatch(/^audit: consistency: /);
    expect(JSON.parse(readFileSync(forgedFile, "utf8"))).toEqual(forgedState);

    // In transit: the record's entry bytes (its timestamp) altered → not in the signed tree.
    const recordIndex = step(first.report, "record")!.detail!["index"] as number;
    const alterLeaf = (where: (leaf: Uint8Array) => number) => (url: URL, body: string) => {
      if (url.pathname !== "/v1/log/entries" || url.searchParams.get("start") !== String(recordIndex)) return undefined;
      const page = JSON.parse(body) as { entries: { leaf: string }[] };
      const leaf = decodeBase64(page.entries[0]!.leaf);
      leaf[where(leaf)]! ^= 1;
      page.entries[0]!.leaf = encodeBase64(leaf);
      return JSON.stringify(page);
    };
    const idLength = a!.agentId.length;
    proxy.rewrite = alterLeaf((leaf) => 1 + 2 + idLength + 8 + 1 + leaf[1 + 2 + idLength + 8]! + 7);
    const entryBytes = await audit(["--edge", proxy.url, ...common]);
    expect(entryBytes.code).toBe(1);
    expect(entryBytes.stderr).toMatch(/^audit: global-inclusion: /);

    // In transit: the device signature broken (its last byte) → caught, named device-signature too.
    proxy.rewrite = alterLeaf((leaf) => leaf.length - 1);
    const signature = await audit(["--edge", proxy.url, ...common]);
    expect(signature.code).toBe(1);
    expect(step(signature.report, "device-signature")).toMatchObject({ status: "failed" });
    expect(step(signature.report, "device-signature")!.reason).toContain("does not verify");

    // In transit: the enrollment entry removed from the key history → key.
    proxy.rewrite = (url, body) => {
      if (!url.pathname.endsWith(`/agents/${a!.agentId}/keys`)) return undefined;
      const doc = JSON.parse(body) as { keys: { event: string }[] };
      return JSON.stringify({ ...doc, keys: doc.keys.filter((k) => k.event !== "enrolled") });
    };
    const keyRemoved = await audit(["--edge", proxy.url, ...common]);
    expect(keyRemoved.code).toBe(1);
    expect(keyRemoved.stderr).toMatch(/^audit: key: /);
    expect(step(keyRemoved.report, "device-signature")!.status).toBe("skipped");
    proxy.rewrite = undefined;

    // Human output: one line per step; usage errors are exit 2 with one line.
    const human = await audit(["--edge", proxy.url, "--log-key", edge.verifierKey, "--agent", a!.agentId, "--seq", "1"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout.trim().split("\n")).toHaveLength(10);
    expect(human.stdout).toMatch(/^ok {6}global-checkpoint/m);
    expect(human.stdout).toMatch(/^skipped consistency/m);
    const usage = await audit(["--edge", edge.url, "--agent", a!.agentId]);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim().split("\n")).toHaveLength(1);

    // A crafted agent with a's own device key (from its data dir) signs a checkpoint of a's log that
    // rewrites its history: refused as agent_log_inconsistent, a is quarantined, the receiver told.
    await agents[0]!.stop();
    const pem = readFileSync(join(dirs[0]!, "device-key.pem"), "utf8");
    const jwk = createPrivateKey(pem).export({ format: "jwk" }) as { d: string; x: string };
    const secretKey = new Uint8Array(Buffer.from(jwk.d, "base64url"));
    const publicKey = new Uint8Array(Buffer.from(jwk.x, "base64url"));
    const fleet = await call(edge, "GET", "/v1/fleet");
    const view = await call(edge, "GET", `/v1/agents/${a!.agentId}`);
    const jwt = await connectJwt({ secretKey, publicKey, jwk: { kty: "OKP", crv: "Ed25519", x: bytesToBase64Url(publicKey) } }, a!.agentId, fleet.body.audience);
    const crafted = await SocketClient.connect(`${edge.wsUrl}/v1/connect`, jwt);
    crafted.send({ v: 1, type: "hello", agentId: a!.agentId, lamport: (view.body.lamport ?? 0) + 1, software: "crafted/1" });
    await crafted.next("welcome");
    const name = agentLogOrigin(origin, a!.agentId);
    const signer = parseSignerKey(generateSignerKey(name, secretKey).signerKey);
    const rewritten = signCheckpoint({ origin: name, size: 2, root: new Uint8Array(32).fill(0xab) }, [signer]);
    // Within 5 s of a's last accepted checkpoint any note is rate-limited unread: the attacker waits and sends again.
    let refused: { code: string; details?: Record<string, unknown> } | undefined;
    for (let attempt = 0; attempt < 3 && refused?.code !== "agent_log_inconsistent"; attempt++) {
      const from = crafted.messages.length;
      crafted.send({ v: 1, type: "agent_checkpoint", lamport: (view.body.lamport ?? 0) + 2 + attempt, note: rewritten });
      refused = await crafted.next("error", (e) => e.ref === "agent_checkpoint", { from });
      if (refused.code === "rate_limited") await sleep(Number(refused.details?.["retryAfterMs"] ?? 5000) + 100);
    }
    expect(refused?.code).toBe("agent_log_inconsistent");
    const after = await call(edge, "GET", `/v1/agents/${a!.agentId}`);
    expect(after.body.quarantine?.reason).toContain("agent log inconsistent");
    const event = await waitFor("agent.log_inconsistent at the receiver", async () =>
      receiver.requests.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> }).find((e) => e.type === "agent.log_inconsistent" && e.data["agentId"] === a!.agentId), 30_000, 100);
    expect(event.data).toMatchObject({ agentId: a!.agentId, size: 2, claimedRoot: encodeBase64(new Uint8Array(32).fill(0xab)), note: rewritten });
    crafted.close();
  }, 300_000);
});
