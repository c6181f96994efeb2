/**
 * Go's golang.org/x/mod/sumdb `note` and `tlog` as an outside auditor (test/go/xmodcheck, built
 * from Debian's packaged x/mod source): `note.Open` verifies the global checkpoints with the log
 * key and every agent's cosignature/v1 key, and the agent checkpoints with each agent's key;
 * `tlog.CheckRecord` / `tlog.CheckTree` accept the global-log and agent-log proofs; and tampered
 * variants (a flipped root, a flipped proof hash, a flipped entry byte, another key, a cosignature
 * by the wrong key) are rejected. Our own verifier checks the same material.
 *
 * First on material made here with the project's shared code (checkpoints signed with shared/note,
 * cosignatures with shared/note/cosignature.ts, proofs from shared/log MerkleTree), then end to end:
 * the real edge (wrangler dev) and two real agent processes, everything fetched from the public routes.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCheckpoint, parseCheckpoint, signCheckpoint } from "../../shared/checkpoint/index.js";
import { agentLogOrigin, agentLogVerifierKey, witnessName, witnessVerifierKey } from "../../shared/checkpoint/agent-log-names.js";
import { decodeBase64, encodeBase64 } from "../../shared/encoding/base64.js";
import {
  MemoryNodeStore,
  MerkleTree,
  decodeLogEntry,
  encodeAgentCheckpointEntry,
  encodeKeyEntry,
  encodeRecord,
  hashLeaf,
  sealRecord,
  verifyConsistency,
  verifyInclusion,
} from "../../shared/log/index.js";
import { cosign, cosignatureLine } from "../../shared/note/cosignature.js";
import { generateSignerKey, parseNote, parseSignerKey, parseVerifierKey } from "../../shared/note/index.js";
import { FAST_SEALING, removeTempDirs, startAgentProcess, tempDir, waitFor, type AgentProcess } from "../e2e/support/agentProcess.js";
import { issueToken } from "../edge/fleet-client.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { buildXmodChecker, checksForAgentCheckpointEntries, checksForLog, type AuditedLog, type XmodCheck, type XmodChecker, type XmodRun } from "../support/xmod-check.js";
import { runCli } from "../support/cli-process.js";
import type { AgentCheckpointJson, AgentKeysJson } from "../../shared/api/index.js";

let checker: XmodChecker;
beforeAll(() => {
  checker = buildXmodChecker();
}, 300_000);
afterAll(() => checker?.dispose());

/** Our own verifier over the same material: signatures (log key and every cosigner), consistency, inclusions. */
function verifyWithOurCode(log: AuditedLog): void {
  const verifiers = [parseVerifierKey(log.key), ...log.cosigners.map((k) => parseVerifierKey(k))];
  const latest = openCheckpoint(log.latest, verifiers, { origin: log.origin });
  expect(latest.note.verified.length, `${log.label}: log key and every cosigner verified`).toBe(1 + log.cosigners.length);
  const old = openCheckpoint(log.old, [parseVerifierKey(log.key)], { origin: log.origin }).checkpoint;
  verifyConsistency(old.size, latest.checkpoint.size, [...log.consistency], old.root, latest.checkpoint.root);
  for (const inc of log.inclusions) verifyInclusion(hashLeaf(inc.entry), inc.index, latest.checkpoint.size, [...inc.proof], latest.checkpoint.root);
}

/**
 * `note` with the cosignature line of `name` replaced by one made with another private key but
 * labelled with the cosigner's name and key id (what a forger without the agent's key can do).
 */
function withWrongCosignature(note: string, name: string, publicKey: Uint8Array): string {
  const { text } = parseNote(note);
  const wrongSeed = new Uint8Array(32).fill(0x5a);
  const forged = cosignatureLine(name, cosign(text, name, publicKey, 1_700_000_000, (m) => ed25519.sign(m, wrongSeed)));
  const lines = note.slice(text.length + 1).split(/(?<=\n)/);
  return text + "\n" + lines.filter((l) => !l.startsWith(`\u2014 ${name} `)).join("") + forged;
}

