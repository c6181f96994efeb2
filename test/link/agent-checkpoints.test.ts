/**
 * The agent's half of the proof chain (issue 15): checkpoints of its own log signed with the device
 * key, and cosignatures of the global checkpoints its auditor kept. The pacing rules are pure and
 * tested with given times; the rest runs the real runtime with the real link against the scripted
 * edge (a real WebSocket server, plus the proof routes over HTTP on the same port), and checks
 * what arrives with our own note, checkpoint, log and cosignature code.
 */
import type { RequestListener } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { agentMetrics } from "../../agent/api/agentMetrics.js";
import { loadOrCreateDeviceKey } from "../../agent/identity/deviceKey.js";
import { agentIdFromPublicKey } from "../../agent/identity/agentId.js";
import { AgentCheckpointSchedule, deviceNoteSigner, signAgentCheckpoint, type AgentCheckpoint } from "../../agent/link/agentCheckpoints.js";
import { LatencyWindow } from "../../agent/runtime/latencyWindow.js";
import type { AgentHandle } from "../../agent/runtime/agent.js";
import { agentLogOrigin, agentLogVerifierKey, witnessName } from "../../shared/checkpoint/agent-log-names.js";
import { parseCheckpoint, signCheckpoint } from "../../shared/checkpoint/index.js";
import { decodeBase64 } from "../../shared/encoding/base64.js";
import { consistencyProofDocument, encodeRecord, MemoryNodeStore, MerkleTree } from "../../shared/log/index.js";
import { cosignatureLine, cosignatureTimestamp, cosignatureVerifier } from "../../shared/note/cosignature.js";
import { generateSignerKey, openNote, parseSignerKey, parseVerifierKey } from "../../shared/note/index.js";
import { setup, stopAll, until, welcome, type Conn } from "./scriptedEdge.js";
import { tempDir } from "./tempDir.js";

afterEach(stopAll);

const FLEET = "hostile.test/fleet/default";
const FEATURES = ["agent-checkpoint", "cosignature"];
const enc = (s: string) => new TextEncoder().encode(s);
const root32 = (n: number) => new Uint8Array(32).fill(n);
const cp = (size: number, n = size): AgentCheckpoint => ({ origin: "o", size, root: root32(n), note: `note ${size}/${n}` });

describe("AgentCheckpointSchedule (pure)", () => {
  it("signs when the durable size grew, at most once per interval, and once more after each welcome", () => {
    const s = new AgentCheckpointSchedule(5000, 250);
    expect(s.signDelay(0, 0)).toBeUndefined(); // an empty log: nothing to attest
    expect(s.signDelay(0, 3)).toBe(0);
    s.signed(0, cp(3));
    expect(s.signDelay(100, 3)).toBeUndefined(); // no growth
    expect(s.signDelay(100, 9)).toBe(4900); // growth, but the interval holds
    expect(s.signDelay(5000, 9)).toBe(0);
    s.signed(5000, cp(9));
    s.welcomed();
    expect(s.signDelay(6000, 9)).toBe(4000); // after welcome even without growth, still paced
    expect(s.signDelay(10_000, 9)).toBe(0);
    s.signed(10_000, cp(9, 99));
    expect(s.signDelay(20_000, 9)).toBeUndefined();
  });

  it("sends the newest signed one once the acks cover it, at most once per interval plus margin", () => {
    const s = new AgentCheckpointSchedule(5000, 250);
    const a = cp(10);
    s.signed(0, a);
    expect(s.sendable(0, 9)).toBeUndefined(); // the edge holds 9 records: not yet
    expect(s.sendable(0, 10)).toBe(a);
    s.markSent(0, a);
    expect(s.pending).toBeUndefined();
    const b = cp(20);
    const c = cp(30);
    s.signed(5000, b);
    s.signed(5100, c); // a newer one replaces the unsent one
    expect(s.pending).toBe(c);
    expect(s.sendable(5200, 100)).toBeUndefined(); // 5 s + margin since the last send
    expect(s.sendDelay(5200)).toBe(50);
    expect(s.sendable(5250, 100)).toBe(c);
  });

  it("checkpoint_ahead / rate_limited: the same one again after the interval, unless a newer one came", () => {
    const s = new AgentCheckpointSchedule(5000, 0);
    const a = cp(10);
    s.signed(0, a);
    s.markSent(0, a);
    s.retryLater(100);
    expect(s.pending).toBe(a);
    expect(s.sendable(5000, 10)).toBeUndefined();
    expect(s.sendable(5100, 10)).toBe(a);
    s.markSent(5100, a);
    s.retryLater(5200, 1e12); // an edge's retryAfterMs: bounded to a minute
    expect(s.sendDelay(5200)).toBe(60_000);
    s.retryLater(5200);
    const b = cp(15);
    s.signed(6000, b);
    expect(s.sendable(10_200, 15)).toBe(b);
    // refused for good: never resent
    s.markSent(10_200, b);
    s.refused();
    expect(s.pending).toBeUndefined();
    expect(s.lastSent).toBeUndefined();
  });
});

