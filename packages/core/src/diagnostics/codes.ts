/** Severity of a diagnostic: errors make an object inconsistent, warnings and infos never do. */
export type Severity = "error" | "warning" | "info";

/**
 * The catalog of diagnostic codes of the assembly-line language. Every code is documented in
 * docs/errors.md (a test keeps the two in step); tests assert codes, never messages.
 */
export const DIAGNOSTIC_CODES = {
  PIPELINE_YAML_SYNTAX: { severity: "error", title: "The file is not valid YAML" },
  PIPELINE_YAML_UNKNOWN_ALIAS: { severity: "error", title: "An alias refers to an anchor defined nowhere" },
  PIPELINE_YAML_DUPLICATE_KEY: { severity: "error", title: "A mapping has the same key twice" },
  PIPELINE_YAML_ALIAS_LIMIT: { severity: "error", title: "Aliases expand past the safety limit" },
  PIPELINE_FILE_TOO_LARGE: { severity: "error", title: "A pipeline file is larger than the size cap" },
  PIPELINE_DIR_TOO_LARGE: { severity: "error", title: "The pipeline files of a directory exceed the size cap" },
  PIPELINE_FILE_UNREADABLE: { severity: "error", title: "A pipeline file cannot be read" },
  PIPELINE_NO_FILES: { severity: "warning", title: "The directory holds no pipeline file" },
  PIPELINE_TEMPLATES_OBJECTS: { severity: "error", title: "A templates file defines resources or jobs" },
  PIPELINE_TEMPLATES_REFUSED: { severity: "error", title: "The templates file a pipeline file needs was refused" },
  PIPELINE_NOT_A_MAPPING: { severity: "error", title: "A pipeline file's top level is not a mapping" },
  PIPELINE_CI_KEY_IGNORED: { severity: "info", title: "A CI-only top-level key is ignored" },
  PIPELINE_UNKNOWN_TOP_LEVEL_KEY: { severity: "warning", title: "An unknown top-level key is ignored" },
  PIPELINE_SCHEMA: { severity: "error", title: "A value has the wrong type or a required key is missing" },
  PIPELINE_UNKNOWN_KEY: { severity: "warning", title: "An unknown key is ignored" },
  PIPELINE_IGNORED_KEY: { severity: "info", title: "A key that Shippable accepted but never used is ignored" },
  PIPELINE_INVALID_NAME: { severity: "error", title: "A name uses characters outside letters, digits, _, - and ." },
  PIPELINE_DUPLICATE_NAME: { severity: "error", title: "Two objects have the same name" },
  PIPELINE_UNKNOWN_REFERENCE: { severity: "error", title: "A step refers to an object that is not defined" },
  PIPELINE_REFERENCE_ELSEWHERE: {
    severity: "info",
    title: "A step refers to an object defined in a file that was not validated with it",
  },
  PIPELINE_WRONG_REFERENCE_TYPE: { severity: "error", title: "A reference points at an object of the wrong kind" },
  PIPELINE_IN_AND_OUT: { severity: "error", title: "A resource is both IN and OUT of one job" },
  PIPELINE_CYCLE: { severity: "error", title: "The dependency graph has a cycle" },
  PIPELINE_ENV_PREFIX_COLLISION: {
    severity: "error",
    title: "Two dependencies of a job share an environment-variable prefix",
  },
  PIPELINE_PIN_CONFLICT: { severity: "error", title: "An IN is pinned by both versionName and versionNumber" },
  PIPELINE_REPLICATE_SOURCE: { severity: "error", title: "An OUT replicates a resource that is not an IN of the job" },
  PIPELINE_INVALID_SCHEDULE: { severity: "error", title: "A time resource's cron expression or time zone is invalid" },
  PIPELINE_NOTIFICATION_METHOD: { severity: "error", title: "A notification resource's method is unknown" },
  PIPELINE_NOTIFICATION_RECIPIENT: {
    severity: "error",
    title: "A notification recipient does not fit the method, or the method cannot be told",
  },
  PIPELINE_NOTIFICATION_NOT_DELIVERED: {
    severity: "warning",
    title: "A Shippable notification method that Causeway accepts but does not deliver",
  },
  PIPELINE_PROVIDER_TYPE: { severity: "warning", title: "A provider-specific resource type is opaque configuration" },
  PIPELINE_UNKNOWN_RESOURCE_TYPE: { severity: "warning", title: "A resource type is unknown" },
  PIPELINE_UNSUPPORTED_JOB_TYPE: { severity: "warning", title: "A job type is recognised but not supported yet" },
  PIPELINE_UNKNOWN_JOB_TYPE: { severity: "error", title: "A job type is unknown" },
  PIPELINE_DEPRECATED: { severity: "info", title: "A deprecated form is used" },
  PIPELINE_ORPHAN_RESOURCE: { severity: "info", title: "A resource is used by no job" },
} as const satisfies Record<string, { severity: Severity; title: string }>;

/** A diagnostic code of the language. */
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;
