import type { JobDef, ResourceDef, Run, StoredObject, Version } from "@causeway/core";
import type { ReadModel } from "./read-model.js";

/** A defined job or resource, as readers see it. */
export type ObjectView =
  | { readonly name: string; readonly kind: "resource"; readonly stored: StoredObject; readonly def: ResourceDef }
  | { readonly name: string; readonly kind: "job"; readonly stored: StoredObject; readonly def: JobDef };

/**
 * What the engine lets its readers (the server's routes, streams and version sources) see of
 * its state, read-only and in its own terms: the server answers through this and through the
 * store, never through the engine's read model itself (`ReadModel`, which is the scheduler's).
 */
export interface EngineView {
  /** The defined jobs and resources, in definition order. */
  objects(): Iterable<ObjectView>;
  /** The job or resource of that name, if one is defined. */
  object(name: string): ObjectView | undefined;
  /** A job's definition, if one of that name is defined. */
  job(name: string): JobDef | undefined;
  /** The latest version of a job or resource. */
  latestVersion(name: string): Version | undefined;
  /** A job's latest run. */
  latestRun(job: string): Run | undefined;
  /** A run that is not final yet (waiting, queued, waiting for approval, processing). */
  activeRun(id: number): Run | undefined;
  /** A job's pinned inputs: input name to version number. */
  pins(job: string): ReadonlyMap<string, number>;
}

const NO_PINS: ReadonlyMap<string, number> = new Map();

/** The view of `model`: reads only, nothing of it can be changed through the view. */
export function engineView(model: ReadModel): EngineView {
  return {
    *objects() {
      for (const [name, entry] of model.objects) yield { name, ...entry };
    },
    object: (name) => {
      const entry = model.objects.get(name);
      return entry === undefined ? undefined : { name, ...entry };
    },
    job: (name) => model.job(name),
    latestVersion: (name) => model.latest.get(name),
    latestRun: (job) => model.latestRun.get(job),
    activeRun: (id) => model.active.get(id),
    pins: (job) => model.pins.get(job) ?? NO_PINS,
  };
}
