import type { JobDef, Pipeline } from "./model.js";

/** A job of a line that will not run, and why, in a person's words. */
export interface NotRunnable {
  readonly name: string;
  readonly type: string;
  readonly reason: string;
}

/** Which jobs of a loaded line will run when triggered, and why the others will not. */
export interface Readiness {
  readonly runnable: readonly string[];
  readonly notRunnable: readonly NotRunnable[];
}

/**
 * Why a job will not run, or undefined when it will: it has errors (inconsistent objects are
 * never triggered), its type is not supported yet or unknown (its runs end `skipped`), or it
 * uses the legacy `TASK: managed` form, which no runner executes yet (its runs end `error`).
 * A job that runs may still need what a runner lacks (a container engine); that is not known here.
 */
export function whyNotRunnable(job: JobDef): string | undefined {
  if (job.support === "unknown") return `job type ${job.type} is unknown`;
  if (!job.consistent) return "it has errors (above)";
  if (job.support === "unsupported") return `job type ${job.type} is not supported yet`;
  if (job.steps.some((s) => s.kind === "TASK" && s.managed)) return "TASK: managed is not supported yet";
  return undefined;
}

/** Sorts the jobs of a line into those that will run and those that will not, in line order. */
export function readiness(pipeline: Pipeline): Readiness {
  const runnable: string[] = [];
  const notRunnable: NotRunnable[] = [];
  for (const job of pipeline.jobs) {
    const reason = whyNotRunnable(job);
    if (reason === undefined) runnable.push(job.name);
    else notRunnable.push({ name: job.name, type: job.type, reason });
  }
  return { runnable, notRunnable };
}
