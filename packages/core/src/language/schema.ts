import { z } from "zod";

// The single source of truth of the language's keys: the validator checks every object against
// these schemas, and scripts/generate-schema.ts turns them into docs/causeway.schema.json for
// editors. Keep descriptions short: editors show them on hover.

/** Resource types implemented fully by Causeway. */
export const GENERIC_RESOURCE_TYPES = [
  "gitRepo",
  "params",
  "integration",
  "state",
  "trigger",
  "time",
  "version",
  "webhook",
  "notification",
  "image",
  "file",
  "externalCIServer",
] as const;

/** Provider-tied resource types: accepted as opaque, versioned configuration. */
export const PROVIDER_RESOURCE_TYPES = ["cluster", "dockerOptions", "replicas", "loadBalancer", "cliConfig"] as const;

/** Resource types that Shippable created itself and that Causeway keeps as opaque configuration. */
export const SYSTEM_RESOURCE_TYPES = ["syncRepo", "ciRepo"] as const;

/** Job types that run: `runCLI` is an alias of `runSh`. */
export const RUNNABLE_JOB_TYPES = ["runSh", "runCLI", "release", "externalCI"] as const;

/** Job types that are recognised and drawn but not run yet. */
export const UNSUPPORTED_JOB_TYPES = ["runCI", "manifest", "deploy", "provision", "jenkinsJob"] as const;

/** Every job type the language knows. */
export const JOB_TYPES = [...RUNNABLE_JOB_TYPES, ...UNSUPPORTED_JOB_TYPES] as const;

/** Every resource type the language knows. */
export const RESOURCE_TYPES = [
  ...GENERIC_RESOURCE_TYPES,
  ...PROVIDER_RESOURCE_TYPES,
  ...SYSTEM_RESOURCE_TYPES,
] as const;

/** The message of a name that starts with `.` or `-`. */
export const NAME_START_MESSAGE = "must start with a letter, a digit or _";

// A name is a URL path segment (/jobs/NAME), a directory name (IN/NAME) and a command-line
// argument: `.`, `..` and a leading `-` would each break one of them.
const name = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, _, - and .")
  .regex(/^[A-Za-z0-9_]/, NAME_START_MESSAGE)
  .describe("Unique name of the object: letters, digits, _, - and ., starting with a letter, a digit or _");
const flags = z
  .array(z.string())
  .describe("Tags for filtering the graph: a flag shows its objects and their whole chain.");
const freeMapping = z.record(z.string(), z.unknown());
const dependencyMode = z
  .enum(["chrono", "immediate", "strict"])
  .describe(
    "chrono: one run per event, in order; immediate: run on every event; strict: wait for every upstream job to finish.",
  );
const onOff = z.union([z.enum(["on", "off", "On", "Off", "ON", "OFF"]), z.boolean()]);
const scriptLine = z.union([z.string(), z.number(), z.boolean()]);
type ScriptItem = string | number | boolean | ScriptItem[];
const scriptItem: z.ZodType<ScriptItem> = z.lazy(() => z.union([z.array(scriptItem), scriptLine]));
/** A script: one string or a list of lines; a list item may be a list (an anchor), flattened. */
export const ScriptSchema = z
  .union([z.array(scriptItem), scriptLine])
  .describe("bash lines; each runs in order and the task stops at the first failing line");
const notifyItem = z.union([
  name,
  z.strictObject({
    name,
    sendFailingSnippet: z
      .boolean()
      .optional()
      .describe("email: add the end of a failed run's console to the mail (default false)."),
  }),
]);
const notifyRefs = z
  .union([notifyItem, z.array(notifyItem)])
  .describe("notification resource(s) to send to: names, or {name, sendFailingSnippet}");

/** A resource definition. */
export const ResourceSchema = z
  .strictObject({
    name,
    type: z
      .string()
      .min(1)
      .describe(`Resource type: ${RESOURCE_TYPES.join(", ")}`),
    integration: z.string().min(1).optional().describe("Name of the integration (stored secret) the resource uses."),
    versionTemplate: freeMapping
      .optional()
      .describe("The resource's definition: every key becomes part of its first version."),
    pointer: freeMapping.optional().describe("Legacy: what the resource points at (repository, image, cluster...)."),
    seed: freeMapping.optional().describe("Legacy: the initial version (e.g. versionName of an image)."),
    version: freeMapping
      .optional()
      .describe("Legacy: versioned data; every edit makes a new version (params, trigger counter...)."),
    flags: flags.optional(),
  })
  .describe("A named, typed, versioned object.");

