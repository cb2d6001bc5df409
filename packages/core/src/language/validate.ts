import { about, diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/did-you-mean.js";
import { resourceKind, type ResourceKind } from "../kinds/index.js";
import { envPrefix } from "./env-prefix.js";
import { HOOK_NAMES, type JobDef, type ResourceDef } from "./model.js";
import type { Draft } from "./normalise.js";

type AnyDraft = Draft<ResourceDef> | Draft<JobDef>;

/** The definitions that own the names of a line: the first one of each name wins. */
export interface LineNames {
  owner(name: string): AnyDraft | undefined;
}

// Names as dense ids (the index of the owner in `owners`), so the per-name bookkeeping of the
// checks is arrays rather than maps and sets of strings.
interface Owners extends LineNames {
  readonly ids: ReadonlyMap<string, number>;
  readonly owners: readonly AnyDraft[];
  /** 1 for an id referred to by an IN, an OUT or a NOTIFY. */
  readonly used: Uint8Array;
  /** Every defined name, in definition order (for "did you mean"), made on first use. */
  names(): readonly string[];
}

/**
 * Cross-object checks of a whole line: duplicate names, unknown references, IN and OUT of one
 * resource, cycles, env-prefix collisions, orphan resources. Marks drafts concerned by an
 * error as not consistent. Returns the definitions that own each name (first wins). `elsewhere`
 * names objects defined in files that were not loaded with these (name -> file): a reference to
 * one is an info, not an error (validating one file of a directory). `kept` names objects kept
 * as they were because their file was refused (name -> file): a reference to one resolves.
 */
export function validateLine(
  resources: Draft<ResourceDef>[],
  jobs: Draft<JobDef>[],
  out: Diagnostic[],
  elsewhere: ReadonlyMap<string, string> = new Map(),
  kept: ReadonlyMap<string, string> = new Map(),
): LineNames {
  const ids = new Map<string, number>();
  const owners: AnyDraft[] = [];
  for (const list of [resources, jobs]) {
    for (const def of list) {
      if (def.name === "") continue;
      const firstId = ids.get(def.name);
      const first = firstId === undefined ? undefined : owners[firstId];
      if (first === undefined) {
        ids.set(def.name, owners.length);
        owners.push(def);
        continue;
      }
      def.consistent = false;
      const at = first.origin.range;
      out.push(
        diagnostic(
          "PIPELINE_DUPLICATE_NAME",
          def.origin.range,
          [...pathOf(def.origin.path), "name"],
          `${kindOf(def)} ${def.name} is already defined as a ${kindOf(first)} at ${at.file}:${at.line}:${at.col}`,
          "names are shared by resources and jobs across every file of the line: rename one of them",
        ),
      );
    }
  }
  let names: string[] | undefined;
  const line: Owners = {
    ids,
    owners,
    used: new Uint8Array(owners.length),
    names: () => (names ??= owners.map((d) => d.name)),
    owner: (name) => {
      const id = ids.get(name);
      return id === undefined ? undefined : owners[id];
    },
  };
  const edges = new CycleEdges();
  for (const job of jobs) {
    const ins = checkJobReferences(job, line, elsewhere, kept, out);
    checkEnvPrefixes(job, out);
    if (line.owner(job.name) === job) addCycleEdges(job, ins, line, edges);
  }
  checkCycles(edges, line, out);
  for (const r of resources) {
    const id = ids.get(r.name);
    if (id === undefined || owners[id] !== r || line.used[id] === 1) continue;
    out.push(
      diagnostic(
        "PIPELINE_ORPHAN_RESOURCE",
        r.origin.range,
        pathOf(r.origin.path),
        `resource ${r.name} is used by no job`,
        "add it as an IN or OUT of a job, or remove it",
      ),
    );
  }
  return line;
}

function kindOf(def: AnyDraft): "resource" | "job" {
  return "steps" in def ? "job" : "resource";
}

// The kind of a resource definition; undefined for a job.
function resourceKindOf(def: AnyDraft): ResourceKind | undefined {
  return kindOf(def) === "resource" ? resourceKind((def as Draft<ResourceDef>).type) : undefined;
}

// The names of a job's IN steps as written, defined or not.
function inNames(job: Draft<JobDef>): Set<string> {
  const ins = new Set<string>();
  for (const step of job.steps) if (step.kind === "IN") ins.add(step.name);
  return ins;
}

function pathOf(path: string): string[] {
  return path === "" ? [] : [path];
}

function referenceHint(name: string, names: readonly string[]): string {
  const runCI = /^(.+)_runCI$/.exec(name);
  if (runCI !== null) {
    return `Shippable created ${name} implicitly for a repository enabled for CI; Causeway has no CI product: define a runSh job named ${name} that builds ${runCI[1] ?? "the repository"}, or remove this step`;
  }
  const ciRepo = /^(.+)_ciRepo$/.exec(name);
  if (ciRepo !== null) {
    return `Shippable created ${name} implicitly for a repository enabled for CI; define a gitRepo resource named ${name} for ${ciRepo[1] ?? "the repository"}`;
  }
  return (
    didYouMean(name, names) ??
    `define a resource or job named ${name} in this directory (or a sub-directory); objects defined in another repository of a Shippable subscription must be copied here`
  );
}

// Returns the job's IN names when it has an OUT step (they were needed), else undefined.
function checkJobReferences(
  job: Draft<JobDef>,
  line: Owners,
  elsewhere: ReadonlyMap<string, string>,
  kept: ReadonlyMap<string, string>,
  out: Diagnostic[],
): Set<string> | undefined {
  const { ids, used } = line;
  for (const step of job.steps) {
    if (step.kind === "TASK" || step.name === "") continue;
    const id = ids.get(step.name);
    if (id !== undefined) {
      used[id] = 1;
      continue;
    }
    if (kept.has(step.name)) continue;
    const path = [...pathOf(step.origin.path), step.kind];
    const file = elsewhere.get(step.name);
    if (file !== undefined) {
      out.push(
        about(
          diagnostic(
            "PIPELINE_REFERENCE_ELSEWHERE",
            step.origin.range,
            path,
            `${step.kind} ${step.name} of job ${job.name} is defined in ${file}, which was not validated with this file`,
            "validate the directory to check the whole line",
          ),
          step.name,
        ),
      );
      continue;
    }
    job.consistent = false;
    out.push(
      about(
        diagnostic(
          "PIPELINE_UNKNOWN_REFERENCE",
          step.origin.range,
          path,
          `${step.kind} ${step.name} of job ${job.name} is not defined`,
          referenceHint(step.name, line.names()),
        ),
        step.name,
      ),
    );
  }
  // Every IN as written counts here, defined or not: an undefined one is reported once, as unknown.
  let ins: Set<string> | undefined;
  for (const step of job.steps) {
    if (step.kind !== "OUT") continue;
    ins ??= inNames(job);
    const target = line.owner(step.name);
    if (target !== undefined && ins.has(step.name) && resourceKindOf(target)?.inAndOutOfOneJob === false) {
      job.consistent = false;
      out.push(
        diagnostic(
          "PIPELINE_IN_AND_OUT",
          step.origin.range,
          [...pathOf(step.origin.path), "OUT"],
          `resource ${step.name} is both IN and OUT of job ${job.name}`,
          "only a state resource may be both; use replicate to forward an input to another resource",
        ),
      );
    }
    if (step.replicate !== undefined && !ins.has(step.replicate)) {
      job.consistent = false;
      out.push(
        diagnostic(
          "PIPELINE_REPLICATE_SOURCE",
          step.origin.range,
          [...pathOf(step.origin.path), "replicate"],
          `OUT ${step.name} replicates ${step.replicate}, which is not an IN of job ${job.name}`,
          `add - IN: ${step.replicate} before this step`,
        ),
      );
    }
  }
  for (const hookName of HOOK_NAMES) {
    for (const { name: target } of job.hooks[hookName].notify) {
      const id = ids.get(target);
      if (id !== undefined) used[id] = 1;
      const def = line.owner(target);
      const path = [...pathOf(job.origin.path), hookName, "NOTIFY"];
      const file = def === undefined ? elsewhere.get(target) : undefined;
      if (def === undefined && kept.has(target)) continue;
      if (file !== undefined) {
        out.push(
          about(
            diagnostic(
              "PIPELINE_REFERENCE_ELSEWHERE",
              job.origin.range,
              path,
              `${hookName} of job ${job.name} notifies ${target}, defined in ${file}, which was not validated with this file`,
              "validate the directory to check the whole line",
            ),
            target,
          ),
        );
      } else if (def === undefined) {
        job.consistent = false;
        out.push(
          about(
            diagnostic(
              "PIPELINE_UNKNOWN_REFERENCE",
              job.origin.range,
              path,
              `${hookName} of job ${job.name} notifies ${target}, which is not defined`,
              didYouMean(target, line.names()) ?? `define a resource of type notification named ${target}`,
            ),
            target,
          ),
        );
      } else if (resourceKindOf(def)?.notifyTarget !== true) {
        job.consistent = false;
        out.push(
          diagnostic(
            "PIPELINE_WRONG_REFERENCE_TYPE",
            job.origin.range,
            [...pathOf(job.origin.path), hookName, "NOTIFY"],
            `${hookName} of job ${job.name} notifies ${target}, which is not a notification resource`,
          ),
        );
      }
    }
  }
  return ins;
}

function checkEnvPrefixes(job: Draft<JobDef>, out: Diagnostic[]): void {
  const seen = new Map<string, string>();
  for (const step of job.steps) {
    if (step.kind === "TASK" || step.name === "") continue;
    const prefix = envPrefix(step.name);
    const other = seen.get(prefix);
    if (other !== undefined && other !== step.name) {
      job.consistent = false;
      out.push(
        diagnostic(
          "PIPELINE_ENV_PREFIX_COLLISION",
          step.origin.range,
          [...pathOf(step.origin.path), step.kind],
          `${step.name} and ${other} both give the environment-variable prefix ${prefix || "(empty)"} in job ${job.name}`,
          "rename one of them so their letters, digits and _ differ",
        ),
      );
    } else seen.set(prefix, step.name);
  }
}

// The edges of the cycle check, as ids, in the order they are found.
class CycleEdges {
  readonly from: number[] = [];
  readonly to: number[] = [];

  add(from: number, to: number): void {
    this.from.push(from);
    this.to.push(to);
  }
}

// Cycles through anything but a resource that never triggers (a state resource) are errors. An IN and
// OUT of one resource is reported by its own check, so that edge is left out here.
function addCycleEdges(job: Draft<JobDef>, ins: Set<string> | undefined, line: Owners, edges: CycleEdges): void {
  const self = line.ids.get(job.name) ?? -1;
  for (const step of job.steps) {
    if (step.kind === "TASK") continue;
    const id = line.ids.get(step.name);
    const def = id === undefined ? undefined : line.owners[id];
    if (id === undefined || def === undefined || resourceKindOf(def)?.versionsTrigger === false) continue;
    if (step.kind === "IN") edges.add(id, self);
    else if (!(ins ??= inNames(job)).has(step.name)) edges.add(self, id);
  }
}

function checkCycles(edges: CycleEdges, line: Owners, out: Diagnostic[]): void {
  for (const ids of stronglyConnected(line.owners.length, edges.from, edges.to)) {
    const component = ids.map((id) => line.owners[id]).filter((d): d is AnyDraft => d !== undefined);
    const cycleJobs = component.filter((d) => kindOf(d) === "job");
    const first = cycleJobs[0] ?? component[0];
    if (first === undefined) continue;
    for (const d of cycleJobs) d.consistent = false;
    const names = component.map((d) => d.name);
    out.push(
      diagnostic(
        "PIPELINE_CYCLE",
        first.origin.range,
        pathOf(first.origin.path),
        `dependency cycle: ${[...names, names[0]].join(" -> ")}`,
        "break the cycle, or carry the value through a state resource (state never triggers)",
      ),
    );
  }
}

/**
 * Strongly connected components with more than one node or a self-loop (iterative Tarjan) of
 * the graph on nodes `0..count-1` with edges `from[k] -> to[k]`. Roots are taken in the order
 * of their first edge and targets in edge order, so the result is deterministic.
 */
export function stronglyConnected(count: number, from: readonly number[], to: readonly number[]): number[][] {
  // Adjacency in compressed rows: the targets of v are targets[start[v]..start[v + 1]).
  const start = new Int32Array(count + 1);
  for (const f of from) start[f + 1] = (start[f + 1] ?? 0) + 1;
  for (let v = 0; v < count; v++) start[v + 1] = (start[v + 1] ?? 0) + (start[v] ?? 0);
  const fill = start.slice(0, count);
  const targets = new Int32Array(from.length);
  const roots: number[] = [];
  for (let k = 0; k < from.length; k++) {
    const f = from[k] ?? 0;
    const at = fill[f] ?? 0;
    if (at === start[f]) roots.push(f);
    targets[at] = to[k] ?? 0;
    fill[f] = at + 1;
  }
  const index = new Int32Array(count).fill(-1);
  const low = new Int32Array(count);
  const next = new Int32Array(count);
  const onStack = new Uint8Array(count);
  const stack: number[] = [];
  const work: number[] = [];
  const result: number[][] = [];
  let counter = 0;
  const discover = (v: number): void => {
    index[v] = low[v] = counter++;
    next[v] = start[v] ?? 0;
    stack.push(v);
    onStack[v] = 1;
    work.push(v);
  };
  for (const root of roots) {
    if (index[root] !== -1) continue;
    discover(root);
    for (let v = work[0]; v !== undefined; v = work[work.length - 1]) {
      const at = next[v] ?? 0;
      if (at < (start[v + 1] ?? 0)) {
        const w = targets[at] ?? 0;
        next[v] = at + 1;
        if (index[w] === -1) discover(w);
        else if (onStack[w] === 1) low[v] = Math.min(low[v] ?? 0, index[w] ?? 0);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low[parent] = Math.min(low[parent] ?? 0, low[v] ?? 0);
      if (low[v] !== index[v]) continue;
      const component: number[] = [];
      for (;;) {
        const n = stack.pop();
        if (n === undefined) break;
        onStack[n] = 0;
        component.push(n);
        if (n === v) break;
      }
      const selfLoop = component.length === 1 && targets.subarray(start[v], start[v + 1]).includes(v);
      if (component.length > 1 || selfLoop) result.push(component.reverse());
    }
  }
  return result;
}
