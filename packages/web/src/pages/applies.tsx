import type { ApplyRecordJson, ProblemJson } from "@causeway/protocol";
import { call } from "../api.js";
import { useSlice } from "../store.js";
import { when } from "../status.js";
import { Link, ProblemView, useFetched } from "../ui.js";
import { codeFrame } from "../code-frame.js";
import { Table } from "./table.js";

// The apply history: the latest apply's diagnostics as a banner over the graph, and a page.

function useApplies(limit: number) {
  // A definition change comes with an apply: fetch again when the graph is wanted again.
  const tick = useSlice((s) => s.graphWanted);
  return useFetched((signal) => call("applies", { query: { limit } }, { signal }), `${limit}|${tick}`);
}

/** A problem's code frame, drawn. */
function CodeFrame({ problem }: { readonly problem: ProblemJson }) {
  const rows = codeFrame(problem);
  return rows.length === 0 ? null : (
    <pre className="code-frame" data-testid="code-frame">
      {rows.join("\n")}
    </pre>
  );
}

function Problems({ record }: { readonly record: ApplyRecordJson }) {
  return (
    <ul className="diagnostics">
      {record.problems.map((p, i) => (
        <li key={i} data-code={p.code} data-severity={p.severity}>
          <code>
            {p.file}:{p.line}:{p.col}
          </code>{" "}
          <strong>{p.code}</strong> {p.message}
          <CodeFrame problem={p} />
        </li>
      ))}
      {record.errors > record.problems.length ? (
        <li className="muted">and {record.errors - record.problems.length} more</li>
      ) : null}
    </ul>
  );
}

/** The latest apply's errors over the graph, when it had any. */
export function ApplyBanner() {
  const applies = useApplies(1);
  const latest = applies.value?.[0];
  if (latest === undefined || (latest.errors === 0 && latest.files.every((f) => f.status === "loaded"))) return null;
  return (
    <div className="banner" role="alert" data-testid="apply-banner">
      <strong>
        The latest apply ({when(latest.at)}, {latest.source}) has {latest.errors} error{latest.errors === 1 ? "" : "s"}
      </strong>
      {latest.kept.length > 0 ? <span>; kept as they were: {latest.kept.join(", ")}</span> : null}.{" "}
      <Link to="/applies">details</Link>
      <Problems record={latest} />
    </div>
  );
}

/** The apply history. */
export function AppliesPage() {
  const applies = useApplies(50);
  return (
    <section className="page" aria-label="applies">
      <h2>Applies</h2>
      {applies.problem !== null ? <ProblemView problem={applies.problem} /> : null}
      <Table<ApplyRecordJson>
        label="applies"
        rows={applies.value}
        rowKey={(a) => a.id}
        empty="Nothing applied yet."
        columns={[
          { head: "When", cell: (a) => when(a.at) },
          { head: "Source", cell: (a) => `${a.source} by ${a.by}` },
          { head: "Changes", cell: (a) => `+${a.added.length} ~${a.changed.length} -${a.removed.length}` },
          {
            head: "Refused files",
            cell: (a) =>
              a.files
                .filter((f) => f.status === "refused")
                .map((f) => f.path)
                .join(", "),
          },
          { head: "Problems", cell: (a) => (a.errors + a.warnings === 0 ? "none" : <Problems record={a} />) },
        ]}
      />
    </section>
  );
}
