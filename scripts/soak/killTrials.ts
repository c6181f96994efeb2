/**
 * kill -9 trials on one agent slot. Connected: start, wait until the agent has replayed its whole
 * backlog to the edge, let it stream a random while, kill it (every fourth kill lands during start-up
 * instead: enrollment, ledger recovery, connect, replay). During the cut: kill at spaced moments and
 * start again; the backlog waits for the link. After every kill the next start must recover at least
 * every record the killed process reported durable, and the edge must never hold more of the agent's
 * records than its ledger.
 */
import type { RunningEdge } from "../../test/support/edge.js";
import { waitFor } from "../../test/e2e/support/agentProcess.js";
import type { AgentSlot } from "./agentSlot.js";

export interface KillTrial {
  readonly slot: number;
  readonly phase: "connected" | "cut";
  /** Killed during start-up, before the agent was ready. */
  readonly early: boolean;
  /** Spawn → ready line, ms. */
  readonly readyMs?: number;
  /** Ready → link connected, ms (connected phase). */
  readonly reconnectMs?: number;
  /** Ready → every record from before the kill acknowledged by the edge, ms (connected phase). */
  readonly replayMs?: number;
  /** Records the start recovered from the ledger (durable before the kill). */
  readonly recovered?: number;
}

export interface TrialProblems {
  readonly problems: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

/** How long a replay may take: an edge restart (wrangler start on two loaded cores) can sit in it. */
const REPLAY_LIMIT_MS = 240_000;
const READY_LIMIT_MS = 90_000;

/**
 * Durable records the killed process reported (sampled just before the kill: the count only grows)
 * must all be there after recovery.
 */
async function startAndCheckRecovery(slot: AgentSlot, durableBeforeKill: number, out: TrialProblems): Promise<{ readyMs: number; recovered: number }> {
  const spawnedAt = Date.now();
  slot.start();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`agent ${slot.index} not ready within ${READY_LIMIT_MS} ms`)), READY_LIMIT_MS)));
  await Promise.race([slot.ready(), limit]).finally(() => clearTimeout(timer));
  const readyMs = Date.now() - spawnedAt;
  const recovered = (await slot.health()).ledger.durable;
  if (recovered < durableBeforeKill) out.problems.push(`agent ${slot.index}: ${durableBeforeKill - recovered} durable records lost by a kill (had ${durableBeforeKill}, recovered ${recovered})`);
  return { readyMs, recovered };
}

/** The edge's count of the agent's records, never above what the ledger holds. */
async function checkEdgeNotAhead(edge: RunningEdge, slot: AgentSlot, out: TrialProblems): Promise<void> {
  const res = await fetch(`${edge.url}/v1/agents/${slot.agentId}`, { headers: { Authorization: `Bearer ${edge.adminToken}` }, signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) return; // the edge is restarting: checked again next trial
  const view = (await res.json()) as { nextSeq?: unknown };
  const ledger = (await slot.health()).ledger.durable;
  if (typeof view.nextSeq === "number" && view.nextSeq > ledger) out.problems.push(`agent ${slot.index}: the edge holds ${view.nextSeq} records, the ledger ${ledger}`);
}

/** The slot's agent is running and ready on entry and on return. */
export async function killWhileConnected(edge: RunningEdge, slot: AgentSlot, trials: number, out: TrialProblems): Promise<KillTrial[]> {
  const done: KillTrial[] = [];
  for (let i = 0; i < trials; i++) {
    const early = i % 4 === 3;
    let durable = (await slot.health()).ledger.durable;
    if (early) {
      // Kill the running one, then the next one during its start-up.
      if (!(await slot.kill9())) out.problems.push(`agent ${slot.index}: a process ended before our kill -9`);
      slot.start();
      await sleep(between(100, 800));
      if (!(await slot.kill9())) out.problems.push(`agent ${slot.index}: a process ended before our kill -9`);
      const { readyMs, recovered } = await startAndCheckRecovery(slot, durable, out);
      done.push({ slot: slot.index, phase: "connected", early, readyMs, recovered });
      continue;
    }
    await sleep(between(300, 2000));
    durable = (await slot.health()).ledger.durable;
    if (!(await slot.kill9())) out.problems.push(`agent ${slot.index}: a process ended before our kill -9`);
    const { readyMs, recovered } = await startAndCheckRecovery(slot, durable, out);
    const readyAt = Date.now();
    let reconnectMs: number | undefined;
    await waitFor(`agent ${slot.index} to replay its ${recovered} records`, async () => {
      const h = await slot.health();
      if (h.link === "connected" && reconnectMs === undefined) reconnectMs = Date.now() - readyAt;
      return h.link === "connected" && h.ledger.acked >= recovered ? h : undefined;
    }, REPLAY_LIMIT_MS, 100).catch(async (err: Error) => out.problems.push(`${err.message} (${await slot.linkDiagnosis()})`));
    const replayMs = Date.now() - readyAt;
    await checkEdgeNotAhead(edge, slot, out).catch(() => {});
    done.push({ slot: slot.index, phase: "connected", early, readyMs, replayMs, recovered, ...(reconnectMs === undefined ? {} : { reconnectMs }) });
  }
  return done;
}

/** During the cut: `trials` kills spread over `spanMs`; the slot's agent is running on entry and return. */
export async function killDuringCut(slot: AgentSlot, trials: number, spanMs: number, out: TrialProblems): Promise<KillTrial[]> {
  const done: KillTrial[] = [];
  const gap = spanMs / (trials + 1);
  for (let i = 0; i < trials; i++) {
    await sleep(gap * (0.5 + Math.random()));
    const durable = (await slot.health()).ledger.durable;
    if (!(await slot.kill9())) out.problems.push(`agent ${slot.index}: a process ended before our kill -9`);
    const { readyMs, recovered } = await startAndCheckRecovery(slot, durable, out);
    done.push({ slot: slot.index, phase: "cut", early: false, readyMs, recovered });
  }
  return done;
}
