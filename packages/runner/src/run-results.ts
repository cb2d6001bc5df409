import { readFile } from "node:fs/promises";
import {
  exceedsJsonDepth,
  MAX_JSON_DEPTH,
  parseEnvLines,
  type BlobStore,
  type JobVersionData,
  type NotificationRequest,
  type OutVersionBase,
  type RunResult,
  type RunSpec,
} from "@causeway/core";

export type { JobVersionData, NotificationRequest, OutVersionBase };
import { carriedEntries, readTree, saveArchive, type ArchiveManifest, type TreeFile } from "./state-archive.js";
import { materialiserFor } from "./kinds/index.js";
import { dependencyPaths, outVersionBag, workspacePaths } from "./workspace.js";

/**
 * What a run leaves in its workspace, read back when its tasks are over (docs/shipctl.md, "What
 * the runner reads back"): `$JOB_STATE/<name>.env` outputs, the job state (a failed run carries
 * the previous state forward), `OUT/<name>/state/` of state resources, `OUT/<name>/version.json`
 * (rewritten by `shipctl replicate`), `$JOB_STATE/outputVersion.json` and the notification
 * requests of `$JOB_STATE/notify/` (removed from the saved state).
 */

/**
 * The embedded runner's result: core's RunResult plus what the shipctl workspace contract asks
 * the runner to read back and RunResult has no field for yet.
 */
export interface EmbeddedRunResult extends RunResult {
  /** Every OUT's `version.json`, re-read after the tasks, by name. */
  readonly outVersions: Readonly<Record<string, OutVersionBase>>;
  /** `$JOB_STATE/outputVersion.json`, or null. */
  readonly jobVersion: JobVersionData | null;
  /** `$JOB_STATE/notify/*.json` in file-name order. */
  readonly notifications: readonly NotificationRequest[];
}

/** The fields of a result that `collectResults` reads from the workspace. */
export type CollectedResults = Pick<
  EmbeddedRunResult,
  "stateSha" | "outputs" | "outStateShas" | "outVersions" | "jobVersion" | "notifications"
>;