/** An `IN` step. */
export const InStepSchema = z.strictObject({
  IN: name.describe("A resource or job this job depends on."),
  switch: onOff.optional().describe("off: a new version of this input does not trigger the job."),
  versionName: z.union([z.string(), z.number()]).optional().describe("Pin: the latest version with this versionName."),
  versionNumber: z.number().int().positive().optional().describe("Pin: this exact versionNumber."),
  dependencyMode: dependencyMode.optional(),
  showBuildStatus: z.boolean().optional().describe("gitRepo: report the run's status to the SCM."),
  vote: z.unknown().optional().describe("gitRepo (Gerrit): label votes per outcome."),
  scopes: z.array(z.string()).optional().describe("cliConfig: extra setup scopes (ecr, gke, gcr, aks)."),
  applyTo: z.array(z.unknown()).optional().describe("manifest/deploy: the images or manifests this input applies to."),
  force: z.boolean().optional().describe("deploy: redeploy even when unchanged."),
  deployName: z.string().optional().describe("deploy: stable service name."),
  pull: z.boolean().optional().describe("image/file: fetch the artifact into the job."),
});

/** An `OUT` step. */
export const OutStepSchema = z.strictObject({
  OUT: name.describe("A resource this job updates, or a job to trigger when this one finishes."),
  replicate: name.optional().describe("Copy the version of this IN resource (same type) into the OUT."),
  replicateOnPullRequest: z.boolean().optional(),
  overwrite: z
    .boolean()
    .optional()
    .describe("Start from an empty propertyBag instead of merging into the current version."),
  on_failure: z.boolean().optional().describe("Also post this OUT when the job fails."),
});

const envEntries = z.union([freeMapping, z.array(freeMapping)]).describe("Environment variables for the task.");

/** The mapping form of a `TASK` step. */
export const TaskMappingSchema = z.strictObject({
  name: z.string().optional().describe("Name shown in the console (default: Task N)."),
  script: ScriptSchema.optional(),
  runtime: z
    .strictObject({
      container: z.boolean().optional().describe("true: run in a container (needs a container engine on the runner)."),
      options: z
        .strictObject({
          imageName: z.string().optional(),
          imageTag: z.union([z.string(), z.number()]).optional(),
          pull: z.boolean().optional(),
          options: z.string().optional().describe("Extra container-run flags."),
          env: envEntries.optional(),
        })
        .optional(),
    })
    .optional(),
});

/** One item of the legacy list form of `TASK`. */
export const LegacyTaskItemSchema = z.strictObject({ script: ScriptSchema });

/** A `TASK` step: a mapping, the legacy list of `- script:` items, or `managed`. */
export const TaskStepSchema = z.strictObject({
  TASK: z.union([TaskMappingSchema, z.literal("managed"), z.array(LegacyTaskItemSchema)]),
  bump: z.string().optional().describe("release (legacy managed form): how to bump the version."),
  deployMethod: z.string().optional().describe("deploy (legacy managed form): deployment method."),
  method: z.string().optional(),
  maxWaitTime: z.number().optional(),
  stabilityDuration: z.number().optional(),
  workflow: z.string().optional(),
});

/** A step of a job. */
export const StepSchema = z.union([InStepSchema, OutStepSchema, TaskStepSchema]);

const hookItem = z.union([z.strictObject({ script: ScriptSchema }), z.strictObject({ NOTIFY: notifyRefs })]);
/** A hook: `{script, NOTIFY}` or the legacy list of `- script:` / `- NOTIFY:` items. */
export const HookSchema = z.union([
  z.strictObject({ script: ScriptSchema.optional(), NOTIFY: notifyRefs.optional() }),
  z.array(hookItem),
]);

/** The approval gate of a job (a Causeway extension). */
export const ApprovalSchema = z.union([
  z.boolean(),
  z.strictObject({
    approvers: z.array(z.string()).optional().describe("People or groups who may approve; any operator when absent."),
    minApprovals: z.number().int().min(1).optional().describe("Approvals needed (default 1)."),
    timeoutMinutes: z.number().positive().optional().describe("How long the gate waits (default 1440)."),
    onTimeout: z.enum(["reject", "approve"]).optional().describe("What a timeout means (default reject)."),
    preventSelfApproval: z.boolean().optional().describe("true: the person who triggered the run may not approve it."),
  }),
]);