describe("signAgentCheckpoint", () => {
  it("is a C2SP checkpoint signed once by the device key under the agent log's name", () => {
    const key = loadOrCreateDeviceKey(tempDir("agent-cp-key-"));
    const agentId = agentIdFromPublicKey(key.publicKeyRaw);
    const origin = agentLogOrigin(FLEET, agentId);
    const vkey = agentLogVerifierKey(FLEET, agentId, key.publicKeyRaw);
    expect(deviceNoteSigner(origin, key).verifierKey).toBe(vkey);
    const signed = signAgentCheckpoint(origin, 7, root32(7), key);
    const opened = openNote(signed.note, [parseVerifierKey(vkey)]);
    expect(opened.verified).toHaveLength(1);
    expect(opened.unverified).toHaveLength(0);
    expect(parseCheckpoint(opened.text)).toMatchObject({ origin, size: 7, root: root32(7) });
    // Another agent's key does not open it.
    const other = loadOrCreateDeviceKey(tempDir("agent-cp-key-"));
    expect(() => openNote(signed.note, [parseVerifierKey(agentLogVerifierKey(FLEET, agentId, other.publicKeyRaw))])).toThrow();
  });
});

/** The root of the agent's first `size` records, recomputed from the records read back from its files. */
async function recomputedRoot(agent: AgentHandle, size: number): Promise<Uint8Array> {
  const tree = MerkleTree.open(new MemoryNodeStore());
  for (let from = 0; from < size; ) {
    const records = await agent.ledger.readFrom(from, Math.min(64, size - from));
    if (records.length === 0) throw new Error(`records from ${from} are gone`);
    for (const r of records) tree.append(encodeRecord(r));
    from += records.length;
  }
  return tree.root(size);
}

interface Arrival {
  readonly msg: Record<string, unknown>;
  readonly at: number;
  /** The nextSeq of the last ack the edge had sent when it arrived. */
  readonly acked: number;
}

/** Global indices the scripted edge acks records at: beyond the test checkpoints, so no inclusion checks run. */
const GLOBAL_INDEX_BASE = 1_000_000;

/**
 * An edge that welcomes with `welcomeExtra`, holds every record it gets (in order) and acks only
 * while `acking()`; each agent_checkpoint and cosignature arrival is recorded with the edge's acks.
 */
function proofChainEdge(welcomeExtra: (agentId: string) => Record<string, unknown>, acking: () => boolean, arrivals: Arrival[], onArrival?: (conn: Conn, a: Arrival) => void) {
  return (conn: Conn) => {
    let next = 0;
    let ackedSent = 0;
    conn.ws.once("message", (data) => {
      const hello = JSON.parse(data.toString()) as { agentId: string };
      conn.ws.send(JSON.stringify({ ...welcome(hello.agentId, 0), ...welcomeExtra(hello.agentId) }));
      conn.ws.on("message", (frame) => {
        const msg = JSON.parse(frame.toString()) as Record<string, unknown>;
        if (msg.type === "agent_checkpoint" || msg.type === "cosignature") {
          const a = { msg, at: Date.now(), acked: ackedSent };
          arrivals.push(a);
          onArrival?.(conn, a);
          return;
        }
        if (msg.type !== "records") return;
        const records = msg.records as { seq: number }[];
        for (const r of records) if (r.seq === next) next++;
        if (!acking()) return;
        ackedSent = next;
        conn.ws.send(JSON.stringify({ v: 1, type: "ack", acks: records.map((r) => ({ seq: r.seq, index: GLOBAL_INDEX_BASE + r.seq })), nextSeq: next, lamport: 6000 }));
      });
    });
  };
}

