import type { RunJson } from "@causeway/protocol";
import { call, routeUrl } from "../api.js";
import { RunActions } from "../panel/run-actions.js";
import { useSlice, useStore } from "../store.js";
import { isActive, span, when } from "../status.js";
import { Link, ProblemView, StateBadge, useFetched } from "../ui.js";
import { ConsoleView } from "./console-view.js";
import { useLogStream } from "./log-stream.js";
import { PinIcon } from "../icons.js";

/** The page of run `id`: header, inputs, outputs, console (live while the run is active). */
export function RunPage({ id }: { readonly id: number }) {
  const status = useSlice((s) => s.runs[id]?.status);
  const fetched = useFetched((signal) => call("run", { params: { id } }, { signal }), `${id}|${status ?? ""}`);
  const log = useLogStream(id);
  const run = log.endRun ?? fetched.value;
  if (fetched.problem !== null) return <ProblemView problem={fetched.problem} />;
  if (run === undefined) return <p className="muted">Loading run {id}…</p>;
  return (
    <div className="run-page" data-testid="run-page" data-run={run.id} data-status={run.status}>
      <RunHeader run={run} />
      <RunActions run={run} />
      <div className="run-columns">
        <section aria-label="inputs">
          <h3>Inputs</h3>
          {run.inputs.length === 0 ? <p className="muted">None.</p> : null}
          <ul>
            {run.inputs.map((i) => (
              <li key={i.name} data-input={i.name}>
                <Link to={`/?select=${encodeURIComponent(i.name)}`}>{i.name}</Link>{" "}
                {i.versionNumber === null ? <span className="muted">no version</span> : <>v{i.versionNumber}</>}{" "}
                {i.versionName === null ? null : <code>{i.versionName}</code>}{" "}
                {i.pinned ? (
                  <span className="pin">
                    <PinIcon /> pinned
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
          {Object.keys(run.params).length > 0 ? (
            <>
              <h3>Params</h3>
              <pre className="data">
                {Object.entries(run.params)
                  .map(([k, v]) => `${k}=${v}`)
                  .join("\n")}
              </pre>
            </>
          ) : null}
        </section>
        <Outputs run={run} />
      </div>
      <section aria-label="console">
        <h3>
          Console{" "}
          {isActive(run.status) && log.state === "streaming" ? (
            <span className="live" data-testid="console-live">
              ● live
            </span>
          ) : null}{" "}
          <a
            className="btn btn-plain"
            href={routeUrl("logs", { params: { id: run.id } })}
            download={`${run.job}-${run.number}.log`}
            data-testid="log-download"
          >
            download
          </a>
        </h3>
        {log.state === "broken" ? <p className="muted">The log is not available.</p> : null}
        <ConsoleView model={log.model} partial={log.partial} />
      </section>
    </div>
  );
}

function RunHeader({ run }: { readonly run: RunJson }) {
  return (
    <header className="run-header" data-testid="run-header">
      <h2>
        <Link to={`/?select=${encodeURIComponent(run.job)}`}>{run.job}</Link> #{run.number}{" "}
        <StateBadge state={run.status} testId="run-status" />
      </h2>
      <dl className="facts">
        <dt>trigger</dt>
        <dd>
          {run.trigger.kind} by {run.trigger.by}
          {run.rerunOf === null ? null : (
            <>
              {" "}
              (rerun of <Link to={`/runs/${run.rerunOf}`}>run {run.rerunOf}</Link>)
            </>
          )}
        </dd>
        <dt>flow</dt>
        <dd>
          <Link to={`/?flow=${encodeURIComponent(run.flow)}`}>{run.flow}</Link>
        </dd>
        <dt>created</dt>
        <dd>{when(run.createdAt)}</dd>
        <dt>started</dt>
        <dd>{when(run.startedAt) || "—"}</dd>
        <dt>finished</dt>
        <dd>{when(run.finishedAt) || "—"}</dd>
        <dt>duration</dt>
        <dd>{span(run.startedAt, run.finishedAt) || "—"}</dd>
        <dt>exit code</dt>
        <dd data-testid="run-exit-code">{run.exitCode ?? "—"}</dd>
        {run.statusReason === null ? null : (
          <>
            <dt>reason</dt>
            <dd>{run.statusReason}</dd>
          </>
        )}
      </dl>
    </header>
  );
}

/** The versions the run created: of what its job updates (OUT edges), those made by this run. */
function Outputs({ run }: { readonly run: RunJson }) {
  const store = useStore();
  const edges = useSlice((s) => s.graph?.edges);
  const outs = (edges ?? []).filter((e) => e.from === run.job && e.step === "OUT").map((e) => e.to);
  const names = [run.job, ...outs];
  const versions = useFetched(
    async (signal) => {
      const lists = await Promise.all(
        names.map((name) => call("versions", { params: { name }, query: { limit: 50 } }, { signal }).catch(() => [])),
      );
      return lists.flatMap((list, i) =>
        list.filter((v) => v.runId === run.id).map((v) => ({ name: names[i] ?? "", v })),
      );
    },
    `${run.id}|${run.status}|${names.join()}|${store.getState().graph === null ? 0 : 1}`,
  );
  return (
    <section aria-label="outputs">
      <h3>Outputs</h3>
      {versions.value?.length === 0 ? <p className="muted">No version.</p> : null}
      <ul>
        {(versions.value ?? []).map(({ name, v }) => (
          <li key={`${name}-${v.id}`}>
            <Link to={`/?select=${encodeURIComponent(name)}`}>{name}</Link> v{v.versionNumber}{" "}
            <code>{v.versionName}</code>
          </li>
        ))}
      </ul>
    </section>
  );
}