const NOTIFY_DIR = "notify/";

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// A file the job wrote; nested past the limit, it is read as no value (what follows would walk
// it recursively and run out of stack).
function parseJson(bytes: Uint8Array): unknown {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return exceedsJsonDepth(value) ? undefined : value;
  } catch {
    return undefined;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * Reads the results of a run whose tasks ran, saving its state archives in `blobs`. `failed`:
 * the run did not succeed, so previous-state files it did not write are carried forward.
 * Progress and warnings go to `log`.
 */
export async function collectResults(input: {
  readonly root: string;
  readonly spec: RunSpec;
  readonly failed: boolean;
  readonly previous: ArchiveManifest | undefined;
  readonly blobs: BlobStore;
  readonly log: (line: string) => void;
}): Promise<CollectedResults> {
  const { root, spec, log } = input;
  const outs = spec.dependencies.filter((d) => d.operation === "OUT");
  const stateOuts = outs.filter((d) => materialiserFor(d).savesOutFiles);
  const [tree, outTrees, outVersions] = await Promise.all([
    readTree(workspacePaths(root).state),
    Promise.all(stateOuts.map((d) => readTree(dependencyPaths(root, d).dataDir))),
    readOutVersions(root, outs, log),
  ]);
  for (const s of tree.skipped) log(`warning: state: skipped ${s}`);

  const notifications: NotificationRequest[] = [];
  const kept: TreeFile[] = [];
  let jobVersion: JobVersionData | null = null;
  for (const file of tree.files) {
    if (!file.path.startsWith(NOTIFY_DIR)) {
      kept.push(file);
      if (file.path === "outputVersion.json") jobVersion = parseJobVersion(file, log);
    } else if (/^notify\/[^/]+\.json$/.test(file.path)) {
      const request = parseNotification(file);
      if (request === undefined) log(`warning: ${file.path} is not a notification request: ignored`);
      else notifications.push(request);
    }
  }
  if (notifications.length > 0) log(`notifications: ${plural(notifications.length, "request")}`);

  const outputs: Record<string, [string, string][]> = {};
  const byPath = new Map(kept.map((f) => [f.path, f]));
  const decoder = new TextDecoder();
  for (const name of new Set([...spec.dependencies.map((d) => d.name), spec.job.name])) {
    const file = byPath.get(`${name}.env`);
    if (file !== undefined) outputs[name] = parseEnvLines(decoder.decode(file.bytes));
  }
  const names = Object.keys(outputs);
  if (names.length > 0)
    log(`outputs: ${names.map((n) => `${n} (${plural(outputs[n]?.length ?? 0, "line")})`).join(", ")}`);

  const carried = input.failed && input.previous !== undefined ? carriedEntries(input.previous, kept) : [];
  const [stateSha = null, ...outShas] = await Promise.all([
    saveArchive(input.blobs, kept, carried),
    ...outTrees.map((t) => saveArchive(input.blobs, t.files)),
  ]);
  log(
    stateSha === null
      ? "state: empty"
      : `state: ${plural(kept.length + carried.length, "file")} saved as ${stateSha}` +
          (carried.length > 0 ? ` (${carried.length} carried forward from the previous state)` : ""),
  );
  const outStateShas: Record<string, string> = {};
  stateOuts.forEach((dep, i) => {
    const t = outTrees[i];
    const sha = outShas[i] ?? null;
    for (const s of t?.skipped ?? []) log(`warning: OUT ${dep.name}: skipped ${s}`);
    if (sha === null) log(`OUT ${dep.name}: no file (no new state)`);
    else {
      outStateShas[dep.name] = sha;
      log(`OUT ${dep.name}: ${plural(t?.files.length ?? 0, "file")} saved as ${sha}`);
    }
  });
  return { stateSha, outputs, outStateShas, outVersions, jobVersion, notifications };
}

async function readOutVersions(
  root: string,
  outs: RunSpec["dependencies"],
  log: (line: string) => void,
): Promise<Record<string, OutVersionBase>> {
  const result: Record<string, OutVersionBase> = {};
  const read = await Promise.all(
    outs.map((d) =>
      readFile(`${dependencyPaths(root, d).path}/version.json`).then(
        (bytes) => parseJson(bytes),
        () => undefined,
      ),
    ),
  );
  outs.forEach((dep, i) => {
    const v = read[i];
    const name = isRecord(v) ? v.versionName : undefined;
    if (
      isRecord(v) &&
      (name === null || typeof name === "string") &&
      (v.propertyBag === undefined || isRecord(v.propertyBag))
    ) {
      result[dep.name] = { versionName: name, propertyBag: outVersionBag(dep, v.propertyBag ?? {}) };
    } else
      log(
        `warning: OUT ${dep.name}: version.json is missing, not {versionName?, propertyBag?}, or nested deeper than ${MAX_JSON_DEPTH} levels: the current version is kept as the base`,
      );
  });
  return result;
}

function parseJobVersion(file: TreeFile, log: (line: string) => void): JobVersionData | null {
  const v = parseJson(file.bytes);
  if (
    isRecord(v) &&
    (v.versionName === undefined || typeof v.versionName === "string") &&
    (v.propertyBag === undefined || isRecord(v.propertyBag))
  ) {
    return {
      ...(typeof v.versionName === "string" ? { versionName: v.versionName } : {}),
      ...(isRecord(v.propertyBag) ? { propertyBag: v.propertyBag } : {}),
    };
  }
  log(
    `warning: outputVersion.json is not {versionName?, propertyBag?} (or nests deeper than ${MAX_JSON_DEPTH} levels): ignored`,
  );
  return null;
}

function parseNotification(file: TreeFile): NotificationRequest | undefined {
  const v = parseJson(file.bytes);
  if (!isRecord(v) || typeof v.resource !== "string" || v.resource === "") return undefined;
  const options: Record<string, string> = {};
  if (isRecord(v.options)) for (const [k, o] of Object.entries(v.options)) if (typeof o === "string") options[k] = o;
  return {
    resource: v.resource,
    options,
    ...("payload" in v ? { payload: v.payload } : {}),
    createdAt: typeof v.createdAt === "string" ? v.createdAt : "",
  };
}
