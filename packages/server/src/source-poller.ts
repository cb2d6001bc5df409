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

/** The longest wait between two polls of a source that keeps failing. */
const MAX_BACKOFF_MS = 60_000;

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
  /**
   * Re-applies the line for a new commit of `source` (`head`, when known from `ls-remote`):
   * runs `fetch` (which moves the clone to the commit; false when it did not move) before it
   * reads the line, and applies nothing when it is false.
   */
  readonly apply: (source: GitSource, head: string | undefined, fetch: () => Promise<boolean>) => Promise<void>;
}

/**
 * Follows the git sources of the line (Shippable's sync repositories): every `intervalMs`,
 * `git ls-remote` of each source's branch; when its head differs from the commit checked out
 * (or nothing is checked out yet: the first clone failed), the line is applied again, the
 * clone fetched and checked out (`syncSource`) first, inside the apply. One poll at a time. A
 * source that fails waits longer between polls (doubling, at most a minute); its failure is
 * logged once until it changes, and the clone stays at its commit (its objects as applied).
 */
export function startSourcePoller(options: SourcePollerOptions): SourcePoller {
  const { logger, checkouts } = options;
  const lastProblem = new Map<string, string>();
  // A source that fails is asked again later and later (from the interval, doubling, up to a
  // minute), so an unreachable repository is not cloned anew every few seconds.
  const backoff = new Map<string, { delayMs: number; nextAt: number }>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const pollOne = async (source: GitSource): Promise<void> => {
    const known = checkouts.get(source.name);
    let head: string | undefined;
    if (known !== undefined) {
      head = await remoteHead(source, known.branch, options);
      if (head === undefined || head === known.commit) return;
    }
    // The fetch and checkout run inside the apply, before the line is read: no read of the
    // line (a directory's change applying at the same time) sees the clone half checked out.
    let failure: Error | undefined;
    const fetch = async (): Promise<boolean> => {
      try {
        const checkout = await syncSource(source, options);
        if (stopped || checkout.commit === known?.commit) return false;
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
        return true;
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
        return false;
      }
    };
    await options.apply(source, head, fetch);
    if (failure !== undefined) throw failure;
  };

  const pollAll = async (): Promise<void> => {
    for (const source of options.sources) {
      if (stopped) return;
      const wait = backoff.get(source.name);
      if (wait !== undefined && Date.now() < wait.nextAt) continue;
      try {
        await pollOne(source);
        lastProblem.delete(source.name);
        backoff.delete(source.name);
      } catch (error) {
        const delayMs = Math.min((wait?.delayMs ?? options.intervalMs) * 2, MAX_BACKOFF_MS);
        backoff.set(source.name, { delayMs, nextAt: Date.now() + delayMs });
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
