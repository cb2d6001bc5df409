import { ReactFlowProvider } from "@xyflow/react";
import { useMemo } from "react";
import { SidePanel } from "../panel/side-panel.js";
import { can } from "../roles.js";
import { useSession } from "../session.js";
import { graphQuery } from "../url.js";
import { ApplyBanner } from "../pages/applies.js";
import { FlowPicker, FlowRuns, useFlowRuns } from "./flow.js";
import { GraphCanvas } from "./graph-canvas.js";
import { FlagFilter, SearchBox } from "./toolbar.js";

/** The graph page: toolbar, canvas, and the panel of the selected node. */
export function GraphPage({ search }: { readonly search: string }) {
  const query = useMemo(() => graphQuery(search), [search]);
  const flow = useFlowRuns(query.flow);
  const session = useSession();
  return (
    <ReactFlowProvider>
      {can(session, "applies") ? <ApplyBanner /> : null}
      <div className="graph-toolbar" role="toolbar" aria-label="graph tools">
        <SearchBox query={query} />
        <FlagFilter query={query} />
        <FlowPicker query={query} />
      </div>
      <div className="graph-main">
        <GraphCanvas query={query} flowRuns={flow.runs} />
        <FlowRuns query={query} runs={flow.runs} problem={flow.problem} />
        {query.select !== null ? <SidePanel name={query.select} query={query} /> : null}
      </div>
    </ReactFlowProvider>
  );
}
