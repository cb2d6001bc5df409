import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isMap, isScalar, parseAllDocuments, visit } from "yaml";
import {
  baseOf,
  HOOK_NAMES,
  SPLIT_FILE_NAMES,
  TEMPLATES_FILE_NAME,
  templatesFor,
  type LoadResult,
  type Pipeline,
} from "../src/index.js";

// The language features a line uses, named the same way for every line, so that the
// repository's own corpus can be compared with the external one and with the language's lists.
// Most come from the loaded model; the few the model does not keep (which form a TASK or a hook
// was written in, anchors, aliases and merge keys) come from the files' YAML.

/** Adds what the loaded model of a line shows. */
function modelFeatures(result: LoadResult, add: (feature: string) => void): void {
  for (const file of result.files) {
    const base = baseOf(file);
    if (file.includes("/")) add("file: in a sub-directory");
    if (base === TEMPLATES_FILE_NAME || (SPLIT_FILE_NAMES as readonly string[]).includes(base)) add(`file: ${base}`);
    else if (base === "shippable.yml" || base === "causeway.yml") add(`file: ${base}`);
    else if (base.endsWith("shippable.yml")) add("file: *shippable.yml");
    else if (base.endsWith("causeway.yml")) add("file: *causeway.yml");
  }
  const { resources, jobs } = result.pipeline;
  const jobNames = new Set(jobs.map((j) => j.name));
  for (const r of resources) {
    add(r.support === "unknown" ? "resource type: unknown" : `resource type: ${r.type}`);
    add(`resource syntax: ${r.syntax}`);
    if (r.legacyTrigger) add("resource: in a legacy triggers list");
    if (r.flags.length > 0) add("resource: flags");
    if (r.integration !== undefined) add("resource: integration");
  }
  for (const job of jobs) {
    add(job.support === "unknown" ? "job type: unknown" : `job type: ${job.type}`);
    if (job.dependencyMode !== "chrono") add(`job: dependencyMode ${job.dependencyMode}`);
    if (job.triggerMode !== "serial") add(`job: triggerMode ${job.triggerMode}`);
    if (job.priority !== 9999) add("job: priority");
    if (job.runtime.nodePool !== undefined) add("job: runtime.nodePool");
    if (job.runtime.container !== undefined) add("job: runtime.container");
    if (job.runtime.timeoutMinutes !== 60) add("job: runtime.timeoutMinutes");
    if (job.integrations.length > 0) add("job: integrations");
    if (job.flags.length > 0) add("job: flags");
    if (job.allowPublicAccess) add("job: allowPublicAccess");
    for (const key of Object.keys(job.options)) add(`job: ${key}`);
    if (job.requiresApproval !== undefined) add("job: requiresApproval");
    if (job.retries.max > 0) add("job: retries");
    if (job.concurrencyGroup !== undefined) add("job: concurrencyGroup");
    if (job.coalesce !== undefined) add("job: coalesce");
    if (job.params.length > 0) add("job: params");
    for (const hook of HOOK_NAMES) {
      if (job.hooks[hook].script.length > 0) add(`hook ${hook}: script`);
      if (job.hooks[hook].notify.length > 0) add(`hook ${hook}: NOTIFY`);
    }
    for (const step of job.steps) {
      if (step.kind === "IN") {
        if (jobNames.has(step.name)) add("IN: a job");
        if (step.switchOff) add("IN: switch off");
        if (step.versionName !== undefined) add("IN: versionName");
        if (step.versionNumber !== undefined) add("IN: versionNumber");
        if (step.dependencyMode !== undefined) add("IN: dependencyMode");
        for (const key of Object.keys(step.options)) add(`IN: ${key}`);
      } else if (step.kind === "OUT") {
        if (jobNames.has(step.name)) add("OUT: a job");
        if (step.replicate !== undefined) add("OUT: replicate");
        if (!step.replicateOnPullRequest) add("OUT: replicateOnPullRequest false");
        if (step.overwrite) add("OUT: overwrite");
        if (step.onFailure) add("OUT: on_failure");
      } else {
        if (step.managed) add("TASK: managed");
        if (step.container !== undefined) add("TASK: runtime.container");
        if (step.image !== undefined) add("TASK: image");
        if (step.containerOptions !== undefined) add("TASK: container options");
        if (Object.keys(step.env).length > 0) add("TASK: env");
        for (const key of Object.keys(step.options)) add(`TASK: ${key}`);
      }
    }
  }
  for (const name of unknownReferences(result.pipeline)) {
    add(
      /_runCI$/.test(name)
        ? "reference: implicit <repo>_runCI"
        : /_ciRepo$/.test(name)
          ? "reference: implicit <repo>_ciRepo"
          : "reference: unknown",
    );
  }
  for (const d of result.diagnostics) add(`diagnostic: ${d.code}`);
}

