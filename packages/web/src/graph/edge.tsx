import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from "@xyflow/react";
import { memo } from "react";
import { useSlice } from "../store.js";
import type { CausewayEdge } from "./graph-model.js";
import { PinIcon } from "../icons.js";

// An edge of the graph: dotted when its input is switched off, a pin and the version when the
// input is pinned, a `newer` badge when a version newer than the job's last is waiting.

function EdgeView(props: EdgeProps<CausewayEdge>) {
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data } = props;
  const edge = useSlice((s) => s.graph?.edgeById[id]);
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const switchOff = edge?.switchOff === true;
  const pinned = edge?.pinned ?? null;
  const newer = edge?.newer === true;
  return (
    <g
      className={`gedge${switchOff ? " switch-off" : ""}${data?.dim === true ? " dim" : ""}${data?.touched === true ? " touched" : ""}`}
      data-edge={id}
      data-step={edge?.step}
      data-switch-off={switchOff ? "true" : undefined}
      data-pinned={pinned ?? undefined}
      data-newer={newer ? "true" : undefined}
    >
      <BaseEdge id={id} path={path} {...(switchOff ? { style: { strokeDasharray: "2 5" } } : {})} />
      {pinned !== null || newer ? (
        <EdgeLabelRenderer>
          <div
            className="gedge-label nodrag nopan"
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
            data-edge-label={id}
          >
            {pinned !== null ? (
              <span className="pin" title={`pinned to version ${pinned}`}>
                <PinIcon /> v{pinned}
              </span>
            ) : null}
            {newer ? (
              <span className="newer" data-testid="newer" title="a newer version is waiting for the next run">
                newer
              </span>
            ) : null}
          </div>
        </EdgeLabelRenderer>
      ) : null}
    </g>
  );
}

/** The graph's edge types. */
export const EDGE_TYPES = { causeway: memo(EdgeView) };
