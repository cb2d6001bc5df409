import { diagnostic, type Diagnostic, type DocPath } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/did-you-mean.js";
import { checkValue } from "./check.js";
import { readSchedule } from "../engine/schedule.js";
import { readNotification } from "../kinds/notification.js";
import {
  DEFAULT_PRIORITY,
  DEFAULT_TIMEOUT_MINUTES,
  HOOK_NAMES,
  type Approval,
  type DependencyMode,
  type Hook,
  type HookName,
  type JobDef,
  type JobSupport,
  type ParamSpec,
  type ResourceDef,
  type Retries,
  type Step,
  type TypeSupport,
} from "./model.js";
import {
  CI_TOP_LEVEL_KEYS,
  GENERIC_RESOURCE_TYPES,
  IGNORED_JOB_KEYS,
  JOB_TYPES,
  JobSchema,
  PROVIDER_RESOURCE_TYPES,
  RESOURCE_TYPES,
  ResourceSchema,
  RUNNABLE_JOB_TYPES,
  SYSTEM_RESOURCE_TYPES,
  UNSUPPORTED_JOB_TYPES,
} from "./schema.js";
import { normaliseHook, normaliseStep } from "./normalise-steps.js";
import { asMapping, asString, asStrings, copyWithout, isMapping, origin } from "./normalise-values.js";
import type { SourceDoc } from "./source-doc.js";

/**
 * A definition whose `consistent` the cross-object checks may still clear. The loader hands
 * drafts out as they are, with no copy.
 */
export type Draft<T> = Omit<T, "consistent"> & { consistent: boolean };

/** What one file contributes to the line. */
export interface FileDefinitions {
  readonly resources: Draft<ResourceDef>[];
  readonly jobs: Draft<JobDef>[];
}

const TOP_LEVEL = ["resources", "jobs", "triggers"] as const;
// Steps are checked one by one, each against its own form, so the job-level check leaves
// them out (a union of three step forms gives poor messages).
const JOB_SHELL_SCHEMA = JobSchema.omit({ steps: true });
const JOB_SHELL_SKIPPED: readonly string[] = ["steps", ...IGNORED_JOB_KEYS];
const MANAGED_JOB_OPTIONS = ["method", "maxWaitTime", "stabilityDuration", "workflow", "bump"] as const;

/**
 * Turns the documents of one file into normalised definitions, appending diagnostics.
 * `skipFrom`: a prepended templates file that wrongly defines objects; its lists are skipped.
 */
