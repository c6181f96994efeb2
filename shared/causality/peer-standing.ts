import { dynamicCausalBound } from "./causal-bound.js";

/**
 * Per-peer causal hygiene, as the coordinator applies it to every clock an agent sends (ENGINE.md §9,
 * adapted to a star topology; docs/edge.md#causality is the full rule):
 *
 * - **Replay** (hard). Within a session, a clock ≤ the last accepted one is rejected and quarantines
 *   the peer; the baseline does not move. A `hello` opens a new session: a lower clock there is a
 *   restarted agent, not a replay (the reference partitioned restarted nodes forever).
 * - **Causal jump** (hard). A clock beyond where the peer could causally be — max(its last accepted
 *   clock, the coordinator's clock) + its declared rate × elapsed time + the ticks a message costs —
 *   by more than the reference's dynamic bound (32…128) is rejected and quarantines the peer. The
 *   baseline moves to it (a peer that jumped once can heal), but a rejected clock is never absorbed
 *   into the coordinator's clock; nor is the clock of a peer out of good standing.
 * - **Sustained drift** (soft, weight 0). Per summary interval, the ticks the clock ran beyond its
 *   declared rate are compared with the reference's budget (maxCausalOvershoot × max(hz·latency, 1)).
 *   Only a net `driftFlagAfter` violating summaries (a leaky count) flag the peer, and only a net
 *   `driftClearAfter` clean ones clear it, so network jitter cannot make it flap.
 * - **Elapsed time** comes from the peer's own summary timestamps, clamped to [previous one,
 *   arrival + clockSlackMs]: arrival gaps jitter with the network, the peer's sampling times do not,
 *   and the clamp keeps a peer from claiming more time than has really passed (plus the slack, once).
 *
 * Phase gap and coherence are not rules here: being unlocked is what coupling is for.
 */
export type ClockMessageKind = "hello" | "summary" | "records";

export interface PeerStanding {
  /** Last accepted clock (the baseline), or null before the first message. */
  readonly lamport: number | null;
  /**
   * The baseline's time in the peer's own frame, epoch ms: its clamped summary timestamp, carried
   * forward by arrival gaps over messages without one; null when unknown (after a hello).
   */
  readonly at: number | null;
  /** When the baseline's message arrived, coordinator clock, epoch ms. */
  readonly arrivedAt: number | null;
  /** Why the peer is quarantined (replay or jump), or null. */
  readonly quarantine: string | null;
  /** Accepted messages in a row since the last hard violation. */
  readonly healthyStreak: number;
  /** Why the peer is flagged for sustained drift, or null. */
  readonly drift: string | null;
  /** Leaky count of summaries pointing away from the current drift state (violating while clear, clean while flagged). */
  readonly driftStreak: number;
  /** Ticks beyond the declared rate since the last summary (signed sum over accepted messages). */
  readonly driftExcess: number;
}

export const FRESH_STANDING: PeerStanding = {
  lamport: null,
  at: null,
  arrivedAt: null,
  quarantine: null,
  healthyStreak: 0,
  drift: null,
  driftStreak: 0,
  driftExcess: 0,
};

export interface PeerClockInput {
  readonly kind: ClockMessageKind;
  readonly lamport: number;
  /** The peer's declared token rate, Hz (clamped to [0, maxTokenHz]); null when unknown (then maxTokenHz). */
  readonly tokenHz: number | null;
  /** The peer's own timestamp of the message (a summary's `t`), epoch ms, or null. */
  readonly sentAt: number | null;
  /** Coordinator time of receipt, epoch ms. */
  readonly now: number;
  /** The coordinator's Lamport clock before this message. */
  readonly localLamport: number;
  /** One-way latency the coordinator measured or assumes, ms. */
  readonly latencyMs: number;
  /** Our broadcasts per second the peer merges (each a tick on its clock); default 0. */
  readonly mergeHz?: number;
}