/** Automatic retries of a job (a Causeway extension). */
export const RetriesSchema = z.union([
  z.number().int().min(0).max(100),
  z.strictObject({
    max: z.number().int().min(0).max(100),
    on: z
      .array(z.enum(["failure", "lost", "timeout"]))
      .optional()
      .describe("Outcomes that are retried (default [lost])."),
  }),
]);

/** A typed manual-run parameter (a Causeway extension). */
export const ParamSpecSchema = z.strictObject({
  type: z.enum(["string", "number", "boolean", "choice", "secret"]).optional().describe("Default string."),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  choices: z
    .array(z.union([z.string(), z.number()]))
    .optional()
    .describe("The allowed values of a choice."),
  required: z.boolean().optional(),
  description: z.string().optional(),
});

/** A job definition. */
export const JobSchema = z
  .strictObject({
    name,
    type: z
      .string()
      .min(1)
      .describe(`Job type: ${JOB_TYPES.join(", ")}`),
    steps: z.array(StepSchema).optional(),
    dependencyMode: dependencyMode.optional(),
    triggerMode: z.enum(["serial", "parallel"]).optional().describe("serial: one processing run at a time (default)."),
    priority: z.number().int().min(0).max(10000).optional().describe("0 is highest, default 9999; orders queued runs."),
    runtime: z
      .strictObject({
        nodePool: z.string().optional(),
        container: z.boolean().optional(),
        timeoutMinutes: z.number().positive().optional().describe("Default 60."),
      })
      .optional(),
    integrations: z.array(z.string()).optional().describe("Integrations available to the job's scripts."),
    flags: flags.optional(),
    allowPublicAccess: z.boolean().optional(),
    on_start: HookSchema.optional(),
    on_success: HookSchema.optional(),
    on_failure: HookSchema.optional(),
    on_cancel: HookSchema.optional(),
    always: HookSchema.optional(),
    requiresApproval: ApprovalSchema.optional().describe("An approval gate before the job runs."),
    retries: RetriesSchema.optional(),
    concurrencyGroup: z.string().min(1).optional().describe("Jobs of one group never run at the same time."),
    coalesce: z.literal("latest").optional().describe("latest: pending triggers merge into one run."),
    params: z.record(z.string(), ParamSpecSchema).optional().describe("Typed manual-run parameters."),
    method: z.string().optional().describe("deploy: blueGreen, upgrade or replace."),
    maxWaitTime: z.number().optional(),
    stabilityDuration: z.number().optional(),
    workflow: z.string().optional(),
    bump: z.string().optional().describe("release: major, minor, patch, alpha, beta, rc or final."),
    versionTemplate: z.unknown().optional().describe("Ignored on a job (Shippable ignored it too)."),
    notify: z.unknown().optional().describe("Ignored: use NOTIFY in a hook."),
  })
  .describe("An executable unit with ordered steps.");

/** Keys that real files put on jobs and that Shippable ignored. */
export const IGNORED_JOB_KEYS = ["versionTemplate", "notify"] as const;

/** Top-level keys of a CI `shippable.yml` that the assembly line ignores. */
export const CI_TOP_LEVEL_KEYS = [
  "language",
  "build",
  "branches",
  "env",
  "integrations",
  "matrix",
  "services",
  "addons",
  "cache",
  "os",
  "compiler",
  "git",
  "jdk",
  "node_js",
  "python",
  "go",
  "ruby",
  "php",
  "scala",
  "rust",
  "dotnet",
  "runtime",
  "depth",
  "submodules",
] as const;

/** A pipeline file. Other top-level keys are CI keys or template holders and are ignored. */
export const PipelineFileSchema = z
  .looseObject({
    resources: z.array(ResourceSchema).nullable().optional(),
    jobs: z.array(JobSchema).nullable().optional(),
    triggers: z.array(ResourceSchema).nullable().optional().describe("Legacy: a list of `trigger` resources."),
  })
  .describe("A Causeway / Shippable assembly-line file.");
