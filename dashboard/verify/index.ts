/**
 * Browser-side verification of the global log (issue 13), with the project's own shared/note,
 * shared/checkpoint and shared/log code: the same functions the CLI's verify-checkpoint and
 * verify-proof run.
 *
 * - `fetchAndVerifyEntry(index, { entry?, fleet? })`: fetch key, checkpoint, entry, proof → verdict.
 * - `fetchAndVerifyCheckpoint({ fleet? })`: the latest checkpoint's signature status.
 * - `verifyEntry({ keyText, checkpointNote, entry, proof })`, `verifyCheckpoint(keyText, note)`: pure.
 *
 * A verdict is `{ ok: true, steps, facts }` or `{ ok: false, step, reason, steps, facts }`; `reason` is
 * a sentence for the page, `steps` the checks that passed, `facts` the checkpoint, leaf hash and proof
 * length. Render with `<VerifyResult verdict=… />` (verify-result.tsx): data-testid="verify-result".
 */
export { verifyCheckpoint, keyLabel, type CheckpointVerdict, type VerifiedCheckpoint, type VerifyStep, type VerifyStepId } from "./verify-checkpoint.js";
export { verifyEntry, type EntryFacts, type EntryVerdict, type EntryVerifyInput } from "./verify-entry.js";
export { fetchAndVerifyCheckpoint, fetchAndVerifyEntry, type FetchedLogState, type LogFetchOptions } from "./fetch-verify.js";
export { readEntry, readInclusionProof, type EntryJson, type InclusionProofJson } from "./shapes.js";