/** Every check met its expectation; the tampered ones were rejected for a reason. */
function expectAllMet(run: XmodRun, checks: readonly XmodCheck[]): void {
  const wrong = run.output.results.filter((r) => r.verified !== (r.expect === "valid"));
  expect(wrong, JSON.stringify(wrong, null, 1)).toEqual([]);
  expect(run.code).toBe(0);
  expect(run.output).toMatchObject({ ok: true, passed: checks.length, failed: 0 });
  for (const r of run.output.results) if (r.expect === "invalid") expect(r.error, r.name).toMatch(/\S/);
}

describe("Go x/mod on material made with our shared code", () => {
  const fleet = "becomingone.example/fleet/xmod";
  const logKeys = generateSignerKey(fleet, new Uint8Array(32).fill(1));
  const logSigner = parseSignerKey(logKeys.signerKey);
  const agents = ["ag_one", "ag_two"].map((id, i) => {
    const seed = new Uint8Array(32).fill(10 + i);
    return { id, seed, publicKey: ed25519.getPublicKey(seed), tree: MerkleTree.open(new MemoryNodeStore()), entries: [] as Uint8Array[] };
  });
  const global = MerkleTree.open(new MemoryNodeStore());
  const globalEntries: Uint8Array[] = [];
  const append = (entry: Uint8Array) => {
    global.append(entry);
    globalEntries.push(entry);
  };
  const t0 = Date.UTC(2026, 11, 6, 7, 0, 0);
  for (const a of agents) {
    append(encodeKeyEntry({ event: "enrolled", agentId: a.id, publicKey: a.publicKey, timestamp: t0 }));
    append(encodeKeyEntry({ event: "approved", agentId: a.id, publicKey: a.publicKey, timestamp: t0 + 1 }));
  }
  for (let seq = 0; seq < 11; seq++) {
    for (const a of agents) {
      if (a.id === "ag_two" && seq >= 6) continue;
      const entry = encodeRecord(sealRecord({ agentId: a.id, seq, kind: "memory", timestamp: t0 + 10 + seq, payloadJson: JSON.stringify({ seq }) }, a.seed));
      a.tree.append(entry);
      a.entries.push(entry);
      append(entry);
    }
  }
  const agentLogs = agents.map((a) => {
    const origin = agentLogOrigin(fleet, a.id);
    const signer = parseSignerKey(generateSignerKey(origin, a.seed).signerKey);
    const size = a.tree.size;
    return {
      ...a,
      origin,
      old: signCheckpoint({ origin, size: 3, root: a.tree.root(3) }, [signer]),
      latest: signCheckpoint({ origin, size, root: a.tree.root() }, [signer]),
    };
  });
  const oldSize = global.size;
  for (const a of agentLogs) append(encodeAgentCheckpointEntry({ agentId: a.id, note: a.latest }));
  const size = global.size;
  const latestBody = { origin: fleet, size, root: global.root() };
  let latest = signCheckpoint(latestBody, [logSigner]);
  const text = parseNote(latest).text;
  for (const a of agents) {
    const name = witnessName(fleet, a.id);
    latest += cosignatureLine(name, cosign(text, name, a.publicKey, 1_765_000_000, (m) => ed25519.sign(m, a.seed)));
  }
  const globalLog: AuditedLog = {
    label: "global",
    key: logKeys.verifierKey,
    origin: fleet,
    old: signCheckpoint({ origin: fleet, size: oldSize, root: global.root(oldSize) }, [logSigner]),
    latest,
    cosigners: agents.map((a) => witnessVerifierKey(fleet, a.id, a.publicKey)),
    consistency: global.consistencyProof(oldSize),
    inclusions: globalEntries.map((entry, index) => ({ index, entry, proof: global.inclusionProof(index) })),
  };
  const logsOfAgents: AuditedLog[] = agentLogs.map((a) => ({
    label: `agent ${a.id}`,
    key: agentLogVerifierKey(fleet, a.id, a.publicKey),
    origin: a.origin,
    old: a.old,
    latest: a.latest,
    cosigners: [],
    consistency: a.tree.consistencyProof(3),
    inclusions: a.entries.map((entry, index) => ({ index, entry, proof: a.tree.inclusionProof(index) })),
  }));
  const wrongCosignature = withWrongCosignature(latest, witnessName(fleet, "ag_one"), agents[0]!.publicKey);
  const checkpointEntries = globalEntries.flatMap((e, index) => (e[0] === 0x02 ? [{ index, agentId: index === oldSize ? "ag_one" : "ag_two" }] : []));
  const checks = [
    ...checksForLog(globalLog, { otherKey: logsOfAgents[0]!.key, wrongCosignature }),
    ...logsOfAgents.flatMap((log, i) => checksForLog(log, { otherKey: logsOfAgents[1 - i]!.key })),
    ...checksForAgentCheckpointEntries(globalLog, checkpointEntries, new Map(logsOfAgents.map((log, i) => [agents[i]!.id, log]))),
  ];

  it("the agent key texts are the C2SP ones (0x01 for its log, 0x04 for its cosignatures)", () => {
    const a = agents[0]!;
    expect(agentLogVerifierKey(fleet, a.id, a.publicKey)).toBe(generateSignerKey(agentLogOrigin(fleet, a.id), a.seed).verifierKey);
    expect(decodeBase64(witnessVerifierKey(fleet, a.id, a.publicKey).split("+").slice(2).join("+"))[0]).toBe(0x04);
  });

  it("our verifier accepts every checkpoint, cosignature and proof", () => {
    verifyWithOurCode(globalLog);
    for (const log of logsOfAgents) verifyWithOurCode(log);
  });

  it("note.Open, tlog.CheckRecord and tlog.CheckTree accept them all and reject every tampered variant", async () => {
    const run = await checker.run({ checks });
    expectAllMet(run, checks);
    const byName = new Map(run.output.results.map((r) => [r.name, r]));
    expect(byName.get("global latest")).toMatchObject({ verified: true, origin: fleet, size, cosigned: 2 });
    expect(byName.get("global flipped root")!.error).toMatch(/invalid signature/);
    expect(byName.get("global wrong cosigner key")!.error).toMatch(/invalid signature for key becomingone\.example\/fleet\/xmod\/witness\/ag_one/);
    expect(byName.get("global other key")!.error).toMatch(/no verifiable signatures/);
    expect(byName.get("global flipped inclusion proof hash")!.error).toMatch(/invalid transparency proof/);
    expect(byName.get("global flipped consistency proof hash")!.error).toMatch(/invalid transparency proof/);
    expect(run.output.results.filter((r) => r.kind === "inclusion" && r.verified)).toHaveLength(globalEntries.length + agents[0]!.entries.length + agents[1]!.entries.length);
    expect(run.output.results.filter((r) => r.kind === "agent-checkpoint-entry" && r.verified)).toHaveLength(2);
  });

  it("a cosigner whose signature is missing fails the check, and a failed check makes the program exit 1", async () => {
    const withoutTwo = latest.split(/(?<=\n)/).filter((l) => !l.startsWith(`\u2014 ${witnessName(fleet, "ag_two")} `)).join("");
    const run = await checker.run({
      checks: [{ name: "missing cosigner", kind: "checkpoint", expect: "valid", note: withoutTwo, key: logKeys.verifierKey, cosigners: globalLog.cosigners }],
    });
    expect(run.code).toBe(1);
    expect(run.output).toMatchObject({ ok: false, passed: 0, failed: 1 });
    expect(run.output.results[0]!.error).toMatch(/no cosignature by becomingone\.example\/fleet\/xmod\/witness\/ag_two\+[0-9a-f]{8}/);
  });
});


