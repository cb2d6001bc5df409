import type { ResourceDef } from "@causeway/core";
import type { Engine } from "@causeway/engine";
import type { Logger } from "../logger.js";
import {
  SYSTEM_TIMERS,
  type SourceSink,
  type SourceTimers,
  type SourceWatch,
  type VersionSource,
} from "./version-source.js";

/** Options of `startVersionSources`. */
export interface VersionSourcesOptions {
  readonly engine: Engine;
  readonly sources: readonly VersionSource[];
  readonly logger: Logger;
  /** Default: the real clock and Node's timers. */
  readonly timers?: SourceTimers;
}

/** The running version sources of a server. */
export interface VersionSources {
  /** The watches running now: resource name -> names of the sources watching it. */
  watched(): ReadonlyMap<string, readonly string[]>;
  /**
   * Starts, restarts and stops watches to match the engine's definitions now. Done on its own
   * at start and after every change of a resource's definition (the engine's `definition`
   * events); exposed for tests.
   */
  reconcile(): void;
  /** Stops every watch and waits for them; nothing is recorded after it resolves. */
  stop(): Promise<void>;
}

interface Running {
  readonly source: VersionSource;
  readonly resource: string;
  readonly key: string;
  /** Set once the source has started the watch (the sink is made first: the watch needs it). */
  watch: SourceWatch;
  /** Set when the watch is stopped: a record after it is refused. */
  stopped: boolean;
}

/**
 * Runs every version source against the applied line: one watch per (source, resource) the
 * source watches, reconciled with the engine's definitions after every apply (a resource added
 * gets a watch, one whose watched part changed gets a new one, one removed or changed beyond
 * the source's interest loses it). Every version goes through `Engine.putVersion` with the
 * source's key, so a watch restarted, or a server restarted, never records one twice.
 */
export function startVersionSources(options: VersionSourcesOptions): VersionSources {
  const { engine, sources, logger } = options;
  const timers = options.timers ?? SYSTEM_TIMERS;
  const running = new Map<string, Running>();
  const stopping = new Set<Promise<void>>();
  let closed = false;
  let scheduled = false;
  let stopped: Promise<void> | undefined;

  const end = (entry: Running): void => {
    entry.stopped = true;
    const done = entry.watch.stop().catch((error: unknown) => {
      logger.error(`${entry.source.name}: stopping the watch of ${entry.resource} failed`, error);
    });
    stopping.add(done);
    void done.finally(() => stopping.delete(done));
  };

  const start = (source: VersionSource, resource: string, key: string, def: ResourceDef): Running => {
    const entry: Running = { source, resource, key, watch: { stop: () => Promise.resolve() }, stopped: false };
    const sink: SourceSink = {
      resource,
      latest: () => engine.view.latestVersion(resource),
      record: async (data, deliveryKey, recordOptions) => {
        if (entry.stopped || closed) throw new Error(`the watch of ${resource} by ${source.name} is stopped`);
        return engine.putVersion(resource, { ...data }, source.createdBy, {
          key: deliveryKey,
          ...(recordOptions?.trigger === false ? { trigger: false } : {}),
        });
      },
      timers,
      logger,
    };
    try {
      entry.watch = source.watch(def, sink);
    } catch (error) {
      // A source that breaks its contract costs its own watch, never the others.
      logger.error(`${source.name}: cannot watch ${resource}`, error);
    }
    return entry;
  };

  const reconcile = (): void => {
    if (closed) return;
    const wanted = new Set<string>();
    for (const entry of engine.view.objects()) {
      if (entry.kind !== "resource") continue;
      const name = entry.name;
      for (const source of sources) {
        const key = source.watchKey(entry.def);
        if (key === undefined) continue;
        const id = `${source.name}\0${name}`;
        wanted.add(id);
        const current = running.get(id);
        if (current?.key === key) continue;
        if (current !== undefined) end(current);
        running.set(id, start(source, name, key, entry.def));
      }
    }
    for (const [id, entry] of running) {
      if (wanted.has(id)) continue;
      running.delete(id);
      end(entry);
    }
  };

  // A whole apply's events arrive in one synchronous burst after its commit: one reconcile.
  const unsubscribe = engine.subscribe((event) => {
    if (event.type !== "definition" || event.payload.kind !== "resource" || scheduled || closed) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      reconcile();
    });
  });
  reconcile();

  return {
    watched() {
      const map = new Map<string, string[]>();
      for (const entry of running.values())
        map.set(entry.resource, [...(map.get(entry.resource) ?? []), entry.source.name]);
      return map;
    },
    reconcile,
    stop() {
      return (stopped ??= (async () => {
        closed = true;
        unsubscribe();
        for (const entry of running.values()) end(entry);
        running.clear();
        while (stopping.size > 0) await Promise.all([...stopping]);
      })());
    },
  };
}
