/**
 * The audit's steps: stable names in the order they run (docs/agent.md, `becomingone-agent audit`),
 * what each depends on, and the report they make. A step whose dependency did not pass is skipped,
 * never run on unverified inputs.
 */

export const AUDIT_STEPS = [
  "global-checkpoint",
  "witnesses",
  "consistency",
  "record",
  "global-inclusion",
  "key",
  "device-signature",
  "agent-checkpoint",
  "agent-inclusion",
  "agent-checkpoint-entry",
] as const;

export type AuditStepName = (typeof AUDIT_STEPS)[number];

/** What each step needs to have passed before it runs. */
export const STEP_DEPENDS_ON: Readonly<Record<AuditStepName, readonly AuditStepName[]>> = {
  "global-checkpoint": [],
  witnesses: ["global-checkpoint"],
  consistency: ["global-checkpoint"],
  record: ["global-checkpoint"],
  "global-inclusion": ["record", "witnesses"],
  key: ["record", "witnesses"],
  "device-signature": ["record", "key"],
  "agent-checkpoint": ["record", "key", "witnesses"],
  "agent-inclusion": ["record", "agent-checkpoint"],
  "agent-checkpoint-entry": ["agent-checkpoint", "witnesses"],
};

export type AuditStatus = "ok" | "failed" | "skipped";

/** Facts a step established (sizes, indices, base64 hashes), for `--json` and for people. */
export type StepDetail = Readonly<Record<string, string | number | boolean>>;

export interface AuditStep {
  readonly step: AuditStepName;
  readonly status: AuditStatus;
  /** Why it failed or was skipped; for an ok step, a one-line summary. */
  readonly reason: string;
  readonly detail?: StepDetail;
}

/** A step's failure: thrown inside a step, recorded as `failed` with its reason. */
export class AuditFailure extends Error {
  override readonly name = "AuditFailure";
  constructor(
    message: string,
    readonly detail?: StepDetail,
  ) {
    super(message);
  }
}

/** The checkpoint a monitor keeps between runs (monitor-state.ts). */
export interface KeptCheckpoint {
  readonly origin: string;
  readonly size: number;
  /** Standard base64 of the 32-byte root. */
  readonly root: string;
  /** The signed note exactly as the edge served it (re-verified on every run). */
  readonly note: string;
}

export interface AuditReport {
  /** True when no step failed. */
  readonly ok: boolean;
  readonly steps: readonly AuditStep[];
  /** The first failed step, if any. */
  readonly failure?: { readonly step: AuditStepName; readonly reason: string };
  /** In monitor mode, the checkpoint to keep next (only when `consistency` passed). */
  readonly keep?: KeptCheckpoint;
}
