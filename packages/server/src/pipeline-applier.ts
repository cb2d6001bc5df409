import { setTimeout as delay } from "node:timers/promises";
import {
  loadPipelineDirectory,
  planApply,
  type AppliedSource,
  type ApplySource,
  type LoadResult,
  type PipelineFs,
} from "@causeway/core";
import type { Engine } from "@causeway/engine";
import { applyLoad } from "./apply-load.js";
import { applyLine, diagnosticLines, refusalLines } from "./apply-lines.js";
import type { Logger } from "./logger.js";
import { nodePipelineFs } from "./node-fs.js";

/** Applies the server's pipeline directory, one apply at a time. */
export interface PipelineApplier {
  /**
   * Loads and applies the directory; calls during an apply are merged into one more (recorded
   * with the cause of the last call). Never throws. `cause`: who asks, for the apply history
   * (default: the watcher).
   */
  apply(cause?: ApplyCause): Promise<void>;
  /** Waits for the apply in progress (if any); later calls do nothing. */
  stop(): Promise<void>;
}

/** Options of `pipelineApplier`. */
export interface PipelineApplierOptions {
  readonly logger: Logger;
  /**
   * Before applying a load that refuses a file or removes an object, wait this long and read
   * the directory again: a file half-written by an editor or a `cp` must not remove anything.
   */
  readonly settleMs: number;
  /** Reads that may differ in a row before the apply is given up until the next change (default 10). */
  readonly maxSettleReads?: number;
  /** The directory's files (default: the local disk). */
  readonly fs?: PipelineFs;
  /**
   * For a line of named sources (`fs` a `sourcesFs`): the sources as the apply history records
   * them, read at each apply (a git source's commit changes); relative `gitRepo` sources are
   * then resolved against each file's source, not `dir`.
   */
  readonly sources?: () => readonly AppliedSource[];
}

/** Who asks for an apply of the server's line, for the apply history. */
export interface ApplyCause {
  readonly source: ApplySource;
  readonly by: string;
  /**
   * Run before the line is read, inside the applier's one-at-a-time loop, so that no read of
   * the line sees it half done (a git source's checkout). False: nothing changed, nothing is
   * applied. It reports its own failures (it must not throw).
   */
  readonly prepare?: () => Promise<boolean>;
}

const WATCHER: ApplyCause = { source: "watcher", by: "watcher" };

/** One read of the directory: the load, and what was read, to tell whether the files moved. */
interface DirectoryRead {
  readonly load: LoadResult;
  readonly snapshot: string;
  /** The text of each file read, by the path the reader was given. */
  readonly texts: ReadonlyMap<string, string>;
}

/**
 * Applies a pipeline directory, one apply at a time, as the watcher's `onChange` and the first
 * apply of `startServer`. A directory with no pipeline file is not applied (it would remove
 * every object: most likely an editor's save in progress). Objects with errors are applied as
 * inconsistent, as with `POST /apply`; the objects of a refused file are kept as they were.
 *
 * Settling: a load that refuses a file or would remove an object may be a file caught half
 * written (empty for a moment, cut in the middle of a line). Such a load is applied only once
 * two reads `settleMs` apart find the same files; while they differ the directory is read again,
 * up to `maxSettleReads` times, after which the apply waits for the next change (the watcher
 * sees every write, so a file still being written brings another apply). Relative `gitRepo`
 * sources are resolved against `dir`.
 */
export function pipelineApplier(engine: Engine, dir: string, options: PipelineApplierOptions): PipelineApplier {
  const { logger } = options;
  const fs = options.fs ?? nodePipelineFs(dir);
  const maxReads = options.maxSettleReads ?? 10;
  let running: Promise<void> | undefined;
  let again = false;
  let cause: ApplyCause = WATCHER;
  let stopped = false;
  let lastDiagnostics = "";

  const read = async (): Promise<DirectoryRead> => {
    const texts: [string, string][] = [];
    const load = await loadPipelineDirectory(
      {
        list: (d) => fs.list(d),
        read: async (path) => {
          const text = await fs.read(path);
          texts.push([path, text]);
          return text;
        },
      },
      { applied: engine.appliedFiles() },
    );
    const unread = load.refused.filter((r) => !load.files.includes(r.path)).map((r) => [r.path, r.reason.message]);
    return { load, snapshot: JSON.stringify([texts, unread]), texts: new Map(texts) };
  };

  // A load that may be a file caught half written: it refuses a file or removes an object.
  const unsettling = (load: LoadResult): boolean =>
    load.refused.length > 0 ||
    planApply(engine.appliedFiles(), load.pipeline, new Set(load.refused.map((r) => r.path))).removed.length > 0;

  const settled = async (): Promise<DirectoryRead | undefined> => {
    let current = await read();
    for (let reads = 1; unsettling(current.load); reads++) {
      if (reads >= maxReads) {
        logger.warn(`${dir}: the pipeline files are still changing; nothing applied until they settle`, {
          event: "apply",
          dir,
          settled: false,
        });
        return undefined;
      }
      await delay(options.settleMs, undefined, { ref: false });
      if (stopped) return undefined;
      const next = await read();
      if (next.snapshot === current.snapshot) break;
      current = next;
    }
    return current;
  };

  const once = async ({ source, by, prepare }: ApplyCause): Promise<void> => {
    if (prepare !== undefined && !(await prepare())) return;
    const found = await settled();
    if (found === undefined || stopped) return;
    const { load, texts } = found;
    if (load.files.length === 0 && load.refused.length === 0) {
      logger.warn(`${dir}: no pipeline file found; nothing applied (name files *causeway.yml or *shippable.yml)`, {
        event: "apply",
        dir,
        files: 0,
      });
      return;
    }
    const sources = options.sources?.();
    const report = await applyLoad(engine, load, {
      textOf: (file) => texts.get(file),
      source,
      by,
      ...(sources === undefined ? { dir } : { dir: null, sources }),
    });
    const diagnostics = JSON.stringify(load.diagnostics);
    const changed = report.added.length + report.changed.length + report.removed.length > 0;
    if (!changed && diagnostics === lastDiagnostics) return;
    lastDiagnostics = diagnostics;
    const line = applyLine(dir, load, report);
    logger.info(line.msg, line.fields);
    for (const refusal of refusalLines(load.refused)) logger.warn(refusal.msg, refusal.fields);
    // A refusal's reason is on its own line above: the other errors follow.
    const reasons = new Set(load.refused.map((r) => r.reason));
    const others = load.diagnostics.filter((d) => !reasons.has(d));
    for (const detail of diagnosticLines(others)) logger.info(detail.msg, detail.fields);
  };

  return {
    apply(asked) {
      if (asked !== undefined) cause = asked;
      if (running !== undefined) {
        again = true;
        return running;
      }
      running = (async () => {
        do {
          again = false;
          try {
            const asked = cause;
            cause = WATCHER;
            await once(asked);
          } catch (error) {
            logger.error(`cannot apply ${dir}`, error);
          }
        } while (again && !stopped);
        // In the same step as the last test of `again`: a call from now on starts a new loop
        // (cleared in a `finally`, a call between the two would be merged into a pass that is
        // over, and lost). The loop awaits at least once, so `running` is set by then.
        running = undefined;
      })();
      return running;
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}
