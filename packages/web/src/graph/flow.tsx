import type { RunJson } from "@causeway/protocol";
import { call } from "../api.js";
import { useSlice } from "../store.js";
import { span } from "../status.js";
import { Link, ProblemView, StateBadge, useFetched } from "../ui.js";
import { graphHref, navigate, type GraphQuery } from "../url.js";

// The flow view: pick a flow (the chain of runs one change set off) and see which nodes its runs
// touched, with the list of those runs.

/** The flows of the latest runs, newest first. */
export function FlowPicker({ query }: { readonly query: GraphQuery }) {
  // New runs may start new flows: the list is read again when the picker is about to open, not
  // at each run (a burst of runs would fetch it once per run).
  const recent = useFetched((signal) => call("runs", { query: { limit: 200 } }, { signal }), "recent");
  const flows = [...new Set((recent.value ?? []).map((r) => r.flow))];
  return (
    <label className="field">
      <span>Flow</span>
      <select
        data-testid="flow-picker"
        onFocus={recent.reload}
        value={query.flow ?? ""}
        onChange={(e) => navigate(graphHref(query, { flow: e.target.value === "" ? null : e.target.value }))}
      >
        <option value="">none</option>
        {flows.map((f) => (
          <option key={f} value={f}>
            {f}
          </option>
        ))}
        {query.flow !== null && !flows.includes(query.flow) ? <option value={query.flow}>{query.flow}</option> : null}
      </select>
    </label>
  );
}

/** The runs of `flow` (refetched as events arrive about its runs). */
export function useFlowRuns(flow: string | null): {
  runs: RunJson[] | null;
  problem: ReturnType<typeof useFetched>["problem"];
} {
  const tick = useSlice((s) =>
    flow === null
      ? 0
      : Object.values(s.runs)
          .filter((r) => r.flow === flow)
          .map((r) => r.status)
          .join(),
  );
  const fetched = useFetched(
    (signal) => (flow === null ? Promise.resolve(null) : call("runs", { query: { flow, limit: 500 } }, { signal })),
    `${flow ?? ""}|${tick}`,
  );
  return { runs: flow === null ? null : (fetched.value ?? null), problem: fetched.problem };
}

/** The list of a flow's runs. */
export function FlowRuns(props: {
  readonly query: GraphQuery;
  readonly runs: RunJson[] | null;
  readonly problem: ReturnType<typeof useFetched>["problem"];
}) {
  const { query, runs, problem } = props;
  if (query.flow === null) return null;
  return (
    <section className="flow-runs" aria-label={`runs of flow ${query.flow}`} data-testid="flow-runs">
      <header>
        <strong>Flow {query.flow}</strong>
        <button type="button" className="btn btn-plain" onClick={() => navigate(graphHref(query, { flow: null }))}>
          close
        </button>
      </header>
      {problem !== null ? <ProblemView problem={problem} /> : null}
      <ul>
        {(runs ?? []).map((r) => (
          <li key={r.id} data-run={r.id}>
            <Link to={`/runs/${r.id}`}>
              {r.job} #{r.number}
            </Link>{" "}
            <StateBadge state={r.status} /> <span className="muted">{span(r.startedAt, r.finishedAt)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
