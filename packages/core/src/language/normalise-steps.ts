import { diagnostic, type Diagnostic, type DocPath } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/did-you-mean.js";
import { checkValue } from "./check.js";
import type { DependencyMode, Hook, InStep, Mapping, NotifyItem, Origin, OutStep, Step, TaskStep } from "./model.js";
import { asMapping, asString, copyWithout, isMapping, origin } from "./normalise-values.js";
import { InStepSchema, OutStepSchema, TaskStepSchema } from "./schema.js";
import type { SourceDoc } from "./source-doc.js";

/** The steps of a job (IN, OUT, TASK), their scripts and the job's hooks, normalised. */

const STEP_KINDS = ["IN", "OUT", "TASK"] as const;
// The keys an IN or TASK step reads itself; the rest are the step's options.
const IN_STEP_KEYS: readonly string[] = ["IN", "switch", "versionName", "versionNumber", "dependencyMode"];
const TASK_STEP_KEYS: readonly string[] = ["TASK"];

// The one step kind a step has, or undefined when it has none or several.
function stepKind(node: Mapping): (typeof STEP_KINDS)[number] | undefined {
  let kind: (typeof STEP_KINDS)[number] | undefined;
  for (const k of STEP_KINDS) {
    if (!(k in node)) continue;
    if (kind !== undefined) return undefined;
    kind = k;
  }
  return kind;
}

export function normaliseStep(
  node: unknown,
  path: DocPath,
  taskOrdinal: number,
  doc: SourceDoc,
  out: Diagnostic[],
): Step | undefined {
  if (!isMapping(node)) {
    out.push(diagnostic("PIPELINE_SCHEMA", doc.locate(path), path, "a step must be a mapping with IN, OUT or TASK"));
    return undefined;
  }
  const kind = stepKind(node);
  if (kind === undefined) {
    const kinds = STEP_KINDS.filter((k) => k in node);
    const keys = Object.keys(node);
    const guess =
      kinds.length === 0 ? keys.map((k) => didYouMean(k, STEP_KINDS)).find((h) => h !== undefined) : undefined;
    out.push(
      diagnostic(
        "PIPELINE_SCHEMA",
        doc.locate(path),
        path,
        kinds.length === 0
          ? `a step needs one of IN, OUT or TASK (found ${keys.join(", ") || "nothing"})`
          : `a step has more than one of ${kinds.join(", ")}`,
        guess ?? "write each IN, OUT and TASK as its own list item",
      ),
    );
    return undefined;
  }
  const o = origin(doc, path);
  if (kind === "IN") {
    const { value } = checkValue(node, InStepSchema, path, doc, out);
    const p = asMapping(value);
    const sw = p.switch;
    const step: InStep = {
      kind: "IN",
      name: asString(p.IN) ?? "",
      switchOff: sw === false || (typeof sw === "string" && sw.toLowerCase() === "off"),
      versionName: asString(p.versionName),
      versionNumber: typeof p.versionNumber === "number" ? p.versionNumber : undefined,
      dependencyMode: asString(p.dependencyMode) as DependencyMode | undefined,
      options: copyWithout(p, IN_STEP_KEYS),
      origin: o,
    };
    if (step.versionName !== undefined && step.versionNumber !== undefined) {
      out.push(
        diagnostic(
          "PIPELINE_PIN_CONFLICT",
          doc.locate(path),
          path,
          `IN ${step.name} is pinned by both versionName and versionNumber`,
          "keep one of the two",
        ),
      );
    }
    return step;
  }
  if (kind === "OUT") {
    const { value } = checkValue(node, OutStepSchema, path, doc, out);
    const p = asMapping(value);
    const step: OutStep = {
      kind: "OUT",
      name: asString(p.OUT) ?? "",
      replicate: asString(p.replicate),
      replicateOnPullRequest: p.replicateOnPullRequest !== false,
      overwrite: p.overwrite === true,
      onFailure: p.on_failure === true,
      origin: o,
    };
    return step;
  }
  const { value } = checkValue(node, TaskStepSchema, path, doc, out);
  const p = asMapping(value);
  return normaliseTask(p.TASK, copyWithout(p, TASK_STEP_KEYS), o, taskOrdinal);
}

// Unnamed tasks are numbered among the job's tasks: "Task 1" is the first TASK step.
// Every form gives the same key order (the order a task step always had).
function normaliseTask(task: unknown, stepOptions: Mapping, o: Origin, index: number): TaskStep {
  if (task === "managed" || Array.isArray(task)) {
    const script: string[] = [];
    if (Array.isArray(task)) for (const item of task) flattenInto(asMapping(item).script, script);
    return {
      kind: "TASK",
      options: stepOptions,
      origin: o,
      container: undefined,
      image: undefined,
      containerOptions: undefined,
      env: {},
      name: `Task ${index}`,
      managed: task === "managed",
      script,
    };
  }
  const t = asMapping(task);
  const runtime = asMapping(t.runtime);
  const options = asMapping(runtime.options);
  const imageName = asString(options.imageName);
  return {
    kind: "TASK",
    options: stepOptions,
    origin: o,
    container: typeof runtime.container === "boolean" ? runtime.container : undefined,
    image: imageName === undefined ? undefined : { name: imageName, tag: asString(options.imageTag) ?? "latest" },
    containerOptions: asString(options.options),
    env: normaliseEnv(options.env),
    name: asString(t.name) ?? `Task ${index}`,
    managed: false,
    script: flattenScript(t.script),
  };
}

/** Flattens a script value: a string, or a list whose items may be lists (anchors). */
export function flattenScript(value: unknown): string[] {
  const lines: string[] = [];
  flattenInto(value, lines);
  return lines;
}

function flattenInto(value: unknown, lines: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) flattenInto(item, lines);
    return;
  }
  const line = asString(value);
  if (line !== undefined) lines.push(line);
}

function normaliseEnv(value: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  const entries = Array.isArray(value) ? value : [value];
  for (const entry of entries) {
    for (const [k, v] of Object.entries(asMapping(entry))) env[k] = asString(v) ?? JSON.stringify(v);
  }
  return env;
}

/** A hook in either form; `NOTIFY` items as names or `{name, sendFailingSnippet}`. */
export function normaliseHook(value: unknown): Hook {
  if (value === undefined || value === null) return { script: [], notify: [] };
  const items = Array.isArray(value) ? value : [value];
  const script: string[] = [];
  const notify: NotifyItem[] = [];
  for (const item of items) {
    const m = asMapping(item);
    flattenInto(m.script, script);
    const targets: unknown[] = Array.isArray(m.NOTIFY) ? m.NOTIFY : m.NOTIFY === undefined ? [] : [m.NOTIFY];
    for (const target of targets) {
      if (isMapping(target)) {
        const name = asString(target.name);
        if (name !== undefined) notify.push({ name, sendFailingSnippet: target.sendFailingSnippet === true });
      } else {
        const name = asString(target);
        if (name !== undefined) notify.push({ name, sendFailingSnippet: false });
      }
    }
  }
  return { script, notify };
}
