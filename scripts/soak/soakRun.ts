/**
 * The soak itself: a real edge (wrangler dev, test/support/edge.ts), a loopback link proxy, and N
 * real agents (dist/, test/e2e/support/agentProcess.ts) streaming through it. Four phases:
 *
 * 1. connected: kill -9 trials on every agent in parallel while the edge is restarted under load;
 * 2. cut: the link goes silent for cutMs; the agents keep sealing (and are killed again meanwhile);
 *    then it is restored and each agent's reconnect and replay are timed;
 * 3. drain: every agent stops cleanly, starts once more without input until the edge has
 *    acknowledged every durable record, and stops;
 * 4. audit: each ledger (verifyLedger, signatures against the key the edge enrolled) against the
 *    global log (lost, duplicated, reordered, differing bytes), the final signed checkpoint against
 *    the root of the entries the edge serves, and every checkpoint seen during the run consistent
 *    with the one before.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { publicKeyFromRaw, verifyEd25519 } from "../../agent/identity/deviceKey.js";
import { verifyLedger } from "../../agent/ledger/ledger.js";
import { openCheckpoint } from "../../shared/checkpoint/index.js";
import { bytesEqual } from "../../shared/encoding/bytes.js";
import { recordSigningInput } from "../../shared/log/index.js";
import { parseVerifierKey } from "../../shared/note/index.js";
import { base64UrlToBytes } from "../../shared/protocol/index.js";
import { issueToken } from "../../test/edge/fleet-client.js";
import { agentMetrics, FAST_SEALING, removeTempDirs, tempDir, waitFor } from "../../test/e2e/support/agentProcess.js";
import { globalEntries, ledgerRecords } from "../../test/e2e/support/globalLog.js";
import { startEdge, type RunningEdge } from "../../test/support/edge.js";
import { AgentSlot } from "./agentSlot.js";
import { watchCheckpoints, type CheckpointWatch } from "./checkpointWatch.js";
import { killDuringCut, killWhileConnected, type KillTrial, type TrialProblems } from "./killTrials.js";
import { startLinkProxy, type LinkProxy } from "./linkProxy.js";
import { checkCheckpointChain, compareAgentLog, comparisonClean, rootOfEntries, type AgentLogComparison, type CheckpointChainResult, type ConsistencyDocument } from "./logAudit.js";
import { formatReport, spread, type ReportSection } from "./soakReport.js";
import type { SoakOptions } from "./soakOptions.js";

/**
 * FAST_SEALING (≈ 11 records/s per agent) with retention raised so no acknowledged segment is deleted
 * during the run: the audit compares every record the agent ever sealed, from seq 0.
 */
const SOAK_AGENT_CONFIG = {
  ...FAST_SEALING,
  ledger: { ...FAST_SEALING.ledger, retainAckedBytes: 192 * 1024 * 1024, maxBytes: 256 * 1024 * 1024 },
};

export interface EdgeRestartFigure {
  /** SIGTERM to wrangler → /health answering again, ms. */
  readonly downMs: number;
  /** Edge back → the global log growing again (agents reconnected and sending), ms. */
  readonly flowingMs: number;
}

export interface CutFigure {
  readonly slot: number;
  /** Cut → the agent's link no longer "connected", ms (undefined: not noticed within the cut). */
  readonly noticedMs: number | undefined;
  /** Records sealed (durable) while the link was cut. */
  readonly sealedDuringCut: number;
  /** Records waiting for the edge when the link came back. */
  readonly backlog: number;
  /** Restore → connected, ms. */
  readonly reconnectMs: number;
  /** Restore → every record durable at the restore acknowledged, ms. */
  readonly replayMs: number;
}

export interface SoakResult {
  readonly ok: boolean;
  readonly report: string;
  readonly problems: readonly string[];
}

export interface SoakRun {
  readonly done: Promise<SoakResult>;
  /** Ends everything now (time limit, Ctrl-C): agents killed, proxy closed, edge stopped. */
  abort(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

/** Splits `total` over `parts` as evenly as integers allow. */
function share(total: number, parts: number, i: number): number {
  return Math.floor(total / parts) + (i < total % parts ? 1 : 0);
}

/**
 * GET with two retries on a network error (not on an HTTP status): the audit's long synchronous
 * steps (verifyLedger) let the edge close an idle keep-alive connection that fetch then reuses.
 */
async function getWithRetry(url: string, headers: Record<string, string> = {}): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      if (attempt >= 2) throw err;
      await sleep(1000);
    }
  }
}

