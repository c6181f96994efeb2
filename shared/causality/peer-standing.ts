import { dynamicCausalBound } from "./causal-bound.js";

/**
 * Per-peer causal hygiene, as the coordinator applies it to each agent (ENGINE.md §9, adapted to a
 * star topology; docs/edge.md explains the adaptation):
 *
 * - **Replay.** A clock ≤ the last accepted one from that peer is a replay: rejected, quarantined,
 *   and the baseline is NOT moved (a replayer cannot drag it down).
 * - **Causal jump.** A peer may be at most where it could causally be: max(its last accepted clock,
 *   the coordinator's clock, which bounds anything the peer has seen from us) plus its own progress
 *   since (tokenHz × elapsed time) plus the reference's dynamic bound min(max(16·expected, 32), 128)
 *   with expected = max(hz·latency/1000, 0.1). Beyond that: rejected and quarantined. Being slower than
 *   expected is not a violation (an idle agent's clock does not advance).
 *   The baseline does move to the jumped clock, so a peer that jumped once (a burst of input, a
 *   restored backup) can become healthy again instead of being measured forever against the old one.
 * - **Lift.** Quarantine is lifted after `healthyStreak` consecutive accepted messages.
 */
export interface PeerStanding {
  /** Last clock that moved the baseline, or null before the first message. */
  readonly lamport: number | null;
  /** When that happened, epoch ms (coordinator clock). */
  readonly at: number | null;
  /** Why the peer is quarantined, or null. */
  readonly quarantine: string | null;
  /** Consecutive accepted messages since the last violation. */
  readonly healthyStreak: number;
}

export const FRESH_STANDING: PeerStanding = { lamport: null, at: null, quarantine: null, healthyStreak: 0 };

export interface PeerClockInput {
  readonly lamport: number;
  /** The peer's declared token rate (its clock's expected rate), Hz; clamped to [0, maxTokenHz]. */
  readonly tokenHz: number;
  /** Coordinator time of receipt, epoch ms. */
  readonly now: number;
  /** The coordinator's Lamport clock before this message. */
  readonly localLamport: number;
  /** One-way latency the coordinator measured or assumes, ms. */
  readonly latencyMs: number;
}

export interface StandingRules {
  /** Accepted messages in a row that lift a quarantine. */
  readonly healthyStreak: number;
  /** Rates above this are not believed. */
  readonly maxTokenHz: number;
  readonly maxJump: number;
}

export const DEFAULT_STANDING_RULES: StandingRules = { healthyStreak: 3, maxTokenHz: 100, maxJump: 128 };

export type ClockVerdict =
  | { readonly kind: "accept"; readonly lifted: boolean }
  | { readonly kind: "replay" | "jump"; readonly reason: string; readonly excess: number; readonly bound: number };

export interface StandingUpdate {
  readonly standing: PeerStanding;
  readonly verdict: ClockVerdict;
  /** Ticks beyond the causally expected position (≤ 0 when on time or behind); drift analysis input. */
  readonly overshootTicks: number;
}

/** Applies one message's clock to a peer's standing. Pure. */
export function assessPeerClock(
  standing: PeerStanding,
  input: PeerClockInput,
  rules: StandingRules = DEFAULT_STANDING_RULES,
): StandingUpdate {
  const hz = Math.min(Math.max(Number.isFinite(input.tokenHz) ? input.tokenHz : 0, 0), rules.maxTokenHz);
  if (standing.lamport !== null && input.lamport <= standing.lamport) {
    const reason = `non-monotonic Lamport replay: clock ${input.lamport} ≤ last accepted ${standing.lamport}`;
    return {
      standing: { ...standing, quarantine: reason, healthyStreak: 0 },
      verdict: { kind: "replay", reason, excess: standing.lamport - input.lamport, bound: 0 },
      overshootTicks: 0,
    };
  }
  const elapsedMs = standing.at === null ? 0 : Math.max(0, input.now - standing.at);
  const base = Math.max(standing.lamport ?? 0, input.localLamport);
  const expectedPosition = base + (hz * elapsedMs) / 1000;
  const overshoot = input.lamport - expectedPosition;
  const { expected, bound } = dynamicCausalBound(hz, input.latencyMs, rules.maxJump);
  // The first message ever sets the baseline: an agent's clock survives its restarts, so a fresh
  // coordinator has no basis to call it a jump.
  if (standing.lamport !== null && overshoot > bound) {
    const reason =
      `Lamport jump ${Math.round(overshoot)} exceeds dynamic causal bound ${bound.toFixed(0)} ` +
      `(expected ${expected.toFixed(2)} ticks)`;
    return {
      standing: { lamport: input.lamport, at: input.now, quarantine: reason, healthyStreak: 0 },
      verdict: { kind: "jump", reason, excess: overshoot, bound },
      overshootTicks: overshoot,
    };
  }
  const streak = standing.healthyStreak + 1;
  const lift = standing.quarantine !== null && streak >= rules.healthyStreak;
  return {
    standing: {
      lamport: input.lamport,
      at: input.now,
      quarantine: lift ? null : standing.quarantine,
      healthyStreak: streak,
    },
    verdict: { kind: "accept", lifted: lift },
    overshootTicks: standing.lamport === null ? 0 : overshoot,
  };
}
