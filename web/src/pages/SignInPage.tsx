/** Sign in with an API token; the server keeps it in an HttpOnly cookie from then on. */
import { useState } from "preact/hooks";
import { ApiError } from "../api/http";
import { signIn, type Session } from "../api/session";

export function SignInPage(props: { next: string; required: boolean; onSignedIn: (session: Session, next: string) => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      const session = await signIn(token.trim());
      setToken("");
      props.onSignedIn(session, props.next);
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? "That token is not valid (unknown, revoked or expired)."
          : caught instanceof Error
            ? caught.message
            : String(caught),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="signin" aria-labelledby="signin-title">
      <form class="card signin-card" onSubmit={submit} data-testid="signin-form">
        <h1 id="signin-title">Sign in to runyard</h1>
        <p class="muted">
          {props.required ? (
            <>
              This server requires an API token. Create one with <code>runyard token create</code> and paste it here.
            </>
          ) : (
            "This server does not require a token; signing in changes nothing."
          )}
        </p>
        <label class="field">
          <span>API token</span>
          <input
            type="password"
            name="token"
            autoComplete="off"
            required
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
        </label>
        {error ? (
          <p class="note note-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="btn btn-primary" disabled={busy || token.trim() === ""}>
          Sign in
        </button>
      </form>
    </section>
  );
}
