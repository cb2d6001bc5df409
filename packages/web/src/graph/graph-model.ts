import type { Edge, Node } from "@xyflow/react";

/** What a graph node of xyflow carries besides its name (the id): how it is shown now. */
export type CausewayNodeData = {
  readonly dim: boolean;
  readonly touched: boolean;
  readonly onOpen: (name: string) => void;
};
/** A graph node of xyflow. */
export type CausewayNode = Node<CausewayNodeData, "job" | "resource">;

/** What a graph edge carries: whether the flow view dims it. */
export type CausewayEdgeData = { readonly dim: boolean; readonly touched: boolean };
/** A graph edge of xyflow; its id is `<from>-><to>`. */
export type CausewayEdge = Edge<CausewayEdgeData, "causeway">;
