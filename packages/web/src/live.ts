import { EventSchema, type GraphJson } from "@causeway/protocol";
import { useEffect } from "react";
import { call, routeUrl } from "./api.js";
import { useSlice, type Store } from "./store.js";

// The live feed: one EventSource on /api/v1/events whose messages go through the reducer, and
// the graph fetched again whenever the reducer asks (a definition changed, the stream is back).

const RETRY_MS = 3000;

const POLL_MS = 10_000;

/**
 * Keeps one event stream open while mounted; a closed stream (server gone) is opened again.
 * Without it (`live` false: a session that may not read the stream), the graph is fetched again
 * every few seconds instead. An anonymous reader of a public server gets the stream, filtered by
 * the server to what it may see.
 */
export function useEventStream(store: Store, live: boolean): void {
  useEffect(() => {
    if (!live) {
      const poll = setInterval(() => store.dispatch({ type: "graph-wanted" }), POLL_MS);
      return () => clearInterval(poll);
    }
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const open = (): void => {
      source = new EventSource(routeUrl("events"));
      source.onopen = () => store.dispatch({ type: "connection", connection: "live" });
      source.onmessage = (message: MessageEvent<string>) => {
        const parsed = EventSchema.safeParse(safeJson(message.data));
        if (parsed.success) store.dispatch({ type: "event", event: parsed.data });
      };
      source.onerror = () => {
        if (stopped) return;
        store.dispatch({ type: "connection", connection: "reconnecting" });
        // EventSource retries by itself unless the answer was not a stream (a restarting server
        // may answer 502 or 503): then it is closed and opened again here.
        if (source?.readyState === EventSource.CLOSED) {
          source.close();
          retry = setTimeout(open, RETRY_MS);
        }
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [store, live]);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Fetches the graph at first and whenever the state asks for it again. */
export function useGraphFeed(store: Store, onError: (error: unknown) => void): void {
  const wanted = useSlice((s) => s.graphWanted);
  useEffect(() => {
    const abort = new AbortController();
    call("graph", undefined, { signal: abort.signal }).then(
      (graph: GraphJson) => store.dispatch({ type: "graph-loaded", graph }),
      (error: unknown) => {
        if (!abort.signal.aborted) onError(error);
      },
    );
    return () => abort.abort();
  }, [store, wanted, onError]);
}