const cli = runCli;

/** GET JSON (or text) from a public route, failing with the answer when it is not 200. */
async function get<T>(url: string, as: "json" | "text" = "json"): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${body.slice(0, 300)}`);
  return (as === "json" ? JSON.parse(body) : body) as T;
}

interface InclusionJson {
  readonly leafIdx: number;
  readonly treeSize: number;
  readonly proof: readonly string[];
}

describe("Go x/mod against the real edge and two real agent processes", () => {
  let edge: RunningEdge;
  const agents: AgentProcess[] = [];
  beforeAll(async () => {
    edge = await startEdge();
  });
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await edge?.dispose();
    removeTempDirs();
  });

  it("verifies the published checkpoints with every agent's cosignature, the agent checkpoints and both logs' proofs", async () => {
    const { token } = await issueToken(edge, { maxUses: 2 });
    const dataDirs = [0, 1].map((i) => join(tempDir(`xmod-${i}-`), "agent"));
    for (const dataDir of dataDirs) agents.push(startAgentProcess({ dataDir, edgeUrl: edge.url, token, config: FAST_SEALING }));
    const ids = (await Promise.all(agents.map((a) => a.ready))).map((r) => r.agentId);
    const logKey = (await get<string>(`${edge.url}/v1/log/key`, "text")).trim();
    expect(logKey).toBe(edge.verifierKey);
    const logVerifier = parseVerifierKey(logKey);

    // The first agent checkpoints: their sizes become the agent logs' "old" trees.
    const agentCp = (id: string, size?: number) => get<AgentCheckpointJson>(`${edge.url}/v1/log/agents/${id}/checkpoint${size === undefined ? "" : `?size=${size}`}`);
    const firsts = await Promise.all(ids.map((id) => waitFor(`an agent checkpoint of ${id}`, () => agentCp(id).then((c) => (c.size > 0 ? c : undefined)), 90_000, 500)));
    const oldGlobal = await waitFor(
      "a published checkpoint with entries",
      () => get<string>(`${edge.url}/v1/log/checkpoint`, "text").then((n) => (openCheckpoint(n, [logVerifier]).checkpoint.size > 0 ? n : undefined)),
      30_000,
    );
    const oldSize = openCheckpoint(oldGlobal, [logVerifier]).checkpoint.size;

    // Then: a newer agent checkpoint of each, and a published checkpoint cosigned by both agents
    // that includes those checkpoints' 0x02 entries.
    // Then the log must stop growing: while it grows, the edge signs a checkpoint each second and
    // each agent cosigns the newest one its own 2-second audit round kept, so two agents may keep
    // cosigning different sizes and never the same one. So: once each agent checkpoint has grown,
    // the agents stop (SIGTERM: ledger flushed, records drained) and start again on the same data
    // without input and with sealing slowed to once a day; after welcome each signs a checkpoint of
    // its (now still) log, and both cosign the one global checkpoint that covers it all.
    await waitFor("agent checkpoints past their first", async () => ((await Promise.all(ids.map((id) => agentCp(id)))).every((c, i) => c.size > firsts[i]!.size) ? true : undefined), 60_000, 500);
    for (const [i, a] of agents.entries()) {
      const exit = await a.stop();
      expect(exit.code, a.logs().slice(-2000)).toBe(0);
      agents[i] = startAgentProcess({
        dataDir: dataDirs[i]!,
        edgeUrl: edge.url,
        stream: false,
        config: { ...FAST_SEALING, seal: { witnessEverySeconds: 86_400, digestEverySeconds: 86_400 } },
      });
      expect((await agents[i]!.ready).agentId).toBe(ids[i]);
    }
    // Then a published checkpoint cosigned by both agents whose tree holds a newer agent checkpoint
    // (0x02 entry) of each. Found from the entries, not from the agents' latest checkpoints, which
    // may always be a little ahead of what the agents have cosigned.
    const from = Math.min(...firsts.map((c) => c.index));
    const { newer, cosigned } = await waitFor(
      "a global checkpoint cosigned by both agents, holding a newer agent checkpoint of each",
      async () => {
        // Not ready yet is thrown, so that a timeout says how far it got.
        const note = await get<string>(`${edge.url}/v1/log/checkpoint?witnesses=${ids.join(",")}&quorum=2`, "text");
        const size = openCheckpoint(note, [logVerifier]).checkpoint.size;
        if (size <= oldSize) throw new Error(`the cosigned checkpoint has size ${size}, not past ${oldSize}`);
        const newer = new Map<string, { index: number; note: string }>();
        for (let start = from; start < size; start += 256) {
          const page = await get<{ entries: { index: number; leaf: string }[] }>(`${edge.url}/v1/log/entries?start=${start}&end=${Math.min(size, start + 256)}`);
          for (const e of page.entries) {
            const entry = decodeLogEntry(decodeBase64(e.leaf));
            const first = firsts[ids.indexOf(entry.type === "agent-checkpoint" ? entry.agentId : "")];
            if (entry.type === "agent-checkpoint" && first !== undefined && e.index > first.index) newer.set(entry.agentId, { index: e.index, note: entry.note });
          }
        }
        if (!ids.every((id) => newer.has(id))) throw new Error(`the cosigned checkpoint of size ${size} holds newer agent checkpoints of ${[...newer.keys()].join(", ") || "none"}`);
        return { newer, cosigned: note };
      },
      150_000,
      1000,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${agents.map((a, i) => `agent ${i} log tail:\n${a.logs().slice(-1500)}`).join("\n")}`);
    });
    const latests = await Promise.all(
      ids.map(async (id) => {
        const { index, note } = newer.get(id)!;
        // The size the note signs (its signature is checked below, by us and by Go).
        const cp = await agentCp(id, parseCheckpoint(parseNote(note).text).size);
        expect(cp).toMatchObject({ agentId: id, index, note });
        return cp;
      }),
    );
    const fleetOrigin = openCheckpoint(cosigned, [logVerifier]).checkpoint.origin;
    const size = openCheckpoint(cosigned, [logVerifier]).checkpoint.size;
    const keys = await Promise.all(ids.map((id) => get<AgentKeysJson>(`${edge.url}/v1/log/agents/${id}/keys`)));
    for (const [i, k] of keys.entries()) {
      const publicKey = decodeBase64(k.keys[k.keys.length - 1]!.publicKey);
      expect(k.origin).toBe(agentLogOrigin(fleetOrigin, ids[i]!));
      expect(k.witness).toBe(witnessName(fleetOrigin, ids[i]!));
      expect(k.verifierKey).toBe(agentLogVerifierKey(fleetOrigin, ids[i]!, publicKey));
      expect(k.cosignerKey).toBe(witnessVerifierKey(fleetOrigin, ids[i]!, publicKey));
    }

    // Every entry of the cosigned tree, from the public entries route.
    const entries: Uint8Array[] = [];
    while (entries.length < size) {
      const page = await get<{ entries: { index: number; leaf: string }[] }>(`${edge.url}/v1/log/entries?start=${entries.length}&end=${Math.min(size, entries.length + 256)}`);
      for (const e of page.entries) {
        expect(e.index).toBe(entries.length);
        entries.push(decodeBase64(e.leaf));
      }
      if (page.entries.length === 0) throw new Error(`no entries at ${entries.length} of ${size}`);
    }
    const decoded = entries.map((e) => decodeLogEntry(e));
    // Proven in the global log: every entry (records, key events, agent checkpoints); past 1,024
    // entries (a slow machine), every key and agent-checkpoint entry and 1,024 records spread over the log.
    const indices = new Set<number>(entries.length <= 1024 ? entries.keys() : []);
    if (entries.length > 1024) {
      decoded.forEach((e, i) => e.type !== "record" && indices.add(i));
      for (let k = 0; k < 1024; k++) indices.add(Math.floor((k * (entries.length - 1)) / 1023));
    }
    expect(decoded.filter((e) => e.type === "key").length).toBeGreaterThanOrEqual(2);
    expect(decoded.filter((e) => e.type === "agent-checkpoint").length).toBeGreaterThanOrEqual(4);
    const wanted = [...indices].sort((a, b) => a - b);
    const globalInclusions: AuditedLog["inclusions"][number][] = [];
    for (let at = 0; at < wanted.length; at += 64) {
      const chunk = wanted.slice(at, at + 64);
      const batch = await get<{ treeSize: number; proofs: InclusionJson[] }>(`${edge.url}/v1/log/proof/inclusions?indices=${chunk.join(",")}&size=${size}`);
      expect(batch.treeSize).toBe(size);
      batch.proofs.forEach((p, k) => globalInclusions.push({ index: chunk[k]!, entry: entries[chunk[k]!]!, proof: p.proof.map((h) => decodeBase64(h)) }));
    }
    const globalConsistency = await get<{ proof: string[] }>(`${edge.url}/v1/log/proof/consistency?from=${oldSize}&to=${size}`);
    const globalLog: AuditedLog = {
      label: "global",
      key: logKey,
      origin: fleetOrigin,
      old: oldGlobal,
      latest: cosigned,
      cosigners: keys.map((k) => k.cosignerKey),
      consistency: globalConsistency.proof.map((h) => decodeBase64(h)),
      inclusions: globalInclusions,
    };

    // Each agent's log: its first and its newer signed checkpoint, records proven at the newer size.
    const agentLogs: AuditedLog[] = [];
    for (const [i, id] of ids.entries()) {
      const latest = latests[i]!;
      // The 0x02 entry at the checkpoint's index is exactly the note the agent signed.
      const entry = decoded[latest.index]!;
      expect(entry).toMatchObject({ type: "agent-checkpoint", agentId: id, note: latest.note });
      const records = decoded.flatMap((e) => (e.type === "record" && e.record.agentId === id ? [e.record] : []));
      expect(records.length).toBeGreaterThanOrEqual(latest.size);
      // Every record, or 64 spread over the log when there are more.
      const seqs = [...new Set(Array.from({ length: Math.min(64, latest.size) }, (_, k) => Math.floor((k * (latest.size - 1)) / Math.max(1, Math.min(64, latest.size) - 1))))];
      const inclusions = [];
      for (const seq of seqs) {
        expect(records[seq]!.seq).toBe(seq);
        const p = await get<InclusionJson>(`${edge.url}/v1/log/agents/${id}/proof/inclusion?seq=${seq}&size=${latest.size}`);
        expect(p).toMatchObject({ leafIdx: seq, treeSize: latest.size });
        inclusions.push({ index: seq, entry: encodeRecord(records[seq]!), proof: p.proof.map((h) => decodeBase64(h)) });
      }
      const consistency = await get<{ proof: string[] }>(`${edge.url}/v1/log/agents/${id}/proof/consistency?from=${firsts[i]!.size}&to=${latest.size}`);
      const old = await agentCp(id, firsts[i]!.size);
      expect(old.note).toBe(firsts[i]!.note);
      agentLogs.push({
        label: `agent ${id}`,
        key: keys[i]!.verifierKey,
        origin: keys[i]!.origin,
        old: old.note,
        latest: latest.note,
        cosigners: [],
        consistency: consistency.proof.map((h) => decodeBase64(h)),
        inclusions,
      });
    }

    // Our own verifier first, then Go's.
    verifyWithOurCode(globalLog);
    for (const log of agentLogs) verifyWithOurCode(log);
    const witness0 = keys[0]!;
    const wrongCosignature = withWrongCosignature(cosigned, witness0.witness, decodeBase64(witness0.keys[witness0.keys.length - 1]!.publicKey));
    const checkpointEntries = decoded.flatMap((e, index) => (e.type === "agent-checkpoint" ? [{ index, agentId: e.agentId }] : []));
    const checks = [
      ...checksForLog(globalLog, { otherKey: agentLogs[0]!.key, wrongCosignature }),
      ...agentLogs.flatMap((log, i) => checksForLog(log, { otherKey: agentLogs[1 - i]!.key })),
      ...checksForAgentCheckpointEntries(globalLog, checkpointEntries, new Map(agentLogs.map((log, i) => [ids[i]!, log]))),
    ];
    const run = await checker.run({ checks });
    expectAllMet(run, checks);
    expect(run.output.results.find((r) => r.name === "global latest")).toMatchObject({ verified: true, origin: fleetOrigin, size, cosigned: 2 });
    expect(run.output.results.find((r) => r.name === "global wrong cosigner key")!.error).toMatch(/invalid signature for key /);

    // The auditor subcommands on the same material: a record's proof bound to the cosigned
    // checkpoint, its device signature under the key from the keys route, an entry's leaf hash.
    const dir = tempDir("xmod-cli-");
    const save = (name: string, content: string | Uint8Array) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const recordIndex = decoded.findIndex((e) => e.type === "record" && e.record.agentId === ids[0]);
    const proofDoc = await get<unknown>(`${edge.url}/v1/log/proof/inclusion?index=${recordIndex}&size=${size}`);
    const bound = await cli(["verify-proof", save("proof.json", JSON.stringify(proofDoc)), "--checkpoint", save("cosigned.txt", cosigned), "--key", logKey]);
    expect(bound, bound.stderr).toMatchObject({ code: 0, stderr: "" });
    expect(bound.stdout).toContain(`as signed in ${fleetOrigin} size ${size} by `);
    const record = await cli(["verify-record", save("record.b64", encodeBase64(entries[recordIndex]!)), "--base64", "--key", keys[0]!.verifierKey]);
    expect(record.code, record.stderr).toBe(0);
    const wrongKey = await cli(["verify-record", join(dir, "record.b64"), "--base64", "--key", keys[1]!.verifierKey]);
    expect(wrongKey.code).toBe(1);
    const leaf = await cli(["leaf-hash", save("cp-entry.bin", entries[latests[0]!.index]!)]);
    expect(leaf.code).toBe(0);
    expect(leaf.stdout).toContain(`type    agent-checkpoint (0x02): agent ${ids[0]}, ${keys[0]!.origin} size ${latests[0]!.size}\n`);
  }, 360_000);
});
