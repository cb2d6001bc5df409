import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import { canonical, displayUrl, shortVersionName } from "@causeway/core";
import type { Engine } from "@causeway/engine";
import {
  appliedSources,
  lineFs,
  resolveServerLine,
  syncSource,
  type ServerLine,
  type ServerSource,
  type SourceCheckout,
} from "./line-sources.js";
import type { Logger } from "./logger.js";
import { pipelineApplier, type PipelineApplier } from "./pipeline-applier.js";
import { watchPipelineDirectory, type PipelineWatcher } from "./pipeline-watcher.js";
import { startSourcePoller, type SourcePoller } from "./source-poller.js";

/** Options of `lineRunner`. */
export interface LineRunnerOptions {
  readonly engine: Engine;
  readonly logger: Logger;
  /** The server's arguments: directories, git URLs, projects. */
  readonly args: readonly string[];
  readonly dataDir: string;
  readonly cwd: string;
  /** The environment of git (PATH at least). */
  readonly env: Readonly<Record<string, string>>;
  readonly settleMs: number;
  readonly debounceMs: number;
  readonly pollIntervalMs: number;
}

/**
 * The server's line and everything that keeps it applied: the applier, a watcher per directory,
 * the poller of the git sources, and a watcher of each project file.
 */
export interface LineRunner {
  /** Clones (or fetches) the git sources and applies the line once. */
  start(): Promise<void>;
  /** From now on, re-applies the line when a directory, a repository or a project file changes. */
  follow(): void;
  /** Stops following; waits for an apply in progress. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The runner of the server's line, whose sources `resolveServerLine` found in `options.args`
 * (before anything was written: a bad list fails the start). One plain directory is the line as
 * it always was (paths relative to it, relative `gitRepo` sources resolved against it); named
 * sources are one line over all of them. When a project file changes, the sources are read
 * again: watchers and poller follow the new list (a removed source's objects are removed by the
 * apply that follows; a bad file is logged and the line stays as it was).
 */
export function lineRunner(resolved: ServerLine, options: LineRunnerOptions): LineRunner {
  const { engine, logger } = options;
  let line = resolved;
  const gitOptions = { env: options.env };
  const checkouts = new Map<string, SourceCheckout>();
  const plainDir = line.named ? undefined : line.sources[0]?.dir;
  const label = line.named ? line.sources.map((s) => s.name).join(", ") : (plainDir ?? ".");
  const applier: PipelineApplier =
    plainDir !== undefined
      ? pipelineApplier(engine, plainDir, { logger, settleMs: options.settleMs })
      : pipelineApplier(engine, label, {
          logger,
          settleMs: options.settleMs,
          fs: lineFs(
            () => line,
            () => engine.appliedFiles(),
          ),
          sources: () => appliedSources(line, checkouts) ?? [],
        });
  let watchers: PipelineWatcher[] = [];
  let poller: SourcePoller | undefined;
  const projectWatchers: FSWatcher[] = [];
  let following = false;
  let stopped = false;
  let reloading: Promise<void> | undefined;

  const gitSources = (): Extract<ServerSource, { kind: "git" }>[] =>
    line.sources.filter((s): s is Extract<ServerSource, { kind: "git" }> => s.kind === "git");

  // A repository that cannot be reached now is tried again by the source poller; until then
  // the objects the line has from it are kept as they were.
  const syncAll = async (): Promise<void> => {
    for (const source of gitSources()) {
      if (checkouts.has(source.name)) continue;
      try {
        const checkout = await syncSource(source, gitOptions);
        checkouts.set(source.name, checkout);
        logger.info(
          `source ${source.name}: ${displayUrl(source.url)} at ${shortVersionName(checkout.commit)} on ${checkout.branch}`,
          {
            event: "source-commit",
            source: source.name,
            url: displayUrl(source.url),
            branch: checkout.branch,
            commit: checkout.commit,
          },
        );
      } catch (error) {
        logger.error(`cannot fetch source ${source.name} (${displayUrl(source.url)})`, error, {
          event: "source-poll",
          source: source.name,
        });
      }
    }
  };

  const startFollowers = (): void => {
    const dirs = plainDir !== undefined ? [plainDir] : line.sources.filter((s) => s.kind === "dir").map((s) => s.dir);
    watchers = dirs.map((dir) =>
      watchPipelineDirectory(dir, () => void applier.apply(), {
        debounceMs: options.debounceMs,
        onError: (error) => logger.error(`cannot watch ${dir}`, error),
      }),
    );
    const git = gitSources();
    poller =
      git.length === 0
        ? undefined
        : startSourcePoller({
            ...gitOptions,
            sources: git,
            checkouts,
            intervalMs: options.pollIntervalMs,
            logger,
            apply: (source, head, fetch) =>
              applier.apply({
                source: "git",
                by: head === undefined ? source.name : `${source.name}@${shortVersionName(head)}`,
                prepare: fetch,
              }),
          });
  };

  const stopFollowers = async (): Promise<void> => {
    for (const w of watchers) w.close();
    watchers = [];
    await poller?.stop();
    poller = undefined;
  };

  const reload = async (): Promise<void> => {
    let next: ServerLine;
    try {
      next = await resolveServerLine(options.args, options.dataDir, options.cwd);
    } catch (error) {
      logger.error("cannot read the sources of the line again; it stays as it was", error, { event: "sources" });
      return;
    }
    if (stopped || canonical(next.sources) === canonical(line.sources)) return;
    await stopFollowers();
    // A source gone or now elsewhere is fetched anew (its clone is replaced when its URL changed).
    const kept = new Set(
      next.sources.filter((s) => s.kind === "git").map((s) => `${s.name} ${s.url} ${s.branch ?? ""}`),
    );
    for (const s of gitSources()) if (!kept.has(`${s.name} ${s.url} ${s.branch ?? ""}`)) checkouts.delete(s.name);
    line = next;
    logger.info(`the sources of the line changed: ${line.sources.map((s) => s.name).join(", ")}`, {
      event: "sources",
      sources: line.sources.map((s) => s.name).join(" "),
    });
    await syncAll();
    if (stopped) return;
    startFollowers();
    await applier.apply();
  };

  const watchProjects = (): void => {
    let timer: NodeJS.Timeout | undefined;
    for (const project of line.projects) {
      try {
        // The directory, not the file: an editor's save replaces the file.
        const watcher = watch(dirname(project), { persistent: false }, (_event, name) => {
          if (name !== basename(project)) return;
          if (timer !== undefined) clearTimeout(timer);
          timer = setTimeout(() => {
            reloading = (reloading ?? Promise.resolve()).then(reload);
          }, options.debounceMs);
        });
        watcher.on("error", () => watcher.close());
        projectWatchers.push(watcher);
      } catch (error) {
        logger.error(`cannot watch ${project}`, error);
      }
    }
  };

  return {
    async start() {
      await syncAll();
      await applier.apply();
    },
    follow() {
      if (following || stopped) return;
      following = true;
      startFollowers();
      watchProjects();
    },
    async stop() {
      stopped = true;
      for (const w of projectWatchers) w.close();
      await reloading;
      await stopFollowers();
      await applier.stop();
    },
  };
}
