import { diagnostic, formatPath, type Diagnostic, type DocPath } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/did-you-mean.js";
import { checkNode } from "./check.js";
import {
  DEFAULT_PRIORITY,
  DEFAULT_TIMEOUT_MINUTES,
  HOOK_NAMES,
  type Approval,
  type DependencyMode,
  type Hook,
  type HookName,
  type InStep,
  type JobDef,
  type JobSupport,
  type Mapping,
  type Origin,
  type OutStep,
  type ParamSpec,
  type ResourceDef,
  type Retries,
  type Step,
  type TaskStep,
  type TypeSupport,
} from "./model.js";
import {
  CI_TOP_LEVEL_KEYS,
  GENERIC_RESOURCE_TYPES,
  IGNORED_JOB_KEYS,
  InStepSchema,
  JOB_TYPES,
  JobSchema,
  OutStepSchema,
  PROVIDER_RESOURCE_TYPES,
  RESOURCE_TYPES,
  ResourceSchema,
  RUNNABLE_JOB_TYPES,
  SYSTEM_RESOURCE_TYPES,
  TaskStepSchema,
  UNSUPPORTED_JOB_TYPES,
} from "./schema.js";
import { rangeOf, type PMap, type PNode, type ParsedFile } from "./yaml-source.js";

/** A definition before cross-object checks decide whether it is consistent. */
export type Draft<T> = Omit<T, "consistent"> & { bad: boolean };

/** What one file contributes to the line. */
export interface FileDefinitions {
  readonly resources: Draft<ResourceDef>[];
  readonly jobs: Draft<JobDef>[];
}

const TOP_LEVEL = ["resources", "jobs", "triggers"] as const;
// Steps are checked one by one, each against its own form, so the job-level check leaves
// them out (a union of three step forms gives poor messages).
const JOB_SHELL_SCHEMA = JobSchema.omit({ steps: true });

/**
 * Turns the documents of one file into normalised definitions, appending diagnostics.
 * `isTemplates`: the file is a `shippable.templates.yml`, whose top-level keys only hold anchors.
 */
export function normaliseFile(parsed: ParsedFile, isTemplates: boolean, out: Diagnostic[]): FileDefinitions {
  const defs: FileDefinitions = { resources: [], jobs: [] };
  if (isTemplates) return defs;
  for (const doc of parsed.documents) {
    if (doc.kind === "scalar" && doc.value === null) continue;
    if (doc.kind !== "map") {
      out.push(
        diagnostic(
          "PIPELINE_NOT_A_MAPPING",
          rangeOf(doc),
          [],
          "the top level of a pipeline file must be a mapping with resources: and jobs:",
        ),
      );
      continue;
    }
    for (const e of doc.entries) {
      const key = e.key;
      if (key === "resources" || key === "triggers" || key === "jobs") {
        if (e.value.kind === "scalar" && e.value.value === null) continue;
        if (e.value.kind !== "seq") {
          out.push(diagnostic("PIPELINE_SCHEMA", rangeOf(e.value), [key], `${key}: expected a list`));
          continue;
        }
        e.value.items.forEach((item, i) => {
          if (key === "jobs") defs.jobs.push(normaliseJob(item, [key, i], out));
          else defs.resources.push(normaliseResource(item, [key, i], key === "triggers", out));
        });
      } else if ((CI_TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
        out.push(
          diagnostic(
            "PIPELINE_CI_KEY_IGNORED",
            rangeOf(e.keyNode),
            [key],
            `"${key}" is a CI key; the assembly line ignores it`,
          ),
        );
      } else if (!(e.value.kind !== "scalar" && e.value.anchored)) {
        out.push(
          diagnostic(
            "PIPELINE_UNKNOWN_TOP_LEVEL_KEY",
            rangeOf(e.keyNode),
            [key],
            `unknown top-level key "${key}" is ignored`,
            didYouMean(key, TOP_LEVEL) ?? "a pipeline file has resources:, jobs: and (legacy) triggers:",
          ),
        );
      }
    }
  }
  return defs;
}

function origin(node: PNode, path: DocPath): Origin {
  const range = rangeOf(node);
  return { file: range.file, path: formatPath(path), range };
}

function errorsSince(out: readonly Diagnostic[], from: number): boolean {
  for (let i = from; i < out.length; i++) if (out[i]?.severity === "error") return true;
  return false;
}

function asMapping(value: unknown): Mapping {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Mapping) : {};
}

function asString(value: unknown): string | undefined {
  return typeof value === "string"
    ? value
    : typeof value === "number" || typeof value === "boolean"
      ? String(value)
      : undefined;
}

function asStrings(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(asString).filter((v): v is string => v !== undefined);
  const single = asString(value);
  return single === undefined ? [] : [single];
}

