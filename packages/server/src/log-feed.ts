import type { LogStore } from "@causeway/core";

/** A log store that also tells who is listening when a run's log grows. */
export interface LogFeed extends LogStore {
  /** Calls `listener` after each append to `runId`'s log; returns the unsubscribe. */
  watch(runId: number, listener: () => void): () => void;
}

/**
 * Wraps a LogStore so that log streams are woken by appends instead of re-reading the log on
 * a timer. The engine writes through the wrapper; readers see exactly the inner store.
 */
export function logFeed(inner: LogStore): LogFeed {
  const listeners = new Map<number, Set<() => void>>();
  return {
    async append(runId, chunk) {
      await inner.append(runId, chunk);
      for (const listener of listeners.get(runId) ?? []) {
        try {
          listener();
        } catch {
          // A listener's failure never fails the append.
        }
      }
    },
    create: (runId) => inner.create(runId),
    read: (runId, offset, options) => inner.read(runId, offset, options),
    size: (runId) => inner.size(runId),
    // Only on a restart, before any stream of the run is open.
    truncate: (runId, length) => inner.truncate(runId, length),
    close: (runId, written) => inner.close(runId, written),
    watch(runId, listener) {
      let set = listeners.get(runId);
      if (set === undefined) listeners.set(runId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(runId) === set) listeners.delete(runId);
      };
    },
  };
}

/** True when `logs` can wake log streams. */
export function isLogFeed(logs: LogStore): logs is LogFeed {
  return typeof (logs as Partial<LogFeed>).watch === "function";
}