describe("agent checkpoints against the scripted edge", () => {
  it("signs its own log after welcome, waits for the edge's acks, resends after checkpoint_ahead, and sends at most one per 5 s", async () => {
    let acking = false;
    const arrivals: Arrival[] = [];
    const { agent, link, agentId, key, edge } = await setup(
      proofChainEdge(
        () => ({ features: FEATURES }),
        () => acking,
        arrivals,
        (conn) => {
          // The first one: the edge is "behind" (no strike): the agent must try again later.
          if (arrivals.length === 1) conn.ws.send(JSON.stringify({ v: 1, type: "error", code: "checkpoint_ahead", message: "not yet", ref: "agent_checkpoint" }));
        },
      ),
    );
    // Records are sealed (10/s) and held by the edge, but not acknowledged: nothing may go out.
    await until("records durable", () => agent.ledger.durableCount >= 10);
    await new Promise((r) => setTimeout(r, 1500));
    expect(arrivals).toEqual([]);
    expect(link.stats().agent_checkpoints_sent).toBe(0);
    const started = Date.now();
    acking = true;
    await until("the first agent checkpoint", () => arrivals.length >= 1);
    await until("the one after checkpoint_ahead", () => arrivals.length >= 2, 9000);
    await new Promise((r) => setTimeout(r, Math.max(0, started + 11_500 - Date.now())));
    const sent = arrivals.filter((a) => a.msg.type === "agent_checkpoint");
    expect(sent).toHaveLength(arrivals.length);
    // Pacing: ≥ 5 s apart on arrival, so at most one per 5 s (three in 11.5 s at most).
    expect(sent.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(5000);
    const vkey = parseVerifierKey(agentLogVerifierKey(FLEET, agentId, key.publicKeyRaw));
    let lastSize = 0;
    for (const a of sent) {
      expect(a.msg).toMatchObject({ v: 1, type: "agent_checkpoint" });
      expect(a.msg.lamport as number).toBeGreaterThan(5000);
      const note = a.msg.note as string;
      expect(note.length).toBeLessThanOrEqual(4096);
      const opened = openNote(note, [vkey]);
      expect(opened.verified.map((s) => s.name)).toEqual([agentLogOrigin(FLEET, agentId)]);
      const checkpoint = parseCheckpoint(opened.text);
      expect(checkpoint.origin).toBe(agentLogOrigin(FLEET, agentId));
      // Only what the edge held (acknowledged) when it arrived; sizes grow with the log.
      expect(checkpoint.size).toBeGreaterThan(0);
      expect(checkpoint.size).toBeLessThanOrEqual(a.acked);
      expect(checkpoint.size).toBeGreaterThanOrEqual(lastSize);
      lastSize = checkpoint.size;
      expect(Buffer.from(checkpoint.root).toString("base64")).toBe(Buffer.from(await recomputedRoot(agent, checkpoint.size)).toString("base64"));
    }
    const stats = link.stats();
    expect(stats.agent_checkpoints_sent).toBe(sent.length);
    expect(stats.agent_checkpoint_size).toBe(lastSize);
    expect(stats.agent_checkpoint_errors).toBe(0);
    expect(stats.edge_errors).toBe(1); // the checkpoint_ahead, without a strike against the session
    expect(link.state()).toBe("connected");
    expect(edge.conns).toHaveLength(1);
    const metrics = agentMetrics({
      clock: agent.clock.stats(),
      lateness: new LatencyWindow(),
      queue: agent.queue.stats(),
      pipeline: agent.pipeline.counters(),
      ledger: agent.ledger.stats(),
      coherence: 0,
      mesh: agent.mesh.view(Date.now()),
      link: link.state(),
      linkStats: link.stats(),
    });
    expect(metrics).toContain(`becomingone_link_agent_checkpoints_sent ${sent.length}\n`);
    expect(metrics).toContain("becomingone_link_cosignatures_sent 0\n");
  }, 30_000);

  it("an edge whose welcome lists no features gets neither message, even with a verified checkpoint kept", async () => {
    const t = MerkleTree.open(new MemoryNodeStore());
    for (let i = 0; i < 5; i++) t.append(enc(`leaf${i}`));
    const signer = parseSignerKey(generateSignerKey("hostile.test-log").signerKey);
    const note = signCheckpoint({ origin: FLEET, size: 5, root: t.root(5) }, [signer]);
    const arrivals: Arrival[] = [];
    const { agent, link, edge } = await setup(
      proofChainEdge(() => ({ log: { origin: FLEET, verifierKey: signer.verifierKey, checkpoint: note } }), () => true, arrivals),
      { auditIntervalMs: 100 },
    );
    await until("the checkpoint kept", () => link.stats().checkpoints_accepted === 1);
    await until("records acknowledged", () => agent.ledger.ackedCount >= 20);
    await new Promise((r) => setTimeout(r, 1000));
    expect(arrivals).toEqual([]);
    expect(edge.conns[0]!.received.map((m) => m.type).filter((t) => t !== "records" && t !== "summary" && t !== "ping")).toEqual(["hello"]);
    expect(link.stats()).toMatchObject({ agent_checkpoints_sent: 0, cosignatures_sent: 0 });
  }, 20_000);

  it.each([
    ["agent_log_inconsistent", "AGENT LOG INCONSISTENT", 1],
    ["bad_checkpoint", "the edge refused the agent checkpoint", 0],
  ] as const)("%s is logged loudly and stops agent checkpoints on that connection (each would be a strike or a quarantine again)", async (code, logged, inconsistent) => {
    const arrivals: Arrival[] = [];
    const { link, lines } = await setup(
      proofChainEdge(
        () => ({ features: ["agent-checkpoint"] }),
        () => true,
        arrivals,
        (conn) => conn.ws.send(JSON.stringify({ v: 1, type: "error", code, message: "refused", ref: "agent_checkpoint" })),
      ),
    );
    await until("the first agent checkpoint", () => arrivals.length >= 1);
    await until("the error seen", () => link.stats().agent_checkpoint_errors === 1);
    // Without the stop, the next one would arrive 5.25 s after the first.
    await new Promise((r) => setTimeout(r, 6000));
    expect(arrivals).toHaveLength(1);
    expect(lines.some((l) => l.level === "error" && l.msg.startsWith(logged))).toBe(true);
    expect(link.stats()).toMatchObject({ agent_checkpoints_sent: 1, agent_checkpoint_errors: 1, agent_log_inconsistent: inconsistent });
    expect(link.state()).toBe("connected");
  }, 20_000);
});

describe("cosignatures against the scripted edge", () => {
  it("cosigns each checkpoint the auditor keeps (first, then proven consistent), never a forked one", async () => {
    const honest = MerkleTree.open(new MemoryNodeStore());
    const forked = MerkleTree.open(new MemoryNodeStore());
    for (let i = 0; i < 20; i++) {
      honest.append(enc(`leaf${i}`));
      forked.append(enc(i < 10 ? `leaf${i}` : `fork${i}`));
    }
    const signer = parseSignerKey(generateSignerKey("hostile.test-log").signerKey);
    const noteOf = (t: MerkleTree, size: number) => signCheckpoint({ origin: FLEET, size, root: t.root(size) }, [signer]);
    // The edge's proof route: consistency proofs of the honest tree.
    const http: RequestListener = (req, res) => {
      const u = new URL(req.url ?? "/", "http://x");
      if (u.pathname !== "/v1/log/proof/consistency") {
        res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ error: { code: "not_found", message: "no" } }));
        return;
      }
      const from = Number(u.searchParams.get("from"));
      const to = Number(u.searchParams.get("to"));
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(consistencyProofDocument(from, to, honest.consistencyProof(from, to), honest.root(from), honest.root(to))));
    };
    const arrivals: Arrival[] = [];
    const { link, agentId, key, edge, lines } = await setup(
      proofChainEdge(() => ({ features: FEATURES, log: { origin: FLEET, verifierKey: signer.verifierKey, checkpoint: noteOf(honest, 3) } }), () => true, arrivals),
      { auditIntervalMs: 100 },
      http,
    );
    const cosignatures = () => arrivals.filter((a) => a.msg.type === "cosignature").map((a) => a.msg);
    const name = witnessName(FLEET, agentId);
    const verifier = cosignatureVerifier(name, key.publicKeyRaw);
    const body = (note: string) => note.slice(0, note.indexOf("\n\n") + 1);
    const check = (msg: Record<string, unknown>, t: MerkleTree, size: number) => {
      expect(msg).toMatchObject({ v: 1, type: "cosignature", size, root: Buffer.from(t.root(size)).toString("base64") });
      const signature = decodeBase64(msg.signature as string);
      expect(signature).toHaveLength(76);
      // A cosigned note: the checkpoint body with the agent's cosignature line, opened with our openNote.
      const cosigned = body(noteOf(t, size)) + "\n" + cosignatureLine(name, signature);
      expect(openNote(cosigned, [verifier]).verified.map((s) => s.name)).toEqual([name]);
      const ts = cosignatureTimestamp(signature.subarray(4));
      expect(Math.abs(ts! - Date.now() / 1000)).toBeLessThan(60);
      // It covers that body only.
      expect(() => openNote(body(noteOf(t, size === 3 ? 4 : 3)) + "\n" + cosignatureLine(name, signature), [verifier])).toThrow();
    };

    await until("the first cosignature", () => cosignatures().length >= 1);
    check(cosignatures()[0]!, honest, 3);
    const conn = edge.conns[0]!;
    conn.ws.send(JSON.stringify({ v: 1, type: "checkpoint", size: 8, root: Buffer.from(honest.root(8)).toString("base64"), note: noteOf(honest, 8) }));
    await until("the second cosignature", () => cosignatures().length >= 2);
    check(cosignatures()[1]!, honest, 8);
    // A checkpoint signed with the right key whose tree forks from the kept one: refused, not cosigned.
    conn.ws.send(JSON.stringify({ v: 1, type: "checkpoint", size: 15, root: Buffer.from(forked.root(15)).toString("base64"), note: noteOf(forked, 15) }));
    await until("the fork refused", () => lines.some((l) => l.msg.startsWith("EDGE LOG INCONSISTENT")));
    await new Promise((r) => setTimeout(r, 500));
    expect(cosignatures()).toHaveLength(2);
    expect(link.stats()).toMatchObject({ cosignatures_sent: 2, cosigned_size: 8, checkpoint_size: 8 });
    // unknown_checkpoint (no strike): logged and counted, the next keep is cosigned as usual.
    conn.ws.send(JSON.stringify({ v: 1, type: "error", code: "unknown_checkpoint", message: "never signed", ref: "cosignature" }));
    await until("the refusal counted", () => link.stats().cosignature_errors === 1);
    conn.ws.send(JSON.stringify({ v: 1, type: "checkpoint", size: 12, root: Buffer.from(honest.root(12)).toString("base64"), note: noteOf(honest, 12) }));
    await until("the third cosignature", () => cosignatures().length >= 3);
    check(cosignatures()[2]!, honest, 12);
    // bad_cosignature (a strike): no more cosignatures on this connection, though the auditor keeps on.
    conn.ws.send(JSON.stringify({ v: 1, type: "error", code: "bad_cosignature", message: "does not verify", ref: "cosignature" }));
    await until("the second refusal counted", () => link.stats().cosignature_errors === 2);
    conn.ws.send(JSON.stringify({ v: 1, type: "checkpoint", size: 16, root: Buffer.from(honest.root(16)).toString("base64"), note: noteOf(honest, 16) }));
    await until("16 kept", () => link.stats().checkpoint_size === 16);
    await new Promise((r) => setTimeout(r, 300));
    expect(cosignatures()).toHaveLength(3);
    expect(lines.filter((l) => l.msg === "the edge refused a cosignature")).toHaveLength(2);
    expect(link.stats()).toMatchObject({ cosignatures_sent: 3, cosigned_size: 12, cosignature_errors: 2 });
    expect(link.state()).toBe("connected");
  }, 20_000);
});