function resourceSupport(type: string): TypeSupport {
  if ((GENERIC_RESOURCE_TYPES as readonly string[]).includes(type)) return "generic";
  if ((PROVIDER_RESOURCE_TYPES as readonly string[]).includes(type)) return "provider";
  if ((SYSTEM_RESOURCE_TYPES as readonly string[]).includes(type)) return "system";
  return "unknown";
}

function normaliseResource(node: PNode, path: DocPath, legacyTrigger: boolean, out: Diagnostic[]): Draft<ResourceDef> {
  const from = out.length;
  const { value } = checkNode(node, ResourceSchema, path, out);
  const plain = asMapping(value);
  const name = asString(plain.name) ?? "";
  const type = asString(plain.type) ?? "";
  const support = resourceSupport(type);
  const typeNode = node.kind === "map" ? node.entries.find((e) => e.key === "type")?.value : undefined;
  if (type !== "" && typeNode !== undefined) typeDiagnostics(type, support, typeNode, [...path, "type"], name, out);
  if (legacyTrigger && type !== "" && type !== "trigger" && typeNode !== undefined) {
    out.push(
      diagnostic(
        "PIPELINE_SCHEMA",
        rangeOf(typeNode),
        [...path, "type"],
        `an entry of triggers: must have type trigger, not ${type}`,
        "move it to resources:",
      ),
    );
  }
  const pointer = asMapping(plain.pointer);
  const seed = asMapping(plain.seed);
  const version = asMapping(plain.version);
  const hasTemplate = plain.versionTemplate !== undefined;
  return {
    name,
    type,
    support,
    integration: asString(plain.integration),
    flags: asStrings(plain.flags),
    syntax: hasTemplate ? "versionTemplate" : "legacy",
    template: hasTemplate ? asMapping(plain.versionTemplate) : { ...pointer, ...seed, ...version },
    pointer: hasTemplate ? asMapping(plain.versionTemplate) : pointer,
    seed,
    version,
    legacyTrigger,
    origin: origin(node, path),
    bad: errorsSince(out, from),
  };
}

function typeDiagnostics(
  type: string,
  support: TypeSupport,
  at: PNode,
  path: DocPath,
  name: string,
  out: Diagnostic[],
): void {
  if (support === "provider") {
    out.push(
      diagnostic(
        "PIPELINE_PROVIDER_TYPE",
        rangeOf(at),
        path,
        `resource ${name} has provider-specific type ${type}: it is kept as versioned configuration with no managed behaviour`,
        "its values reach jobs as environment variables; deploy with a runSh job",
      ),
    );
  } else if (support === "system") {
    out.push(
      diagnostic(
        "PIPELINE_PROVIDER_TYPE",
        rangeOf(at),
        path,
        `resource ${name} has type ${type}, which Shippable created itself: it is kept as opaque configuration`,
      ),
    );
  } else if (support === "unknown") {
    out.push(
      diagnostic(
        "PIPELINE_UNKNOWN_RESOURCE_TYPE",
        rangeOf(at),
        path,
        `resource ${name} has unknown type ${type}: it is kept as opaque configuration`,
        didYouMean(type, RESOURCE_TYPES) ?? `known types: ${RESOURCE_TYPES.join(", ")}`,
      ),
    );
  }
}

function jobSupport(type: string): JobSupport {
  if ((RUNNABLE_JOB_TYPES as readonly string[]).includes(type)) return "runnable";
  if ((UNSUPPORTED_JOB_TYPES as readonly string[]).includes(type)) return "unsupported";
  return "unknown";
}

