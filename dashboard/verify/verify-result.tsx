/**
 * Shows a verification verdict: the contract's `data-testid="verify-result"` element with
 * `data-ok="true|false"`, the reason in words, the steps that passed, and the facts (leaf hash,
 * proof path length, checkpoint). Announced politely to screen readers when it changes.
 */
import type { EntryVerdict } from "./verify-entry.js";

export interface VerifyResultProps {
  /** null while nothing was verified yet. */
  readonly verdict: EntryVerdict | null;
  /** True while the fetch and checks run. */
  readonly busy?: boolean;
}

export function VerifyResult({ verdict, busy = false }: VerifyResultProps) {
  if (busy) {
    return (
      <div class="verify-result pending" role="status" aria-live="polite" aria-busy="true">
        Verifying in the browser…
      </div>
    );
  }
  if (verdict === null) return null;
  const f = verdict.facts;
  return (
    <div class={verdict.ok ? "verify-result ok" : "verify-result failed"} data-testid="verify-result" data-ok={verdict.ok ? "true" : "false"} role="status" aria-live="polite">
      <p class="verify-headline">
        <span class="verify-mark" aria-hidden="true">
          {verdict.ok ? "✓" : "✗"}
        </span>
        {verdict.ok ? "Verified in this browser" : "Does not verify"}
      </p>
      <p class="verify-reason" data-testid="verify-reason" data-step={verdict.ok ? undefined : verdict.step}>
        {verdict.reason}
      </p>
      {verdict.steps.length > 0 ? (
        <ol class="verify-steps" aria-label={verdict.ok ? "Checks" : "Checks that passed"}>
          {verdict.steps.map((s) => (
            <li key={s.id} data-step={s.id}>
              {s.detail}
            </li>
          ))}
        </ol>
      ) : null}
      <dl class="verify-facts">
        {f.leafHashHex !== undefined ? (
          <>
            <dt>Leaf hash</dt>
            <dd>
              <code class="hash" data-testid="leaf-hash">
                {f.leafHashHex}
              </code>
            </dd>
          </>
        ) : null}
        {f.proofLength !== undefined ? (
          <>
            <dt>Proof path</dt>
            <dd data-testid="proof-length">
              {f.proofLength} {f.proofLength === 1 ? "hash" : "hashes"}
            </dd>
          </>
        ) : null}
        {f.checkpoint !== undefined ? (
          <>
            <dt>Against checkpoint</dt>
            <dd>
              size {f.checkpoint.size}, signed by <code>{f.checkpoint.signedBy}</code>
            </dd>
          </>
        ) : null}
      </dl>
    </div>
  );
}
