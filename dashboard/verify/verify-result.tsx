/** The result element of a verification (data-testid="verify-result", data-ok, the reason as text). */
import type { VerifyOutcome } from "./inclusion.js";

export function VerifyResult({ outcome }: { outcome: VerifyOutcome | "checking" | null }) {
  if (outcome === null) return null;
  if (outcome === "checking") {
    return (
      <p class="verify-result" role="status">
        checking…
      </p>
    );
  }
  return (
    <p class="verify-result" data-testid="verify-result" data-ok={outcome.ok ? "true" : "false"} role="status">
      {outcome.ok ? "✓ verified: " : "✗ failed: "}
      {outcome.reason}
    </p>
  );
}