export interface StandingRules {
  /** Accepted messages in a row that lift a quarantine. */
  readonly healthyStreak: number;
  /** Rates above this are not believed, Hz. */
  readonly maxTokenHz: number;
  readonly maxJump: number;
  /** How far past its arrival a peer's own timestamp may lie, ms. */
  readonly clockSlackMs: number;
  /** Ticks one message costs the sender beyond its tokens: its send, and its merge of our reply. */
  readonly ticksPerMessage: number;
  /** Drift budget per summary, in expected ticks during one latency (the reference's 4). */
  readonly maxCausalOvershoot: number;
  /** Net violating summaries (leaky count) that flag drift. */
  readonly driftFlagAfter: number;
  /** Net clean summaries (leaky count) that clear it. */
  readonly driftClearAfter: number;
}

export const DEFAULT_STANDING_RULES: StandingRules = {
  healthyStreak: 3,
  maxTokenHz: 100,
  maxJump: 128,
  clockSlackMs: 1000,
  ticksPerMessage: 2,
  maxCausalOvershoot: 4,
  driftFlagAfter: 4,
  driftClearAfter: 8,
};

export type ClockVerdict =
  /**
   * `absorbStep`: the most the coordinator's clock may move towards this one (absorbClock); null
   * while the peer is out of good standing (quarantined or drifting): its clock is then not absorbed.
   */
  | { readonly kind: "accept"; readonly lifted: boolean; readonly absorbStep: number | null }
  | { readonly kind: "replay" | "jump"; readonly reason: string; readonly excess: number; readonly bound: number };

export interface StandingUpdate {
  readonly standing: PeerStanding;
  readonly verdict: ClockVerdict;
  /** Ticks beyond the causally expected position (≤ 0 when on time or behind). */
  readonly overshootTicks: number;
  /** Whether this message flagged or cleared sustained drift. */
  readonly drift: "flagged" | "cleared" | null;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);

/** Applies one message's clock to a peer's standing. Pure. */
export function assessPeerClock(
  standing: PeerStanding,
  input: PeerClockInput,
  rules: StandingRules = DEFAULT_STANDING_RULES,
): StandingUpdate {
  const declared = input.tokenHz === null || !Number.isFinite(input.tokenHz) ? rules.maxTokenHz : input.tokenHz;
  const hz = clamp(declared, 0, rules.maxTokenHz);
  const mergeHz = clamp(Number.isFinite(input.mergeHz) ? (input.mergeHz ?? 0) : 0, 0, rules.maxTokenHz);
  const { at, elapsedMs } = peerTime(standing, input, rules.clockSlackMs);

  if (input.kind !== "hello" && standing.lamport !== null && input.lamport <= standing.lamport) {
    const reason = `non-monotonic Lamport replay: clock ${input.lamport} ≤ last accepted ${standing.lamport}`;
    return {
      standing: { ...standing, quarantine: reason, healthyStreak: 0 },
      verdict: { kind: "replay", reason, excess: standing.lamport - input.lamport, bound: 0 },
      overshootTicks: 0,
      drift: null,
    };
  }

  const base = Math.max(standing.lamport ?? 0, input.localLamport);
  const expectedPosition = base + ((hz + mergeHz) * elapsedMs) / 1000 + rules.ticksPerMessage;
  const overshoot = input.lamport - expectedPosition;
  const { expected, bound } = dynamicCausalBound(hz, input.latencyMs, rules.maxJump);
  const moved = { lamport: input.lamport, at, arrivedAt: input.now };
  // The first message ever sets the baseline: a coordinator that has never heard of the peer has no
  // basis to call its clock a jump (its absorption is bounded all the same).
  const firstContact = standing.lamport === null;
  if (!firstContact && overshoot > bound) {
    const reason =
      `Lamport jump ${Math.round(overshoot)} exceeds dynamic causal bound ${bound.toFixed(0)} ` +
      `(expected ${expected.toFixed(2)} ticks)`;
    return {
      standing: { ...standing, ...moved, quarantine: reason, healthyStreak: 0, driftExcess: 0 },
      verdict: { kind: "jump", reason, excess: overshoot, bound },
      overshootTicks: overshoot,
      drift: null,
    };
  }

  const streak = standing.healthyStreak + 1;
  const lifted = standing.quarantine !== null && streak >= rules.healthyStreak;
  const accepted: PeerStanding = {
    ...standing,
    ...moved,
    quarantine: lifted ? null : standing.quarantine,
    healthyStreak: streak,
  };
  const verdict = (s: PeerStanding): ClockVerdict => ({
    kind: "accept",
    lifted,
    absorbStep: s.quarantine === null && s.drift === null ? bound : null,
  });
  // A new session (or a first contact) starts a new drift interval; its clock says nothing about rate.
  if (firstContact || input.kind === "hello") {
    const next = { ...accepted, driftExcess: 0 };
    return { standing: next, verdict: verdict(next), overshootTicks: firstContact ? 0 : overshoot, drift: null };
  }
  const excess = standing.driftExcess + overshoot;
  if (input.kind !== "summary") {
    const next = { ...accepted, driftExcess: excess };
    return { standing: next, verdict: verdict(next), overshootTicks: overshoot, drift: null };
  }

  // One summary interval ends here: judge it, then start the next.
  const budget = rules.maxCausalOvershoot * Math.max((hz * input.latencyMs) / 1000, 1);
  const violating = excess > budget;
  const next = driftHysteresis(standing, violating, rules);
  const reason = next.flagged
    ? (standing.drift ??
      `sustained Lamport overshoot: ${Math.round(excess)} ticks beyond tokenHz ${hz} in one summary interval ` +
        `exceeds latency budget ${budget.toFixed(2)} ticks, sustained over ${rules.driftFlagAfter}+ summaries`)
    : null;
  const judged = { ...accepted, drift: reason, driftStreak: next.streak, driftExcess: 0 };
  return {
    standing: judged,
    verdict: verdict(judged),
    overshootTicks: overshoot,
    drift: next.flagged === (standing.drift !== null) ? null : next.flagged ? "flagged" : "cleared",
  };
}