function normaliseJob(node: PNode, path: DocPath, out: Diagnostic[]): Draft<JobDef> {
  const from = out.length;
  const stepsNode = node.kind === "map" ? node.entries.find((e) => e.key === "steps")?.value : undefined;
  const shell = node.kind === "map" ? withoutKeys(node, ["steps", ...IGNORED_JOB_KEYS]) : node;
  const { value } = checkNode(shell, JOB_SHELL_SCHEMA, path, out);
  const plain = asMapping(value);
  if (node.kind === "map") {
    for (const e of node.entries) {
      if ((IGNORED_JOB_KEYS as readonly string[]).includes(e.key)) {
        out.push(
          diagnostic(
            "PIPELINE_IGNORED_KEY",
            rangeOf(e.keyNode),
            [...path, e.key],
            `"${e.key}" on a job is ignored, as Shippable ignored it`,
          ),
        );
      }
    }
  }
  const name = asString(plain.name) ?? "";
  const type = asString(plain.type) ?? "";
  const support = jobSupport(type);
  const typeNode = node.kind === "map" ? node.entries.find((e) => e.key === "type")?.value : undefined;
  if (typeNode !== undefined && type !== "") {
    if (support === "unsupported") {
      out.push(
        diagnostic(
          "PIPELINE_UNSUPPORTED_JOB_TYPE",
          rangeOf(typeNode),
          [...path, "type"],
          `job ${name} has type ${type}, which Causeway recognises but does not run yet; its runs end with status skipped`,
          "use a runSh job to script the same work",
        ),
      );
    } else if (support === "unknown") {
      out.push(
        diagnostic(
          "PIPELINE_UNKNOWN_JOB_TYPE",
          rangeOf(typeNode),
          [...path, "type"],
          `job ${name} has unknown type ${type}`,
          didYouMean(type, JOB_TYPES) ?? `known types: ${JOB_TYPES.join(", ")}`,
        ),
      );
    } else if (type === "runCLI") {
      out.push(
        diagnostic(
          "PIPELINE_DEPRECATED",
          rangeOf(typeNode),
          [...path, "type"],
          "runCLI is a deprecated alias of runSh",
          "write type: runSh",
        ),
      );
    }
  }
  const steps: Step[] = [];
  const managedOptions: Record<string, unknown> = {};
  if (stepsNode !== undefined && stepsNode.kind === "seq") {
    stepsNode.items.forEach((stepNode, i) => {
      const step = normaliseStep(stepNode, [...path, "steps", i], out);
      if (step === undefined) return;
      steps.push(step);
      if (step.kind === "TASK" && step.managed) Object.assign(managedOptions, step.options);
    });
  } else if (stepsNode !== undefined && !(stepsNode.kind === "scalar" && stepsNode.value === null)) {
    out.push(
      diagnostic(
        "PIPELINE_SCHEMA",
        rangeOf(stepsNode),
        [...path, "steps"],
        "steps: expected a list of IN, OUT and TASK steps",
      ),
    );
  }
  const runtime = asMapping(plain.runtime);
  const options: Record<string, unknown> = { ...managedOptions };
  for (const key of ["method", "maxWaitTime", "stabilityDuration", "workflow", "bump"])
    if (plain[key] !== undefined) options[key] = plain[key];
  const hooks = {} as Record<HookName, Hook>;
  for (const hook of HOOK_NAMES) hooks[hook] = normaliseHook(plain[hook]);
  return {
    name,
    type,
    support,
    steps,
    dependencyMode: (asString(plain.dependencyMode) as DependencyMode | undefined) ?? "chrono",
    triggerMode: plain.triggerMode === "parallel" ? "parallel" : "serial",
    priority: typeof plain.priority === "number" ? plain.priority : DEFAULT_PRIORITY,
    runtime: {
      nodePool: asString(runtime.nodePool),
      container: typeof runtime.container === "boolean" ? runtime.container : undefined,
      timeoutMinutes: typeof runtime.timeoutMinutes === "number" ? runtime.timeoutMinutes : DEFAULT_TIMEOUT_MINUTES,
    },
    integrations: asStrings(plain.integrations),
    flags: asStrings(plain.flags),
    allowPublicAccess: plain.allowPublicAccess === true,
    hooks,
    requiresApproval: normaliseApproval(plain.requiresApproval),
    retries: normaliseRetries(plain.retries),
    concurrencyGroup: asString(plain.concurrencyGroup),
    coalesce: plain.coalesce === "latest" ? "latest" : undefined,
    params: normaliseParams(plain.params),
    options,
    origin: origin(node, path),
    bad: errorsSince(out, from),
  };
}

function withoutKeys(node: PMap, keys: readonly string[]): PMap {
  return { ...node, entries: node.entries.filter((e) => !keys.includes(e.key)) };
}

const STEP_KINDS = ["IN", "OUT", "TASK"] as const;