async function adminJson(edge: RunningEdge, path: string): Promise<Record<string, unknown>> {
  const res = await getWithRetry(`${edge.url}${path}`, { Authorization: `Bearer ${edge.adminToken}` });
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

async function globalLogSize(edge: RunningEdge): Promise<number> {
  const fleet = await adminJson(edge, "/v1/fleet");
  return (fleet.log as { size: number }).size;
}

export function startSoak(options: SoakOptions, say: (line: string) => void): SoakRun {
  let edge: RunningEdge | undefined;
  let proxy: LinkProxy | undefined;
  let watch: CheckpointWatch | undefined;
  const slots: AgentSlot[] = [];
  let aborted = false;
  let released: Promise<void> | undefined;

  const release = (): Promise<void> => (released ??= releaseOnce());
  const releaseOnce = async (): Promise<void> => {
    await Promise.all(slots.filter((s) => s.running).map((s) => s.kill9().catch(() => false)));
    await watch?.stop();
    await proxy?.close();
    await edge?.dispose();
    if (!options.keep) removeTempDirs();
  };

  const run = async (): Promise<SoakResult> => {
    const problems: string[] = [];
    const out: TrialProblems = { problems };
    const startedAt = Date.now();
    const root = tempDir("becomingone-soak-");
    say(`data in ${root}`);

    edge = await startEdge({ persistDir: join(root, "edge") });
    const liveEdge = edge;
    proxy = await startLinkProxy(() => liveEdge.port);
    watch = watchCheckpoints(() => liveEdge.url, 500);
    say(`edge ${edge.url}, agents reach it through the link proxy ${proxy.url}`);

    const { token } = await issueToken(edge, { maxUses: options.agents * 2, name: "soak" });
    for (let i = 0; i < options.agents; i++) {
      slots.push(new AgentSlot({ index: i, dataDir: join(root, `agent-${i}`), edgeUrl: proxy.url, token, config: SOAK_AGENT_CONFIG }));
    }
    for (const slot of slots) slot.start();
    await Promise.all(
      slots.map(async (slot) => {
        await slot.ready();
        await waitFor(`agent ${slot.index} to connect`, async () => ((await slot.health()).link === "connected" ? true : undefined), 120_000);
      }),
    );
    const streamingFrom = Date.now();
    say(`${slots.length} agents enrolled and streaming (${slots.map((s) => s.agentId).join(", ")})`);

    // 1. Connected: kills on every agent in parallel, edge restarts under that load.
    const connectedKills = Math.ceil(options.kills / 2);
    const restarts: EdgeRestartFigure[] = [];
    const restartEdge = async (): Promise<void> => {
      for (let r = 0; r < options.edgeRestarts && !aborted; r++) {
        await sleep(between(options.quick ? 2000 : 8000, options.quick ? 4000 : 20_000));
        const before = await globalLogSize(liveEdge).catch(() => 0);
        const t = Date.now();
        await liveEdge.restart();
        const upAt = Date.now();
        await waitFor("the global log to grow after the edge restart", async () => ((await globalLogSize(liveEdge)) > before ? true : undefined), 240_000, 200).catch(
          (err: Error) => problems.push(err.message),
        );
        restarts.push({ downMs: upAt - t, flowingMs: Date.now() - upAt });
        say(`edge restart ${r + 1}/${options.edgeRestarts}: down ${upAt - t} ms, records flowing ${Date.now() - upAt} ms after`);
      }
    };
    say(`phase 1: ${connectedKills} kill -9 trials across the agents while connected, ${options.edgeRestarts} edge restarts`);
    const [connectedTrials] = await Promise.all([
      Promise.all(slots.map((slot) => killWhileConnected(liveEdge, slot, share(connectedKills, slots.length, slot.index), out))).then((t) => t.flat()),
      restartEdge(),
    ]);
    say(`phase 1 done: ${connectedTrials.length} kills`);

    // 2. The cut.
    const cutKills = options.kills - connectedKills;
    // The cut must hit connected links, or "noticed" would time a reconnect (phase 1 may end just after an edge restart).
    await Promise.all(
      slots.map((slot) =>
        waitFor(`agent ${slot.index} connected before the cut`, async () => ((await slot.health()).link === "connected" ? true : undefined), 120_000, 100).catch((err: Error) =>
          problems.push(err.message),
        ),
      ),
    );
    const atCut = await Promise.all(slots.map((s) => s.health()));
    proxy.cutLink();
    const cutAt = Date.now();
    say(`phase 2: link cut for ${(options.cutMs / 60_000).toFixed(2)} min, ${cutKills} kill -9 trials meanwhile`);
    const noticed: (number | undefined)[] = slots.map(() => undefined);
    const noticeWindow = Math.min(options.cutMs, 90_000);
    await Promise.all(
      slots.map(async (slot, i) => {
        await waitFor(`agent ${slot.index} to notice the cut`, async () => ((await slot.health()).link !== "connected" ? true : undefined), noticeWindow, 250)
          .then(() => (noticed[i] = Date.now() - cutAt))
          .catch(() => {});
      }),
    );
    say(`the agents noticed the cut after ${noticed.map((n) => (n === undefined ? "–" : `${n} ms`)).join(", ")}`);
    const killSpan = Math.max(0, options.cutMs - (Date.now() - cutAt) - (options.quick ? 2000 : 20_000));
    const cutTrials = (await Promise.all(slots.map((slot) => killDuringCut(slot, share(cutKills, slots.length, slot.index), killSpan, out)))).flat();
    const left = cutAt + options.cutMs - Date.now();
    if (left > 0) await sleep(left);
    const atRestore = await Promise.all(slots.map((s) => s.health()));
    const heldDuringCut = proxy.heldDuringCut;
    proxy.restoreLink();
    const restoredAt = Date.now();
    const cutMs = restoredAt - cutAt;
    say(`link restored after ${cutMs} ms (${heldDuringCut} connections held silent)`);
    const cutFigures: CutFigure[] = await Promise.all(
      slots.map(async (slot, i): Promise<CutFigure> => {
        let reconnectMs = -1;
        const durable = atRestore[i]!.ledger.durable;
        await waitFor(`agent ${slot.index} to replay the cut's backlog`, async () => {
          const h = await slot.health();
          if (h.link === "connected" && reconnectMs < 0) reconnectMs = Date.now() - restoredAt;
          return h.link === "connected" && h.ledger.acked >= durable ? h : undefined;
        }, 300_000, 100).catch(async (err: Error) => problems.push(`${err.message} (${await slot.linkDiagnosis()})`));
        const sealedDuringCut = durable - atCut[i]!.ledger.durable;
        if (sealedDuringCut <= 0) problems.push(`agent ${slot.index} sealed nothing while the link was cut`);
        return { slot: slot.index, noticedMs: noticed[i], sealedDuringCut, backlog: durable - atRestore[i]!.ledger.acked, reconnectMs, replayMs: Date.now() - restoredAt };
      }),
    );
    for (const f of cutFigures) say(`agent ${f.slot}: backlog ${f.backlog} records, reconnected ${f.reconnectMs} ms and replayed ${f.replayMs} ms after the restore`);
    if (options.cutMs >= 120_000) for (const f of cutFigures) if (f.noticedMs === undefined) problems.push(`agent ${f.slot} did not notice the cut within ${noticeWindow} ms`);

    // 3. Drain: clean stops, one run without input until every durable record is acknowledged.
    const streamingUntil = Date.now();
    say("phase 3: drain");
    const finalMetrics = await Promise.all(
      slots.map(async (slot) => {
        await slot.stop();
        slot.start(false);
        await slot.ready();
        await waitFor(`agent ${slot.index} to have every durable record acknowledged`, async () => {
          const h = await slot.health();
          return h.link === "connected" && h.ledger.acked === h.ledger.durable ? h : undefined;
        }, 120_000, 200).catch(async (err: Error) => problems.push(`${err.message} (${await slot.linkDiagnosis()})`));
        // Let its auditor check the newest checkpoint and its own records' inclusion once more.
        await sleep(3000);
        const metrics = await agentMetrics(slot.api!);
        await slot.stop();
        return metrics;
      }),
    );
    await watch.stop();

    // 4. Audit.
    say("phase 4: audit");
    const entries = await globalEntries(liveEdge.url);
    const verifier = parseVerifierKey(edge.verifierKey);
    let finalNote = "";
    const final = await waitFor("a checkpoint covering the whole log", async () => {
      const note = await (await getWithRetry(`${liveEdge.url}/v1/log/checkpoint`)).text();
      const cp = openCheckpoint(note, [verifier]).checkpoint;
      finalNote = note;
      return cp.size >= entries.length ? cp : undefined;
    }, 30_000);
    if (final.size !== entries.length) problems.push(`the final checkpoint has size ${final.size}, the log serves ${entries.length} entries`);
    const rootMatches = bytesEqual(rootOfEntries(entries), final.root);
    if (!rootMatches) problems.push("the entries the edge serves do not hash to its signed root");

    const notes = [...watch.notes(), finalNote];
    let agentKept = 0;
    for (const slot of slots) {
      const file = join(slot.dataDir, "edge-checkpoint.note");
      if (existsSync(file)) {
        notes.push(readFileSync(file, "utf8"));
        agentKept++;
      }
    }
    const chain: CheckpointChainResult = await checkCheckpointChain(notes, verifier, final.origin, async (from, to) => {
      const res = await getWithRetry(`${liveEdge.url}/v1/log/proof/consistency?from=${from}&to=${to}`);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      return (await res.json()) as ConsistencyDocument;
    });
    problems.push(...chain.problems);
    if (chain.consistent !== Math.max(0, chain.distinct - 1)) problems.push("not every consecutive checkpoint pair was proven consistent");

    const comparisons: AgentLogComparison[] = [];
    let ledgerProblems = 0;
    let signaturesChecked = 0;
    // Every question to the edge first: the ledger checks below are long and synchronous.
    const views = await Promise.all(slots.map((slot) => adminJson(liveEdge, `/v1/agents/${slot.agentId}`)));
    for (const [i, slot] of slots.entries()) {
      const publicKey = publicKeyFromRaw(base64UrlToBytes((views[i]!.publicKey as { x: string }).x));
      const verification = verifyLedger(slot.ledgerDir, (r) => {
        signaturesChecked++;
        return verifyEd25519(publicKey, recordSigningInput(r), r.signature);
      });
      ledgerProblems += verification.problems.length;
      for (const p of verification.problems.slice(0, 5)) problems.push(`agent ${slot.index} ledger: ${p}`);
      const comparison = compareAgentLog(entries, slot.agentId!, ledgerRecords(slot.ledgerDir));
      comparisons.push(comparison);
      if (!comparisonClean(comparison)) problems.push(`agent ${slot.index}: ${JSON.stringify(comparison)}`);
      for (const msg of slot.badExits) problems.push(`agent ${slot.index}: ${msg}`);
      for (const [msg, n] of slot.errorLines) problems.push(`agent ${slot.index} logged an error ${n}×: ${msg}`);
    }
    const known = new Set(slots.map((s) => s.agentId));
    const foreign = entries.filter((e) => !known.has(e.agentId)).length;
    if (foreign > 0) problems.push(`${foreign} global entries of agents the soak did not run`);
    for (const [i, m] of finalMetrics.entries()) {
      if ((m.log_inconsistent ?? 0) !== 0 || (m.inclusion_failed ?? 0) !== 0 || (m.checkpoints_rejected ?? 0) !== 0) {
        problems.push(`agent ${i}'s own audit: log_inconsistent ${m.log_inconsistent}, inclusion_failed ${m.inclusion_failed}, checkpoints_rejected ${m.checkpoints_rejected}`);
      }
    }

    const sum = (f: (c: AgentLogComparison) => number) => comparisons.reduce((a, c) => a + f(c), 0);
    const records = sum((c) => c.ledger);
    const allTrials: KillTrial[] = [...connectedTrials, ...cutTrials];
    const streamingSeconds = (streamingUntil - streamingFrom) / 1000;
    const sections: ReportSection[] = [
      {
        title: "Faults",
        rows: [
          ["kill -9 while connected", `${connectedTrials.length} (${connectedTrials.filter((t) => t.early).length} during start-up)`],
          ["kill -9 during the cut", cutTrials.length],
          ["kill -9 in total", `${allTrials.length} (agent starts ${slots.reduce((a, s) => a + s.starts, 0)})`],
          ["edge restarts under load", restarts.length],
          ["link cuts", `1 of ${(cutMs / 60_000).toFixed(2)} min (${heldDuringCut} connections held silent)`],
        ],
      },
      {
        title: "Load",
        rows: [
          ["agents", slots.length],
          ["streaming", `${(streamingSeconds / 60).toFixed(1)} min`],
          ["records sealed", records],
          ["records/s (all agents)", (records / streamingSeconds).toFixed(1)],
          ["global log entries", entries.filter((e) => (e.type ?? "record") === "record").length],
          ["key and agent-checkpoint entries", entries.filter((e) => (e.type ?? "record") !== "record").length],
        ],
      },
      {
        title: "Time per fault",
        rows: [
          ["kill: spawn → ready", spread(allTrials.flatMap((t) => (t.readyMs === undefined ? [] : [t.readyMs])))],
          ["kill: ready → connected", spread(connectedTrials.flatMap((t) => (t.reconnectMs === undefined ? [] : [t.reconnectMs])))],
          ["kill: ready → backlog replayed", spread(connectedTrials.flatMap((t) => (t.replayMs === undefined ? [] : [t.replayMs])))],
          ["edge restart: down", spread(restarts.map((r) => r.downMs))],
          ["edge restart: up → records flow", spread(restarts.map((r) => r.flowingMs))],
          ["cut: noticed by the agents", spread(cutFigures.flatMap((f) => (f.noticedMs === undefined ? [] : [f.noticedMs])))],
          ["cut: records sealed meanwhile", cutFigures.map((f) => f.sealedDuringCut).join(", ")],
          ["cut: backlog at restore", cutFigures.map((f) => f.backlog).join(", ")],
          ["cut: restore → reconnected", spread(cutFigures.map((f) => f.reconnectMs))],
          ["cut: restore → backlog replayed", spread(cutFigures.map((f) => f.replayMs))],
        ],
      },
      {
        title: "Checks (must be 0 unless said)",
        rows: [
          ["ledger records", `${records} (signatures checked ${signaturesChecked})`],
          ["ledger problems (verifyLedger)", ledgerProblems],
          ["lost", sum((c) => c.lost)],
          ["undelivered (after the last logged)", sum((c) => c.undelivered)],
          ["duplicated", sum((c) => c.duplicated)],
          ["reordered", sum((c) => c.reordered)],
          ["bytes differ", sum((c) => c.differing)],
          ["in the log, not in the ledger", sum((c) => c.unknown)],
          ["entries of unknown agents", foreign],
          ["checkpoints collected", `${chain.offered} (${watch.polls} polls, ${watch.failedPolls} failed during restarts; ${agentKept} kept by agents)`],
          ["checkpoints distinct, verified", chain.distinct],
          ["consecutive pairs consistent", `${chain.consistent} (must be distinct − 1 = ${Math.max(0, chain.distinct - 1)})`],
          ["inconsistent or forked", chain.inconsistent],
          ["bad signature or origin", chain.badSignature],
          ["final checkpoint", `size ${final.size}, root ${rootMatches ? "= root of the served entries" : "DIFFERS from the served entries"}`],
          ["agents' own audits", `checkpoints accepted ${finalMetrics.reduce((a, m) => a + (m.checkpoints_accepted ?? 0), 0)}, inclusion verified ${finalMetrics.reduce((a, m) => a + (m.inclusion_verified ?? 0), 0)} (final runs)`],
          ["agent error lines / bad exits", `${slots.reduce((a, s) => a + [...s.errorLines.values()].reduce((x, y) => x + y, 0), 0)} / ${slots.reduce((a, s) => a + s.badExits.length, 0)}`],
          ["problems", problems.length],
        ],
      },
    ];
    const ok = problems.length === 0;
    const elapsed = ((Date.now() - startedAt) / 60_000).toFixed(1);
    const report = `${formatReport(sections)}\n\n${ok ? "PASS" : "FAIL"}: soak of ${elapsed} min${problems.length ? "\n" + problems.map((p) => `  - ${p}`).join("\n") : ""}`;
    return { ok, report, problems };
  };

  const done = run().finally(release);
  return {
    done,
    async abort() {
      aborted = true;
      await release();
    },
  };
}
