import type { TraceJson } from "@causeway/protocol";
import { useState } from "react";
import { call } from "../api.js";
import { useSlice } from "../store.js";
import { when } from "../status.js";
import { Link, ProblemView, useFetched } from "../ui.js";

/** A resource's versions with their data, and a version's trace as a tree. */
export function ResourcePanel({ name }: { readonly name: string }) {
  const tick = useSlice((s) => s.ticks[name] ?? 0);
  const versions = useFetched(
    (signal) => call("versions", { params: { name }, query: { limit: 20 } }, { signal }),
    `${name}|${tick}`,
  );
  const [traced, setTraced] = useState<number | null>(null);
  return (
    <section aria-label="versions">
      <h3>Versions</h3>
      {versions.problem !== null ? <ProblemView problem={versions.problem} /> : null}
      {versions.value?.length === 0 ? <p className="muted">No version yet.</p> : null}
      <ul className="versions">
        {(versions.value ?? []).map((v) => (
          <li key={v.id} data-version={v.versionNumber}>
            <div>
              <strong>v{v.versionNumber}</strong> <code>{v.versionName}</code>{" "}
              <span className="muted">
                {when(v.createdAt)} by{" "}
                {v.run === null ? (
                  v.createdBy
                ) : (
                  <Link to={`/runs/${v.runId ?? ""}`}>{`${v.run.job} #${v.run.number}`}</Link>
                )}
              </span>{" "}
              <button
                type="button"
                className="btn btn-plain"
                aria-expanded={traced === v.versionNumber}
                onClick={() => setTraced(traced === v.versionNumber ? null : v.versionNumber)}
              >
                trace
              </button>
            </div>
            {Object.keys(v.propertyBag).length > 0 ? (
              <pre className="data">{JSON.stringify(v.propertyBag, null, 2)}</pre>
            ) : null}
            {traced === v.versionNumber ? <Trace name={name} versionNumber={v.versionNumber} /> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Trace({ name, versionNumber }: { readonly name: string; readonly versionNumber: number }) {
  const trace = useFetched(
    (signal) => call("trace", { params: { name }, query: { versionNumber } }, { signal }),
    `${name}@${versionNumber}`,
  );
  if (trace.problem !== null) return <ProblemView problem={trace.problem} />;
  if (trace.value === undefined) return <p className="muted">Loading…</p>;
  return <TraceTree trace={trace.value} />;
}

/** A trace's entries as a tree: each entry indented by its depth. */
export function TraceTree({ trace }: { readonly trace: TraceJson }) {
  return (
    <ul className="trace" role="tree" aria-label={`trace of ${trace.version.versionName}`}>
      {trace.entries.map((e, i) => (
        <li key={i} role="treeitem" aria-level={e.depth + 1} style={{ paddingLeft: `${e.depth * 1.1}rem` }}>
          {e.depth > 0 ? <span aria-hidden="true">└ </span> : null}
          <strong>{e.name}</strong> v{e.versionNumber} <code>{e.versionName}</code>{" "}
          {e.run !== null && e.runId !== null ? (
            <Link to={`/runs/${e.runId}`}>{`${e.run.job} #${e.run.number}`}</Link>
          ) : (
            <span className="muted">{e.createdBy}</span>
          )}
        </li>
      ))}
    </ul>
  );
}