function normaliseStep(node: PNode, path: DocPath, out: Diagnostic[]): Step | undefined {
  if (node.kind !== "map") {
    out.push(diagnostic("PIPELINE_SCHEMA", rangeOf(node), path, "a step must be a mapping with IN, OUT or TASK"));
    return undefined;
  }
  const kinds = STEP_KINDS.filter((k) => node.entries.some((e) => e.key === k));
  if (kinds.length !== 1) {
    const keys = node.entries.map((e) => e.key);
    const guess = keys.map((k) => didYouMean(k, STEP_KINDS)).find((h) => h !== undefined);
    out.push(
      diagnostic(
        "PIPELINE_SCHEMA",
        rangeOf(node),
        path,
        kinds.length === 0
          ? `a step needs one of IN, OUT or TASK (found ${keys.join(", ") || "nothing"})`
          : `a step has more than one of ${kinds.join(", ")}`,
        guess ?? "write each IN, OUT and TASK as its own list item",
      ),
    );
    return undefined;
  }
  const kind = kinds[0];
  const o = origin(node, path);
  if (kind === "IN") {
    const { value } = checkNode(node, InStepSchema, path, out);
    const p = asMapping(value);
    const { IN, switch: sw, versionName, versionNumber, dependencyMode, ...options } = p;
    const step: InStep = {
      kind: "IN",
      name: asString(IN) ?? "",
      switchOff: sw === false || (typeof sw === "string" && sw.toLowerCase() === "off"),
      versionName: asString(versionName),
      versionNumber: typeof versionNumber === "number" ? versionNumber : undefined,
      dependencyMode: asString(dependencyMode) as DependencyMode | undefined,
      options,
      origin: o,
    };
    if (step.versionName !== undefined && step.versionNumber !== undefined) {
      out.push(
        diagnostic(
          "PIPELINE_PIN_CONFLICT",
          rangeOf(node),
          path,
          `IN ${step.name} is pinned by both versionName and versionNumber`,
          "keep one of the two",
        ),
      );
    }
    return step;
  }
  if (kind === "OUT") {
    const { value } = checkNode(node, OutStepSchema, path, out);
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
  const { value } = checkNode(node, TaskStepSchema, path, out);
  const p = asMapping(value);
  const { TASK, ...stepOptions } = p;
  return normaliseTask(TASK, stepOptions, o, path);
}

function normaliseTask(task: unknown, stepOptions: Mapping, o: Origin, path: DocPath): TaskStep {
  const index = typeof path[path.length - 1] === "number" ? (path[path.length - 1] as number) + 1 : 1;
  const base = {
    kind: "TASK" as const,
    options: stepOptions,
    origin: o,
    container: undefined,
    image: undefined,
    containerOptions: undefined,
    env: {},
  };
  if (task === "managed") return { ...base, name: `Task ${index}`, managed: true, script: [] };
  if (Array.isArray(task)) {
    return {
      ...base,
      name: `Task ${index}`,
      managed: false,
      script: task.flatMap((item) => flattenScript(asMapping(item).script)),
    };
  }
  const t = asMapping(task);
  const runtime = asMapping(t.runtime);
  const options = asMapping(runtime.options);
  const imageName = asString(options.imageName);
  return {
    ...base,
    name: asString(t.name) ?? `Task ${index}`,
    managed: false,
    script: flattenScript(t.script),
    container: typeof runtime.container === "boolean" ? runtime.container : undefined,
    image: imageName === undefined ? undefined : { name: imageName, tag: asString(options.imageTag) ?? "latest" },
    containerOptions: asString(options.options),
    env: normaliseEnv(options.env),
  };
}

/** Flattens a script value: a string, or a list whose items may be lists (anchors). */
export function flattenScript(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return asStrings(value);
  return value.flatMap((item) => (Array.isArray(item) ? flattenScript(item) : asStrings(item)));
}

function normaliseEnv(value: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  const entries = Array.isArray(value) ? value : [value];
  for (const entry of entries) {
    for (const [k, v] of Object.entries(asMapping(entry))) env[k] = asString(v) ?? JSON.stringify(v);
  }
  return env;
}

function normaliseHook(value: unknown): Hook {
  if (value === undefined || value === null) return { script: [], notify: [] };
  const items = Array.isArray(value) ? value : [value];
  const script: string[] = [];
  const notify: string[] = [];
  for (const item of items) {
    const m = asMapping(item);
    script.push(...flattenScript(m.script));
    notify.push(...asStrings(m.NOTIFY));
  }
  return { script, notify };
}

function normaliseApproval(value: unknown): Approval | undefined {
  if (value === undefined || value === null || value === false) return undefined;
  const m = asMapping(value);
  return {
    approvers: asStrings(m.approvers),
    minApprovals: typeof m.minApprovals === "number" ? m.minApprovals : 1,
    timeoutMinutes: typeof m.timeoutMinutes === "number" ? m.timeoutMinutes : 1440,
    onTimeout: m.onTimeout === "approve" ? "approve" : "reject",
    preventSelfApproval: m.preventSelfApproval === true,
  };
}

function normaliseRetries(value: unknown): Retries {
  if (typeof value === "number") return { max: value, on: ["lost"] };
  const m = asMapping(value);
  const on = asStrings(m.on).filter(
    (v): v is Retries["on"][number] => v === "failure" || v === "lost" || v === "timeout",
  );
  return { max: typeof m.max === "number" ? m.max : 0, on: on.length > 0 ? on : ["lost"] };
}

function normaliseParams(value: unknown): ParamSpec[] {
  return Object.entries(asMapping(value)).map(([name, spec]) => {
    const s = asMapping(spec);
    const def = s.default;
    return {
      name,
      type: (asString(s.type) as ParamSpec["type"] | undefined) ?? "string",
      default: typeof def === "string" || typeof def === "number" || typeof def === "boolean" ? def : undefined,
      choices: Array.isArray(s.choices)
        ? s.choices.filter((c): c is string | number => typeof c === "string" || typeof c === "number")
        : [],
      required: s.required === true,
      description: asString(s.description),
    };
  });
}
