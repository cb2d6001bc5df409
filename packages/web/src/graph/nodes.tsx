import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo, type KeyboardEvent } from "react";
import { STATE_LOOK } from "../status.js";
import { useSlice } from "../store.js";
import type { CausewayNode } from "./graph-model.js";
import { PauseIcon } from "../icons.js";

// The graph's nodes: a job is a box, a resource a pill. Each reads its own node from the store,
// so an event about one node repaints that node only.

function GraphNodeView({ id, data, selected }: NodeProps<CausewayNode>) {
  const node = useSlice((s) => s.graph?.nodes[id]);
  if (node === undefined) return null;
  const look = STATE_LOOK[node.state];
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      data.onOpen(id);
    }
  };
  return (
    <div
      className={`gnode gnode-${node.kind} tone-${look.tone}${selected ? " selected" : ""}${data.dim ? " dim" : ""}`}
      data-node={node.name}
      data-kind={node.kind}
      data-state={node.state}
      data-paused={node.paused ? "true" : undefined}
      data-touched={data.touched ? "true" : undefined}
      tabIndex={0}
      role="button"
      aria-label={`${node.kind} ${node.name}: ${look.label}${node.paused ? ", paused" : ""}`}
      aria-pressed={selected}
      onKeyDown={onKeyDown}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} className="ghandle" />
      <div className="gnode-name" title={node.name}>
        {node.name}
      </div>
      <div className="gnode-meta">
        <span className="gnode-state">
          <span aria-hidden="true">{look.icon}</span> {look.label}
        </span>
        {node.kind === "job" && node.latestRun !== null ? (
          <span className="muted">#{node.latestRun.number}</span>
        ) : null}
        {node.kind === "resource" && node.latestVersion !== null ? (
          <span className="muted">v{node.latestVersion}</span>
        ) : null}
        {node.paused ? (
          <span className="paused" data-testid="paused">
            <PauseIcon /> paused
          </span>
        ) : null}
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} className="ghandle" />
    </div>
  );
}

/** Every node type of the graph (a job and a resource share one component; CSS tells them apart). */
export const NODE_TYPES = { job: memo(GraphNodeView), resource: memo(GraphNodeView) };
