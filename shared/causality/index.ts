/** Causal hygiene: Lamport clocks, the dynamic causal bound, per-peer standing (replay, jump, sustained drift) and the reference's drift analysis. */
export { LamportClock, absorbClock } from "./lamport-clock.js";
export { driftExcludes, fieldMembers } from "./field-membership.js";
export { admitSummary, type SummaryAdmission, type SummaryBucket, type SummaryRate } from "./summary-admission.js";
export { CAUSAL_RULES, dynamicCausalBound, type CausalBound } from "./causal-bound.js";
export {
  analyzeLamportDrift,
  couplingWeightFromDrift,
  DEFAULT_DRIFT_THRESHOLDS,
  type DriftNode,
  type DriftThresholds,
  type LamportDriftReport,
} from "./lamport-drift.js";
export {
  assessPeerClock,
  FRESH_STANDING,
  DEFAULT_STANDING_RULES,
  type PeerStanding,
  type PeerClockInput,
  type StandingRules,
  type ClockVerdict,
  type ClockMessageKind,
  type StandingUpdate,
} from "./peer-standing.js";
