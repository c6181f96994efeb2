/** The audit of a record's whole proof chain (chain.ts), pure apart from an injected fetch. */
export { AUDIT_STEPS, STEP_DEPENDS_ON, AuditFailure, type AuditStepName, type AuditStatus, type AuditStep, type AuditReport, type KeptCheckpoint, type StepDetail } from "./audit-steps.js";
export { auditRecord, type AuditOptions, type AuditTarget } from "./chain.js";
export { EDGE_LIMITS, type FetchFunction } from "./edge-client.js";
export { keyValidAt, type LoggedKeyEvent, type KeyAtIndex } from "./key-validity.js";
export { MONITOR_STATE_VERSION, MonitorStateError, parseKeptState, formatKeptState, compareWithKept, type KeptComparison } from "./monitor-state.js";
export { parseWitnessKey, validCosigners, WitnessKeyError, type WitnessKey } from "./witness-keys.js";
