import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/did-you-mean.js";
import { envPrefix } from "./env-prefix.js";
import type { JobDef, ResourceDef } from "./model.js";
import type { Draft } from "./normalise.js";

type AnyDraft = Draft<ResourceDef> | Draft<JobDef>;

/**
 * Cross-object checks of a whole line: duplicate names, unknown references, IN and OUT of one
 * resource, cycles, env-prefix collisions, orphan resources. Marks drafts concerned by an
 * error as bad (inconsistent). Returns the definitions that own each name (first wins).
 */
export function validateLine(
  resources: Draft<ResourceDef>[],
  jobs: Draft<JobDef>[],
  out: Diagnostic[],
): { byName: Map<string, AnyDraft> } {
  const byName = new Map<string, AnyDraft>();
  for (const def of [...resources, ...jobs]) {
    if (def.name === "") continue;
    const first = byName.get(def.name);
    if (first === undefined) {
      byName.set(def.name, def);
      continue;
    }
    def.bad = true;
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
  const names = [...byName.keys()];
  const used = new Set<string>();
  for (const job of jobs) {
    checkJobReferences(job, byName, names, used, out);
    checkEnvPrefixes(job, out);
  }
  checkCycles(jobs, byName, out);
  for (const r of resources) {
    if (r.name === "" || used.has(r.name) || byName.get(r.name) !== r) continue;
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
  return { byName };
}

function kindOf(def: AnyDraft): "resource" | "job" {
  return "steps" in def ? "job" : "resource";
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

function checkJobReferences(
  job: Draft<JobDef>,
  byName: Map<string, AnyDraft>,
  names: readonly string[],
  used: Set<string>,
  out: Diagnostic[],
): void {
  const ins = new Map<string, string>();
  // Every IN as written, defined or not: an undefined one is reported once, as unknown.
  const written = new Set<string>();
  for (const step of job.steps) {
    if (step.kind === "TASK") continue;
    used.add(step.name);
    if (step.kind === "IN") written.add(step.name);
    if (step.name === "") continue;
    const target = byName.get(step.name);
    if (target === undefined) {
      job.bad = true;
      out.push(
        diagnostic(
          "PIPELINE_UNKNOWN_REFERENCE",
          step.origin.range,
          [...pathOf(step.origin.path), step.kind],
          `${step.kind} ${step.name} of job ${job.name} is not defined`,
          referenceHint(step.name, names),
        ),
      );
      continue;
    }
    if (step.kind === "IN")
      ins.set(step.name, kindOf(target) === "resource" ? (target as Draft<ResourceDef>).type : "job");
  }
  for (const step of job.steps) {
    if (step.kind !== "OUT") continue;
    const target = byName.get(step.name);
    if (
      target !== undefined &&
      kindOf(target) === "resource" &&
      ins.has(step.name) &&
      (target as Draft<ResourceDef>).type !== "state"
    ) {
      job.bad = true;
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
    if (step.replicate !== undefined && !written.has(step.replicate)) {
      job.bad = true;
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
  for (const hookName of Object.keys(job.hooks) as (keyof JobDef["hooks"])[]) {
    for (const target of job.hooks[hookName].notify) {
      used.add(target);
      const def = byName.get(target);
      if (def === undefined) {
        job.bad = true;
        out.push(
          diagnostic(
            "PIPELINE_UNKNOWN_REFERENCE",
            job.origin.range,
            [...pathOf(job.origin.path), hookName, "NOTIFY"],
            `${hookName} of job ${job.name} notifies ${target}, which is not defined`,
            didYouMean(target, names) ?? `define a resource of type notification named ${target}`,
          ),
        );
      } else if (kindOf(def) !== "resource" || (def as Draft<ResourceDef>).type !== "notification") {
        job.bad = true;
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
}

function checkEnvPrefixes(job: Draft<JobDef>, out: Diagnostic[]): void {
  const seen = new Map<string, string>();
  for (const step of job.steps) {
    if (step.kind === "TASK" || step.name === "") continue;
    const prefix = envPrefix(step.name);
    const other = seen.get(prefix);
    if (other !== undefined && other !== step.name) {
      job.bad = true;
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

// Cycles through anything but a state resource (which never triggers) are errors. An IN and
// OUT of one resource is reported by its own check, so that edge is left out here.
function checkCycles(jobs: Draft<JobDef>[], byName: Map<string, AnyDraft>, out: Diagnostic[]): void {
  const edges = new Map<string, string[]>();
  const add = (from: string, to: string): void => {
    const list = edges.get(from);
    if (list === undefined) edges.set(from, [to]);
    else list.push(to);
  };
  const skip = (name: string): boolean => {
    const def = byName.get(name);
    return def === undefined || (kindOf(def) === "resource" && (def as Draft<ResourceDef>).type === "state");
  };
  for (const job of jobs) {
    if (byName.get(job.name) !== job) continue;
    const ins = new Set(job.steps.filter((s) => s.kind === "IN").map((s) => s.name));
    for (const step of job.steps) {
      if (step.kind === "TASK" || skip(step.name)) continue;
      if (step.kind === "IN") add(step.name, job.name);
      else if (!ins.has(step.name)) add(job.name, step.name);
    }
  }
  for (const component of stronglyConnected(edges)) {
    const cycleJobs = component.filter((n) => {
      const d = byName.get(n);
      return d !== undefined && kindOf(d) === "job";
    });
    const first = byName.get(cycleJobs[0] ?? component[0] ?? "");
    if (first === undefined) continue;
    for (const n of cycleJobs) {
      const d = byName.get(n);
      if (d !== undefined) d.bad = true;
    }
    out.push(
      diagnostic(
        "PIPELINE_CYCLE",
        first.origin.range,
        pathOf(first.origin.path),
        `dependency cycle: ${[...component, component[0]].join(" -> ")}`,
        "break the cycle, or carry the value through a state resource (state never triggers)",
      ),
    );
  }
}

/** Strongly connected components with more than one node or a self-loop (iterative Tarjan). */
export function stronglyConnected(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  let counter = 0;
  for (const root of edges.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame === undefined) break;
      const targets = edges.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const to = targets[frame.next++] ?? "";
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(to) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        for (;;) {
          const n = stack.pop();
          if (n === undefined) break;
          onStack.delete(n);
          component.push(n);
          if (n === frame.node) break;
        }
        const selfLoop = component.length === 1 && (edges.get(frame.node) ?? []).includes(frame.node);
        if (component.length > 1 || selfLoop) result.push(component.reverse());
      }
    }
  }
  return result;
}
