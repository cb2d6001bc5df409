import { useSlice } from "../store.js";
import { StateBadge } from "../ui.js";
import { graphHref, navigate, type GraphQuery } from "../url.js";
import { JobPanel } from "./job-panel.js";
import { ResourcePanel } from "./resource-panel.js";

/** The panel of the selected job or resource. */
export function SidePanel({ name, query }: { readonly name: string; readonly query: GraphQuery }) {
  const node = useSlice((s) => s.graph?.nodes[name]);
  const close = (): void => navigate(graphHref(query, { select: null }));
  return (
    <aside className="side-panel" data-testid="panel" data-panel={name} aria-label={`${name} panel`}>
      <header className="panel-head">
        <h2>
          <span className="muted">{node?.kind ?? "object"}</span> {name}
        </h2>
        <button
          type="button"
          className="btn btn-plain"
          aria-label="close panel"
          data-testid="panel-close"
          onClick={close}
        >
          ✕
        </button>
      </header>
      {node === undefined ? (
        <p className="muted">No job or resource is named {name} in the applied line.</p>
      ) : (
        <>
          <p className="panel-sub">
            <StateBadge state={node.state} testId="panel-state" /> <span className="muted">{node.type}</span>
            {node.file === undefined ? null : <span className="muted"> · {node.file}</span>}
            {node.flags.length > 0 ? <span className="muted"> · flags: {node.flags.join(", ")}</span> : null}
          </p>
          {node.kind === "job" ? <JobPanel job={name} /> : <ResourcePanel name={name} />}
        </>
      )}
    </aside>
  );
}