/**
 * The message's time in the peer's frame and the time elapsed since the baseline. A summary's own
 * timestamp is clamped to [baseline, arrival + slack]; a message without one (or the first summary
 * after a hello, when the frame is unknown) is measured by arrival gaps.
 */
function peerTime(standing: PeerStanding, input: PeerClockInput, slackMs: number): { at: number | null; elapsedMs: number } {
  const arrivalGap = standing.arrivedAt === null ? 0 : Math.max(0, input.now - standing.arrivedAt);
  const latest = input.now + slackMs;
  if (input.kind === "hello") return { at: null, elapsedMs: arrivalGap };
  if (input.kind === "summary" && input.sentAt !== null && Number.isFinite(input.sentAt)) {
    if (standing.at === null) return { at: Math.min(input.sentAt, latest), elapsedMs: arrivalGap };
    const at = clamp(input.sentAt, standing.at, Math.max(standing.at, latest));
    return { at, elapsedMs: at - standing.at };
  }
  return { at: standing.at === null ? null : standing.at + arrivalGap, elapsedMs: arrivalGap };
}

/**
 * A leaky count towards flipping the drift state: +1 for a summary pointing away from it (violating
 * while clear, clean while flagged), −1 (never below 0) for one agreeing with it. Flagged at
 * `driftFlagAfter`, cleared at `driftClearAfter`. Leaky rather than strictly "in a row": a drifter's
 * excess is measured against the fleet clock, which other agents' honest progress sometimes lifts
 * above it for one interval; isolated outliers of an honest agent still never add up.
 */
function driftHysteresis(standing: PeerStanding, violating: boolean, rules: StandingRules): { flagged: boolean; streak: number } {
  const flagged = standing.drift !== null;
  const towardsFlip = violating !== flagged;
  const streak = towardsFlip ? standing.driftStreak + 1 : Math.max(0, standing.driftStreak - 1);
  const needed = flagged ? rules.driftClearAfter : rules.driftFlagAfter;
  return streak >= needed ? { flagged: !flagged, streak: 0 } : { flagged, streak };
}
