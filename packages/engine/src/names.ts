import { CausewayError, didYouMean } from "@causeway/core";
import type { ReadModel } from "./read-model.js";

/** How many names a hint lists when no name is close to the one given. */
const LISTED = 8;

/**
 * The error for a name that is not a job: a resource named so is said to be one, with what to do
 * instead; otherwise the nearest job names (the language's did-you-mean rule), or the jobs there
 * are. `JOB_NOT_FOUND` either way.
 */
export function jobNotFound(model: ReadModel, name: string): CausewayError {
  if (model.resource(name) !== undefined) {
    const consumers = model.consumers.get(name) ?? [];
    const runs = consumers.length === 0 ? "" : ` and triggers the jobs that take it as IN (${consumers.join(", ")})`;
    return new CausewayError("JOB_NOT_FOUND", `${name} is a resource, not a job`, {
      hint: `a resource gets versions, not runs: \`causeway put-version ${name} versionName=...\` makes one${runs}`,
    });
  }
  return new CausewayError("JOB_NOT_FOUND", `no job named ${name}`, { hint: namesHint(name, jobNames(model), "jobs") });
}

/**
 * The error for a name that is not a resource: a job named so is said to be one (it gets runs
 * from `trigger`); otherwise the nearest resource names. `RESOURCE_NOT_FOUND` either way.
 */
export function resourceNotFound(model: ReadModel, name: string): CausewayError {
  if (model.job(name) !== undefined)
    return new CausewayError("RESOURCE_NOT_FOUND", `${name} is a job, not a resource`, {
      hint: `a job gets runs, not versions from outside: \`causeway trigger ${name}\` starts one`,
    });
  return new CausewayError("RESOURCE_NOT_FOUND", `no resource named ${name}`, {
    hint: namesHint(name, resourceNames(model), "resources"),
  });
}

/** The error for a name that is neither a resource nor a job of the line. */
export function objectNotFound(model: ReadModel, name: string): CausewayError {
  return new CausewayError("RESOURCE_NOT_FOUND", `no resource or job named ${name}`, {
    hint: namesHint(name, [...model.objects.keys()].sort(), "resources and jobs"),
  });
}

function namesHint(name: string, names: readonly string[], what: string): string {
  const near = didYouMean(name, names);
  if (near !== undefined) return near;
  if (names.length === 0) return `the line has no ${what}: apply one with \`causeway apply DIR\``;
  const listed = names.slice(0, LISTED).join(", ");
  return `the ${what} are ${listed}${names.length > LISTED ? `, and ${names.length - LISTED} more (\`causeway graph DIR\` lists them)` : ""}`;
}

function jobNames(model: ReadModel): string[] {
  return [...model.objects]
    .filter(([, e]) => e.kind === "job")
    .map(([n]) => n)
    .sort();
}

function resourceNames(model: ReadModel): string[] {
  return [...model.objects]
    .filter(([, e]) => e.kind === "resource")
    .map(([n]) => n)
    .sort();
}
