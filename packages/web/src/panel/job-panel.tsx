import type { RunJson } from "@causeway/protocol";
import { call } from "../api.js";
import { can } from "../roles.js";
import { useSession } from "../session.js";
import { useSlice } from "../store.js";
import { span, when } from "../status.js";
import { ActionButton, Link, ProblemView, StateBadge, useFetched } from "../ui.js";
import { InputsSection, RunForm } from "./job-actions.js";
import { RunActions } from "./run-actions.js";

/** A job's panel: run it, pause it, its inputs and pins, runs, explain records and state files. */
export function JobPanel({ job }: { readonly job: string }) {
  const session = useSession();
  const tick = useSlice((s) => s.ticks[job] ?? 0);
  const paused = useSlice((s) => s.graph?.nodes[job]?.paused === true);
  const key = `${job}|${tick}`;
  const runs = useFetched((signal) => call("runs", { query: { job, limit: 20 } }, { signal }), key);
  const why = useFetched((signal) => call("why", { params: { job } }, { signal }), key);
  const state = useFetched((signal) => call("state", { params: { job } }, { signal }), key);
  return (
    <>
      <section className="panel-actions" aria-label="job actions">
        {can(session, "trigger") ? <RunForm job={job} latest={runs.value?.[0]} /> : null}
        {can(session, paused ? "resume" : "pause") ? (
          <ActionButton
            key={paused ? "resume" : "pause"}
            label={paused ? "Resume" : "Pause"}
            testId={paused ? "resume" : "pause"}
            done={paused ? "resumed" : "paused"}
            action={() => call(paused ? "resume" : "pause", { params: { job } })}
          />
        ) : null}
      </section>
      <InputsSection job={job} canPin={can(session, "pin")} />
      <section aria-label="runs">
        <h3>Runs</h3>
        {runs.problem !== null ? <ProblemView problem={runs.problem} /> : null}
        {runs.value?.length === 0 ? <p className="muted">Never run.</p> : null}
        <ul className="runs">
          {(runs.value ?? []).map((run) => (
            <RunRow key={run.id} run={run} />
          ))}
        </ul>
      </section>
      <section aria-label="explain records">
        <h3>Why</h3>
        {why.problem !== null ? <ProblemView problem={why.problem} /> : null}
        {why.value !== undefined && !why.value.consistent ? (
          <p className="problem">This job is inconsistent: the applied line has an error about it.</p>
        ) : null}
        <ul className="explains">
          {(why.value?.explains ?? []).slice(0, 15).map((e) => (
            <li key={e.id}>
              <span className="muted">{when(e.at)}</span> <strong>{e.outcome}</strong> on {e.event}
              {e.runNumber !== null ? ` (#${e.runNumber})` : ""}
              {e.message !== "" ? `: ${e.message}` : ""}
            </li>
          ))}
        </ul>
      </section>
      <section aria-label="state files">
        <h3>State</h3>
        {state.problem !== null ? <ProblemView problem={state.problem} /> : null}
        {state.value?.files.length === 0 ? <p className="muted">No state files.</p> : null}
        <ul>
          {(state.value?.files ?? []).map((f) => (
            <li key={f.path}>
              <code>{f.path}</code> <span className="muted">{f.size} bytes</span>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function RunRow({ run }: { readonly run: RunJson }) {
  return (
    <li className="run-row" data-run={run.id} data-status={run.status}>
      <div>
        <Link to={`/runs/${run.id}`}>#{run.number}</Link> <StateBadge state={run.status} testId="run-status" />{" "}
        <span className="muted">
          {run.trigger.kind} by {run.trigger.by} · {span(run.startedAt, run.finishedAt) || when(run.createdAt)}
        </span>
      </div>
      {run.inputs.length > 0 ? (
        <div className="muted small">
          {run.inputs
            .map(
              (i) => `${i.name}${i.versionNumber === null ? "" : ` v${i.versionNumber}`}${i.pinned ? " (pinned)" : ""}`,
            )
            .join(", ")}
        </div>
      ) : null}
      <RunActions run={run} />
    </li>
  );
}
