import { useState, type FormEvent } from "react";
import type { problemOf } from "./api.js";
import { ProblemView } from "./ui.js";

/** Asks for an API token and exchanges it for a session cookie. */
export function LoginForm(props: {
  readonly login: (token: string) => Promise<void>;
  readonly problem: ReturnType<typeof problemOf> | null;
}) {
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setBusy(true);
    void props.login(token.trim()).finally(() => setBusy(false));
  };
  return (
    <main className="login">
      <form onSubmit={submit} aria-label="log in" data-testid="login-form">
        <h1>Causeway</h1>
        <p>
          Log in with an API token (<code>causeway up</code> prints a link with one; <code>causeway token create</code>{" "}
          makes more).
        </p>
        <label className="field column">
          <span>API token</span>
          <input
            type="password"
            name="token"
            autoComplete="off"
            data-testid="login-token"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            required
            autoFocus
          />
        </label>
        <button
          type="submit"
          className="btn btn-primary"
          data-testid="login-submit"
          disabled={busy || token.trim() === ""}
        >
          Log in
        </button>
        {props.problem !== null ? <ProblemView problem={props.problem} /> : null}
      </form>
    </main>
  );
}
