import type { NodeState } from "@causeway/protocol";
import { useCallback, useEffect, useState, type MouseEvent, type ReactNode } from "react";
import { problemOf } from "./api.js";
import { STATE_LOOK } from "./status.js";
import { navigate } from "./url.js";

// Small shared pieces: a state badge, an inline problem, a fetched value, an action button with
// its inline result, a link that navigates inside the app.

type Problem = ReturnType<typeof problemOf>;

/** A state as an icon and a word, coloured by its tone. */
export function StateBadge({ state, testId }: { readonly state: NodeState; readonly testId?: string }) {
  const look = STATE_LOOK[state];
  return (
    <span className={`badge tone-${look.tone}`} data-state={state} data-testid={testId}>
      <span aria-hidden="true">{look.icon}</span> {look.label}
    </span>
  );
}

/** An error as the server gave it: code, message and hint. */
export function ProblemView({ problem }: { readonly problem: Problem }) {
  return (
    <div className="problem" role="alert" data-testid="problem" data-code={problem.code}>
      <code>{problem.code}</code> {problem.message}
      {problem.hint === undefined ? null : <div className="hint">hint: {problem.hint}</div>}
    </div>
  );
}

/** What a fetch gave: its value, or its problem, and how to fetch again. */
export interface Fetched<T> {
  readonly value: T | undefined;
  readonly problem: Problem | null;
  readonly reload: () => void;
}

/** Fetches with `load` whenever `key` changes (or reload is called). */
export function useFetched<T>(load: (signal: AbortSignal) => Promise<T>, key: string): Fetched<T> {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    load(abort.signal).then(
      (v) => {
        setValue(v);
        setProblem(null);
      },
      (error: unknown) => {
        if (!abort.signal.aborted) setProblem(problemOf(error));
      },
    );
    return () => abort.abort();
    // `load` is a new closure each render; `key` says when its inputs changed.
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { value, problem, reload };
}

/** A button that runs an action and shows its result or error inline. */
export function ActionButton(props: {
  readonly label: string;
  readonly action: () => Promise<unknown>;
  readonly done?: string;
  readonly testId?: string;
  readonly disabled?: boolean;
  readonly kind?: "primary" | "danger" | "plain";
  readonly onDone?: () => void;
}) {
  const [state, setState] = useState<
    | { readonly s: "idle" }
    | { readonly s: "busy" }
    | { readonly s: "ok" }
    | { readonly s: "failed"; readonly p: Problem }
  >({ s: "idle" });
  const run = (): void => {
    setState({ s: "busy" });
    props.action().then(
      () => {
        setState({ s: "ok" });
        props.onDone?.();
      },
      (error: unknown) => setState({ s: "failed", p: problemOf(error) }),
    );
  };
  return (
    <span className="action">
      <button
        type="button"
        className={`btn btn-${props.kind ?? "plain"}`}
        data-testid={props.testId}
        disabled={props.disabled === true || state.s === "busy"}
        onClick={run}
      >
        {props.label}
      </button>
      {state.s === "ok" ? (
        <span className="ok" role="status">
          {props.done ?? "done"}
        </span>
      ) : null}
      {state.s === "failed" ? <ProblemView problem={state.p} /> : null}
    </span>
  );
}

/** A link inside the app (no page load). */
export function Link(props: { readonly to: string; readonly children: ReactNode; readonly className?: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>): void => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={props.to} onClick={onClick} className={props.className}>
      {props.children}
    </a>
  );
}