export function normaliseFile(
  docs: readonly SourceDoc[],
  skipFrom: string | undefined,
  out: Diagnostic[],
): FileDefinitions {
  const defs: FileDefinitions = { resources: [], jobs: [] };
  for (const doc of docs) {
    if (doc.value === null || doc.value === undefined) continue;
    if (!isMapping(doc.value)) {
      out.push(
        diagnostic(
          "PIPELINE_NOT_A_MAPPING",
          doc.locate([]),
          [],
          "the top level of a pipeline file must be a mapping with resources: and jobs:",
        ),
      );
      continue;
    }
    for (const [key, value] of Object.entries(doc.value)) {
      if (key === "resources" || key === "triggers" || key === "jobs") {
        if (value === null) continue;
        if (skipFrom !== undefined && doc.locate([key], true).file === skipFrom) continue;
        if (!Array.isArray(value)) {
          out.push(diagnostic("PIPELINE_SCHEMA", doc.locate([key]), [key], `${key}: expected a list`));
          continue;
        }
        value.forEach((item: unknown, i) => {
          if (key === "jobs") defs.jobs.push(normaliseJob(item, [key, i], doc, out));
          else defs.resources.push(normaliseResource(item, [key, i], key === "triggers", doc, out));
        });
      } else if (doc.anchored([key])) {
        // A template holder (`name: &anchor ...`): it exists for its anchor.
        continue;
      } else if (doc.locate([key], true).file !== doc.file) {
        // A key of a prepended templates file: reported, if at all, with that file.
        continue;
      } else if ((CI_TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
        out.push(
          diagnostic(
            "PIPELINE_CI_KEY_IGNORED",
            doc.locate([key], true),
            [key],
            `"${key}" is a CI key; the assembly line ignores it`,
          ),
        );
      } else {
        out.push(
          diagnostic(
            "PIPELINE_UNKNOWN_TOP_LEVEL_KEY",
            doc.locate([key], true),
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

function errorsSince(out: readonly Diagnostic[], from: number): boolean {
  for (let i = from; i < out.length; i++) if (out[i]?.severity === "error") return true;
  return false;
}

function resourceSupport(type: string): TypeSupport {
  if ((GENERIC_RESOURCE_TYPES as readonly string[]).includes(type)) return "generic";
  if ((PROVIDER_RESOURCE_TYPES as readonly string[]).includes(type)) return "provider";
  if ((SYSTEM_RESOURCE_TYPES as readonly string[]).includes(type)) return "system";
  return "unknown";
}

function normaliseResource(
  item: unknown,
  path: DocPath,
  legacyTrigger: boolean,
  doc: SourceDoc,
  out: Diagnostic[],
): Draft<ResourceDef> {
  const from = out.length;
  const { value } = checkValue(item, ResourceSchema, path, doc, out);
  const plain = asMapping(value);
  const name = asString(plain.name) ?? "";
  const type = asString(plain.type) ?? "";
  const support = resourceSupport(type);
  if (type !== "") typeDiagnostics(type, support, doc, [...path, "type"], name, out);
  if (legacyTrigger && type !== "" && type !== "trigger") {
    out.push(
      diagnostic(
        "PIPELINE_SCHEMA",
        doc.locate([...path, "type"]),
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
  if (hasTemplate) {
    for (const legacy of ["pointer", "seed", "version"]) {
      if (plain[legacy] === undefined) continue;
      out.push(
        diagnostic(
          "PIPELINE_IGNORED_KEY",
          doc.locate([...path, legacy], true),
          [...path, legacy],
          `"${legacy}" is ignored because versionTemplate is present`,
          "move its keys into versionTemplate",
        ),
      );
    }
  }
  const template = hasTemplate ? asMapping(plain.versionTemplate) : { ...pointer, ...seed, ...version };
  if (type === "time") scheduleDiagnostics(template, hasTemplate, plain, path, doc, name, out);
  if (type === "notification") notificationDiagnostics(template, hasTemplate, plain, path, doc, name, out);
  return {
    name,
    type,
    support,
    integration: asString(plain.integration),
    flags: asStrings(plain.flags),
    syntax: hasTemplate ? "versionTemplate" : "legacy",
    template,
    pointer: hasTemplate ? asMapping(plain.versionTemplate) : pointer,
    // Ignored beside a versionTemplate (PIPELINE_IGNORED_KEY): no <N>_SEED_* variables from them.
    seed: hasTemplate ? {} : seed,
    version: hasTemplate ? {} : version,
    legacyTrigger,
    origin: origin(doc, path),
    consistent: !errorsSince(out, from),
  };
}

// A `time` resource's schedule must be a cron expression that fires, in a known time zone: the
// diagnostic points at the key (in versionTemplate, or in the legacy block that holds it).
function scheduleDiagnostics(
  template: Readonly<Record<string, unknown>>,
  hasTemplate: boolean,
  plain: Readonly<Record<string, unknown>>,
  path: DocPath,
  doc: SourceDoc,
  name: string,
  out: Diagnostic[],
): void {
  const result = readSchedule(template);
  if (result.ok) return;
  const block = hasTemplate
    ? "versionTemplate"
    : (["version", "seed", "pointer"].find((b) => asMapping(plain[b])[result.key] !== undefined) ??
      (plain.seed !== undefined ? "seed" : undefined));
  const at = block === undefined ? [...path] : [...path, block, result.key];
  out.push(
    diagnostic(
      "PIPELINE_INVALID_SCHEDULE",
      doc.locate(at),
      at,
      `time resource ${name}: ${result.message}`,
      result.key === "interval"
        ? 'five fields, minute hour day-of-month month day-of-week, in UTC: "0 3 * * *" is every day at 03:00, "*/15 * * * 1-5" every 15 minutes on weekdays'
        : "an IANA time zone name such as Europe/Paris or America/New_York, or remove timeZone for UTC",
    ),
  );
}

// A notification resource's method and recipients (readNotification): each problem points at
// the key, or at the recipient, in versionTemplate or in the legacy block that holds it.
function notificationDiagnostics(
  template: Readonly<Record<string, unknown>>,
  hasTemplate: boolean,
  plain: Readonly<Record<string, unknown>>,
  path: DocPath,
  doc: SourceDoc,
  name: string,
  out: Diagnostic[],
): void {
  for (const problem of readNotification(template).problems) {
    const block = hasTemplate
      ? "versionTemplate"
      : ["version", "seed", "pointer"].find((b) => asMapping(plain[b])[problem.key] !== undefined);
    const key = block === undefined ? [...path] : [...path, block, problem.key];
    const at = problem.index === undefined || !Array.isArray(template[problem.key]) ? key : [...key, problem.index];
    out.push(
      diagnostic(problem.code, doc.locate(at), at, `notification resource ${name}: ${problem.message}`, problem.hint),
    );
  }
}

function typeDiagnostics(
  type: string,
  support: TypeSupport,
  doc: SourceDoc,
  path: DocPath,
  name: string,
  out: Diagnostic[],
): void {
  if (support === "provider") {
    out.push(
      diagnostic(
        "PIPELINE_PROVIDER_TYPE",
        doc.locate(path),
        path,
        `resource ${name} has provider-specific type ${type}: it is kept as versioned configuration with no managed behaviour`,
        "its values reach jobs as environment variables; deploy with a runSh job",
      ),
    );
  } else if (support === "system") {
    out.push(
      diagnostic(
        "PIPELINE_PROVIDER_TYPE",
        doc.locate(path),
        path,
        `resource ${name} has type ${type}, which Shippable created itself: it is kept as opaque configuration`,
      ),
    );
  } else if (support === "unknown") {
    out.push(
      diagnostic(
        "PIPELINE_UNKNOWN_RESOURCE_TYPE",
        doc.locate(path),
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

function normaliseJob(item: unknown, path: DocPath, doc: SourceDoc, out: Diagnostic[]): Draft<JobDef> {
  const from = out.length;
  const raw = isMapping(item) ? item : undefined;
  const stepsValue = raw?.steps;
  const shell = raw === undefined ? item : copyWithout(raw, JOB_SHELL_SKIPPED);
  const { value } = checkValue(shell, JOB_SHELL_SCHEMA, path, doc, out);
  const plain = asMapping(value);
  if (raw !== undefined && IGNORED_JOB_KEYS.some((key) => Object.hasOwn(raw, key))) {
    for (const key of Object.keys(raw)) {
      if ((IGNORED_JOB_KEYS as readonly string[]).includes(key)) {
        out.push(
          diagnostic(
            "PIPELINE_IGNORED_KEY",
            doc.locate([...path, key], true),
            [...path, key],
            `"${key}" on a job is ignored, as Shippable ignored it`,
          ),
        );
      }
    }
  }
  const name = asString(plain.name) ?? "";
  const type = asString(plain.type) ?? "";
  const support = jobSupport(type);
  if (type !== "") {
    if (support === "unsupported") {
      out.push(
        diagnostic(
          "PIPELINE_UNSUPPORTED_JOB_TYPE",
          doc.locate([...path, "type"]),
          [...path, "type"],
          `job ${name} has type ${type}, which Causeway recognises but does not run yet; its runs end with status skipped`,
          "use a runSh job to script the same work",
        ),
      );
    } else if (support === "unknown") {
      out.push(
        diagnostic(
          "PIPELINE_UNKNOWN_JOB_TYPE",
          doc.locate([...path, "type"]),
          [...path, "type"],
          `job ${name} has unknown type ${type}`,
          didYouMean(type, JOB_TYPES) ?? `known types: ${JOB_TYPES.join(", ")}`,
        ),
      );
    } else if (type === "runCLI") {
      out.push(
        diagnostic(
          "PIPELINE_DEPRECATED",
          doc.locate([...path, "type"]),
          [...path, "type"],
          "runCLI is a deprecated alias of runSh",
          "write type: runSh",
        ),
      );
    }
  }
  const steps: Step[] = [];
  const managedOptions: Record<string, unknown> = {};
  if (Array.isArray(stepsValue)) {
    let tasks = 0;
    for (let i = 0; i < stepsValue.length; i++) {
      const step = normaliseStep(stepsValue[i], [...path, "steps", i], tasks + 1, doc, out);
      if (step === undefined) continue;
      steps.push(step);
      if (step.kind !== "TASK") continue;
      tasks++;
      if (step.managed) Object.assign(managedOptions, step.options);
    }
  } else if (stepsValue !== undefined && stepsValue !== null) {
    out.push(
      diagnostic(
        "PIPELINE_SCHEMA",
        doc.locate([...path, "steps"]),
        [...path, "steps"],
        "steps: expected a list of IN, OUT and TASK steps",
      ),
    );
  }
  const runtime = asMapping(plain.runtime);
  const options: Record<string, unknown> = { ...managedOptions };
  for (const key of MANAGED_JOB_OPTIONS) if (plain[key] !== undefined) options[key] = plain[key];
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
    origin: origin(doc, path),
    consistent: !errorsSince(out, from),
  };
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
