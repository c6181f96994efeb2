/**
 * Sign-in: the admin token is pasted once and exchanged for a session cookie. It is never stored:
 * the field is uncontrolled (no copy in component state) and emptied whatever the answer.
 */
import { useRef, useState } from "preact/hooks";
import { ApiError, describeError, signIn } from "../api/client.js";

export function SignInView() {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const onSubmit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const field = input.current;
    if (field === null || busy) return;
    const token = field.value.trim();
    field.value = "";
    if (token === "") {
      setError("Paste the admin token first.");
      field.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(token);
    } catch (e) {
      setError(e instanceof ApiError && e.code === "signin_failed" ? "That token was not accepted." : describeError(e));
      field.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" data-view="sign-in">
      <form class="card sign-in-card" onSubmit={(e) => void onSubmit(e)} aria-describedby="sign-in-help">
        <h1>
          <span class="brand-mark" aria-hidden="true" />
          BecomingONE fleet
        </h1>
        <p id="sign-in-help" class="muted">
          Paste the fleet's admin token. It is exchanged for a session that ends after 12 hours or when you
          sign out; the token itself is not kept by this page.
        </p>
        <label for="admin-token">Admin token</label>
        <input
          id="admin-token"
          name="admin-token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          autocapitalize="off"
          required
          ref={input}
          aria-invalid={error !== null}
          aria-errormessage={error !== null ? "sign-in-error" : undefined}
        />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p id="sign-in-error" class="error" role="alert" data-testid="sign-in-error">
          {error ?? ""}
        </p>
      </form>
    </main>
  );
}
