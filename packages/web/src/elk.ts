import ELK from "elkjs/lib/elk-api.js";
import workerUrl from "elkjs/lib/elk-worker.min.js?url";
import type { ElkLike } from "./layout.js";

/** An ELK that lays out in its web worker (a separate asset), off the page's thread; `dispose` ends the worker. */
export function createElk(): ElkLike & { dispose(): void } {
  const elk = new ELK({ workerUrl });
  return { layout: (graph) => elk.layout(graph), dispose: () => elk.terminateWorker() };
}
