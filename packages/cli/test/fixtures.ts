import type { RunJson, VersionJson } from "@causeway/protocol";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../src/program.js";

/** A run on the wire with defaults for what a test does not care about. */
export function makeRun(over: Partial<RunJson> = {}): RunJson {
  return {
    id: 1,
    job: "build",
    number: 1,
    status: "success",
    statusReason: null,
    trigger: { kind: "manual", by: "alice" },
    flow: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    inputs: [],
    params: {},
    priority: 0,
    attempt: 1,
    rerunOf: null,
    exitCode: null,
    createdAt: "2030-01-02T10:00:00.000Z",
    startedAt: null,
    finishedAt: null,
    ...over,
  };
}

/** A version on the wire. */
export function makeVersion(over: Partial<VersionJson> = {}): VersionJson {
  return {
    id: 1,
    versionNumber: 1,
    versionName: "",
    propertyBag: {},
    createdAt: "2030-01-02T10:00:00.000Z",
    createdBy: "yaml",
    runId: null,
    run: null,
    flow: null,
    stateSha: null,
    ...over,
  };
}

/** What a CLI invocation printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Options of an in-process CLI invocation. */
export interface CliOptions {
  readonly env?: Record<string, string>;
  readonly isTTY?: boolean;
  readonly now?: () => Date;
  readonly color?: boolean;
  /** The working directory (default: an empty temporary directory, so no server.json is found). */
  readonly cwd?: string;
}

let empty: Promise<string> | undefined;

/** An empty directory of its own, shared by the tests of one file. */
function emptyCwd(): Promise<string> {
  empty ??= mkdtemp(join(tmpdir(), "causeway-cwd-"));
  return empty;
}

/** Runs the CLI in-process and collects its output. */
export async function runCausewayCli(argv: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  let out = "";
  let err = "";
  const code = await runCli(argv, {
    out: (s) => (out += s),
    err: (s) => (err += s),
    color: options.color ?? false,
    env: options.env ?? {},
    isTTY: options.isTTY ?? false,
    now: options.now ?? (() => new Date("2030-01-02T10:05:00.000Z")),
    cwd: options.cwd ?? (await emptyCwd()),
  });
  return { code, out, err };
}