/** Names that a step or a NOTIFY refers to and that no object of the line defines. */
export function unknownReferences(pipeline: Pipeline): string[] {
  const defined = new Set([...pipeline.resources, ...pipeline.jobs].map((o) => o.name));
  const unknown = new Set<string>();
  for (const job of pipeline.jobs) {
    for (const step of job.steps) if (step.kind !== "TASK" && !defined.has(step.name)) unknown.add(step.name);
    for (const hook of HOOK_NAMES)
      for (const { name } of job.hooks[hook].notify) if (!defined.has(name)) unknown.add(name);
  }
  return [...unknown].sort();
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

// The templates' document markers are blanked when they are placed in front of a file, as the
// loader does, so their anchors are visible in the file's first document.
const withoutMarkers = (text: string): string => text.replace(/^(?:---|\.\.\.)[ \t]*$/gm, "");

/** Adds what only the YAML shows: the forms TASK and hooks are written in, anchors, aliases. */
async function yamlFeatures(dir: string, files: readonly string[], add: (feature: string) => void): Promise<void> {
  const templates = new Set(files.filter((f) => baseOf(f) === TEMPLATES_FILE_NAME));
  const topKeys = (text: string): Set<string> => {
    const doc = parseAllDocuments(text, { uniqueKeys: false })[0];
    const contents = doc === undefined || Array.isArray(doc) ? undefined : doc.contents;
    return new Set(isMap(contents) ? contents.items.map((p) => String(isScalar(p.key) ? p.key.value : p.key)) : []);
  };
  for (const file of files) {
    const text = await readFile(join(dir, file), "utf8");
    const docs = parseAllDocuments(text, { uniqueKeys: false, merge: true });
    if (!Array.isArray(docs)) continue;
    if (docs.length > 1) add("YAML: several documents in a file");
    for (const doc of docs) {
      visit(doc, {
        Alias: () => {
          add("YAML: alias");
        },
        Node: (_, node) => {
          if (node.anchor !== undefined) add("YAML: anchor");
        },
        Pair: (_, pair) => {
          if (isScalar(pair.key) && pair.key.source === "<<") add("YAML: merge key");
        },
      });
    }
    if (templates.has(file)) continue;
    const tpl = templatesFor(file, templates);
    const prefix = tpl === undefined ? "" : withoutMarkers(await readFile(join(dir, tpl), "utf8"));
    if (tpl !== undefined) {
      const tplKeys = topKeys(prefix);
      if ([...topKeys(text)].some((k) => tplKeys.has(k))) add("templates: a key redefined by a file");
    }
    // With the templates in front, as the loader reads the file; a document that does not
    // parse (the mistakes of the corpus) has no forms to show.
    for (const doc of parseAllDocuments(`${prefix}\n${text}`, { uniqueKeys: false, merge: true })) {
      let value: unknown;
      try {
        value = doc.errors.length === 0 ? doc.toJS({ maxAliasCount: -1 }) : undefined;
      } catch {
        value = undefined;
      }
      const jobs = isObject(value) && Array.isArray(value.jobs) ? value.jobs : [];
      for (const job of jobs.filter(isObject)) {
        for (const hook of HOOK_NAMES) {
          if (Array.isArray(job[hook])) add("hook: list form");
          else if (isObject(job[hook])) add("hook: mapping form");
        }
        const steps = Array.isArray(job.steps) ? job.steps.filter(isObject) : [];
        for (const step of steps) {
          if (Array.isArray(step.TASK)) add("TASK: list form");
          else if (isObject(step.TASK)) add("TASK: mapping form");
        }
      }
    }
  }
}

/** Every feature a loaded line uses; `dir` is the line's directory, to read its YAML. */
export async function featuresOf(dir: string, result: LoadResult): Promise<Set<string>> {
  const features = new Set<string>();
  const add = (feature: string): void => void features.add(feature);
  modelFeatures(result, add);
  await yamlFeatures(dir, result.files, add);
  return features;
}
