import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envPrefix } from "@causeway/core";
import { SHIPCTL_DIR } from "../src/index.js";

/** The shipctl script under test. */
export const SHIPCTL = join(SHIPCTL_DIR, "shipctl");

/** A run workspace laid out as docs/shipctl.md's contract says, with the matching environment. */
export interface Workspace {
  /** Temporary directory holding the workspace (`job/`) and anything a test adds beside it. */
  root: string;
  /** `$JOB_PATH`. */
  jobPath: string;
  /** `$JOB_STATE`. */
  state: string;
  /** `$JOB_PREVIOUS_STATE`. */
  previousState: string;
  /** Environment of every shipctl call: only what the runner would export, plus PATH. */
  env: Record<string, string>;
}

export interface DependencyOptions {
  type: string;
  operation?: "IN" | "OUT";
  resourceId?: number;
  versionId?: number;
  versionNumber?: number;
  versionName?: string;
  propertyBag?: Record<string, unknown>;
  pointer?: Record<string, unknown>;
  seed?: Record<string, unknown>;
  /** Shippable's nested `version` object, written beside the flat keys when given (null: no version). */
  version?: { versionName?: string; propertyBag?: Record<string, unknown> } | null;
  /** Written to integration.json and integration.env, exported as `<N>_INTEGRATION_<FIELD>`. */
  integration?: Record<string, string>;
}

/** Creates an empty workspace for a job (default `build-app`, a runSh). */
export function createWorkspace(jobName = "build-app", jobType = "runSh"): Workspace {
  const root = mkdtempSync(join(tmpdir(), "shipctl-"));
  const jobPath = join(root, "job");
  const state = join(jobPath, "state");
  const previousState = join(jobPath, "previousState");
  for (const dir of ["IN", "OUT", "state", "previousState", "shared", "integrations"]) {
    mkdirSync(join(jobPath, dir), { recursive: true });
  }
  const job = envPrefix(jobName);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    JOB_NAME: jobName,
    JOB_TYPE: jobType,
    JOB_PATH: jobPath,
    JOB_STATE: state,
    JOB_PREVIOUS_STATE: previousState,
    JOB_INTEGRATIONS: join(jobPath, "integrations"),
    SHARED_DIR: join(jobPath, "shared"),
    BUILD_ID: "101",
    BUILD_NUMBER: "7",
    [`${job}_NAME`]: jobName,
    [`${job}_TYPE`]: jobType,
    [`${job}_PATH`]: jobPath,
    [`${job}_STATE`]: state,
    [`${job}_PREVIOUS_STATE`]: previousState,
  };
  return { root, jobPath, state, previousState, env };
}

export function removeWorkspace(ws: Workspace): void {
  rmSync(ws.root, { recursive: true, force: true });
}

/**
 * Adds an IN (default) or OUT dependency: `version.json`, the data dir `<type>/` (returned), the
 * optional integration files, and the `<N>_*` variables the runner exports.
 */
export function addDependency(ws: Workspace, name: string, options: DependencyOptions): string {
  const operation = options.operation ?? "IN";
  const dir = join(ws.jobPath, operation, name);
  const dataDir = join(dir, options.type);
  mkdirSync(dataDir, { recursive: true });
  const version = {
    resourceName: name,
    resourceType: options.type,
    operation,
    resourceId: options.resourceId ?? 11,
    versionId: options.versionId ?? 1100,
    versionNumber: options.versionNumber ?? 4,
    versionName: options.versionName ?? "",
    propertyBag: options.propertyBag ?? {},
    pointer: options.pointer ?? {},
    seed: options.seed ?? {},
    ...(options.version === undefined ? {} : { version: options.version }),
  };
  writeFileSync(join(dir, "version.json"), JSON.stringify(version, null, 2));
  const n = envPrefix(name);
  Object.assign(ws.env, {
    [`${n}_NAME`]: name,
    [`${n}_TYPE`]: options.type,
    [`${n}_ID`]: String(version.resourceId),
    [`${n}_OPERATION`]: operation,
    [`${n}_PATH`]: dir,
    [`${n}_META`]: dir,
    [`${n}_STATE`]: dataDir,
    [`${n}_VERSIONNAME`]: version.versionName,
    [`${n}_VERSIONNUMBER`]: String(version.versionNumber),
    [`${n}_VERSIONID`]: String(version.versionId),
  });
  for (const [key, value] of Object.entries(version.pointer)) {
    if (typeof value === "string") ws.env[`${n}_POINTER_${key.toUpperCase()}`] = value;
  }
  if (options.integration) {
    writeFileSync(join(dir, "integration.json"), JSON.stringify(options.integration));
    writeFileSync(join(dir, "integration.env"), integrationEnv(options.integration));
    for (const [field, value] of Object.entries(options.integration)) {
      ws.env[`${n}_INTEGRATION_${fieldKey(field)}`] = value;
    }
  }
  return dataDir;
}

/** Adds a job-level integration under `$JOB_INTEGRATIONS/<name>/`. */
export function addJobIntegration(ws: Workspace, name: string, fields: Record<string, string>): void {
  const dir = join(ws.jobPath, "integrations", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "integration.json"), JSON.stringify(fields));
  writeFileSync(join(dir, "integration.env"), integrationEnv(fields));
}

function integrationEnv(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}\n`)
    .join("");
}

/** `<FIELD>` of `<N>_INTEGRATION_<FIELD>` and `<KEY>` of `<N>_PARAMS_<KEY>`. */
export function fieldKey(field: string): string {
  return field.replace(/[^A-Za-z0-9_]/g, "").toUpperCase();
}

export interface ShipctlResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Program used to run the script (default `bash` from PATH). */
  bash?: string;
}

/** Runs the real script: `bash shipctl <args...>` in the workspace's environment. */
export function shipctl(ws: Workspace, args: string[], options: RunOptions = {}): ShipctlResult {
  const result = spawnSync(options.bash ?? "bash", [SHIPCTL, ...args], {
    cwd: options.cwd ?? ws.root,
    env: { ...ws.env, ...options.env },
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a helper command (git, openssl...) for a test's setup; throws when it fails. */
export function sh(command: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8" });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}
