import { displayUrl, shortVersionName } from "@causeway/core";
import type { Logger } from "./logger.js";
import {
  remoteHead,
  syncSource,
  type ServerSource,
  type SourceCheckout,
  type SourceGitOptions,
} from "./line-sources.js";

type GitSource = Extract<ServerSource, { kind: "git" }>;

/** A running poller of the git sources of the line; `stop` waits for a poll in progress. */
export interface SourcePoller {
  /** Polls every source now (tests). */
  pollNow(): Promise<void>;
  stop(): Promise<void>;
}

/** Options of `startSourcePoller`. */
export interface SourcePollerOptions extends SourceGitOptions {
  readonly sources: readonly GitSource[];
  /** Where each source is checked out: read, and updated when a new commit is fetched. */
  readonly checkouts: Map<string, SourceCheckout>;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Called after a source's clone moved to a new commit (the server re-applies the line). */
  readonly onCommit: (source: GitSource, checkout: SourceCheckout) => Promise<void>;
}

/**
 * Follows the git sources of the line (Shippable's sync repositories): every `intervalMs`,
 * `git ls-remote` of each source's branch; when its head differs from the commit checked out
 * (or nothing is checked out yet: the first clone failed), the clone is fetched and checked
 * out (`syncSource`) and `onCommit` re-applies the line. One poll at a time; a failure is logged
 * once until it changes, and the clone stays at its commit (its objects stay as applied).
 */
export function startSourcePoller(options: SourcePollerOptions): SourcePoller {
  const { logger, checkouts } = options;
  const lastProblem = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const pollOne = async (source: GitSource): Promise<void> => {
    const known = checkouts.get(source.name);
    if (known !== undefined) {
      const head = await remoteHead(source, known.branch, options);
      if (head === undefined || head === known.commit) return;
    }
    const checkout = await syncSource(source, options);
    if (stopped || checkout.commit === known?.commit) return;
    checkouts.set(source.name, checkout);
    logger.info(
      `source ${source.name}: new commit ${shortVersionName(checkout.commit)} on ${checkout.branch}` +
        `${checkout.subject === "" ? "" : `: ${checkout.subject}`}; applying the line`,
      {
        event: "source-commit",
        source: source.name,
        url: displayUrl(source.url),
        branch: checkout.branch,
        commit: checkout.commit,
      },
    );
    await options.onCommit(source, checkout);
  };

  const pollAll = async (): Promise<void> => {
    for (const source of options.sources) {
      if (stopped) return;
      try {
        await pollOne(source);
        lastProblem.delete(source.name);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (lastProblem.get(source.name) !== message) {
          lastProblem.set(source.name, message);
          logger.error(`cannot follow source ${source.name} (${displayUrl(source.url)})`, error, {
            event: "source-poll",
            source: source.name,
          });
        }
      }
    }
  };

  const pollNow = (): Promise<void> => {
    running ??= pollAll().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void pollNow().then(schedule);
    }, options.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    pollNow,
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
