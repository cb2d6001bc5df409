import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import {
  HOOK_NAMES,
  type Hook,
  type HookName,
  type JobDef,
  type LoadResult,
  type ParamSpec,
  type Pipeline,
  type RunStatus,
  type Step,
} from "@causeway/core";
import {
  corpusFolders,
  EXTERNAL_DIR,
  expectExternalCorpus,
  FIXTURE_CORPUS,
  loadFolder,
  SKIP_EXTERNAL,
} from "../../core/test/corpora.js";
import { makeHarness, type Harness } from "./harness.js";

// Issue 3: "The Shippable corpus folders that use only generic features run their jobs' control
// flow when their scripts are replaced by `true`". Every folder of the corpus is classified;
// the ones that run are applied to a real engine (SQLite store, embedded runner, bash) with
// every TASK and hook script replaced by `true`, and driven by the events a real server would
// see: a new version of every root resource (a commit of a local repository for gitRepo), then
// a manual run of every job that no automatic event can start. The snapshot shows, for review,
// which folders run, why the others cannot, how many runs each job made and, from the engine's
// explain records, why a job did not run. With `true` scripts no OUT resource ever changes, so
// no version flows through one: the jobs behind such a resource are reported, not run.
// Both corpora are run: the repository's own (always there) and the external one (skipped with
// a reason on a plain clone, mandatory in CI; see core/test/corpus-location.ts).

/** Bound on the wait for the engine to settle after one event. */
const SETTLE_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Classification

/** "a (2), b (1)": values counted, by name. */
function counted(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([v, n]) => `${v} (${n})`)
    .join(", ");
}

/** "2 of 7 (a, b)": names listed when there are few. */
function someOf(names: readonly string[], total: number): string {
  return `${names.length} of ${total}${names.length <= 5 ? ` (${names.join(", ")})` : ""}`;
}

/**
 * Names referenced by a step or a hook NOTIFY that no object of the line defines. Computed from
 * the model, independently of the diagnostics (a test checks that the two agree).
 */
function unknownReferences(pipeline: Pipeline): string[] {
  const defined = new Set([...pipeline.resources, ...pipeline.jobs].map((o) => o.name));
  const unknown = new Set<string>();
  for (const job of pipeline.jobs) {
    for (const step of job.steps) if (step.kind !== "TASK" && !defined.has(step.name)) unknown.add(step.name);
    for (const hook of HOOK_NAMES)
      for (const { name } of job.hooks[hook].notify) if (!defined.has(name)) unknown.add(name);
  }
  return [...unknown].sort();
}

/** Script jobs run by the embedded runner (release jobs run inside the engine). */
function scriptJob(job: JobDef): boolean {
  return job.support === "runnable" && job.type !== "release";
}

/**
 * Why a folder cannot run its control flow on Causeway today; empty when it can: every resource
 * is generic, every job runnable and consistent, no error diagnostic, and nothing the embedded
 * runner refuses. A folder where only some jobs are unsupported or inconsistent cannot run
 * either: its flow would stop at them, so it is reported with what stops it.
 */
function reasonsWhyNot(result: LoadResult): string[] {
  const { resources, jobs } = result.pipeline;
  const reasons: string[] = [];
  if (jobs.length === 0) reasons.push(`no jobs (${resources.length} resource${resources.length === 1 ? "" : "s"})`);
  const typed: [string, string[]][] = [
    ["provider types", resources.filter((r) => r.support === "provider").map((r) => r.type)],
    ["system types", resources.filter((r) => r.support === "system").map((r) => r.type)],
    ["unknown resource types", resources.filter((r) => r.support === "unknown").map((r) => r.type)],
    ["unsupported job types", jobs.filter((j) => j.support === "unsupported").map((j) => j.type)],
    ["unknown job types", jobs.filter((j) => j.support === "unknown").map((j) => j.type)],
  ];
  for (const [label, types] of typed) if (types.length > 0) reasons.push(`${label}: ${counted(types)}`);
  const unknown = unknownReferences(result.pipeline);
  if (unknown.length > 0) reasons.push(`unknown references: ${unknown.join(", ")}`);
  const errors = result.diagnostics
    .filter((d) => d.severity === "error" && d.code !== "PIPELINE_UNKNOWN_REFERENCE")
    .map((d) => d.code);
  if (errors.length > 0) reasons.push(`errors: ${counted(errors)}`);
  const managed = jobs
    .filter((j) => scriptJob(j) && j.steps.some((s) => s.kind === "TASK" && s.managed))
    .map((j) => j.name);
  if (managed.length > 0) reasons.push(`TASK: managed in script jobs: ${managed.join(", ")}`);
  const container = jobs
    .filter((j) => scriptJob(j) && j.steps.some((s) => s.kind === "TASK" && (s.container ?? j.runtime.container)))
    .map((j) => j.name);
  if (container.length > 0) reasons.push(`container tasks (not run by the embedded runner): ${container.join(", ")}`);
  const badJobs = jobs.filter((j) => !j.consistent).map((j) => j.name);
  if (badJobs.length > 0) reasons.push(`inconsistent jobs: ${someOf(badJobs, jobs.length)}`);
  const badResources = resources.filter((r) => !r.consistent).map((r) => r.name);
  if (badResources.length > 0) reasons.push(`inconsistent resources: ${someOf(badResources, resources.length)}`);
  return reasons;
}

interface Folder {
  readonly name: string;
  readonly result: LoadResult;
  readonly verdict: string;
}

/** Every line of a corpus, loaded and classified; none when the corpus is absent. */
async function loadCorpus(dir: string | undefined): Promise<Folder[]> {
  const out: Folder[] = [];
  for (const name of corpusFolders(dir)) {
    const result = await loadFolder(dir ?? "", name);
    const reasons = reasonsWhyNot(result);
    out.push({ name, result, verdict: reasons.length === 0 ? "runs" : `cannot: ${reasons.join("; ")}` });
  }
  return out;
}

const FIXTURES = await loadCorpus(FIXTURE_CORPUS);
const EXTERNAL = await loadCorpus(EXTERNAL_DIR);

// ---------------------------------------------------------------------------------------------
// Running a folder

const exec = promisify(execFile);

/** git with no user or system configuration, and a fixed identity and date. */
async function git(dir: string, args: string[]): Promise<string> {
  const { stdout } = await exec("git", ["-C", dir, ...args], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: dir,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "Causeway Test",
      GIT_AUTHOR_EMAIL: "test@causeway.invalid",
      GIT_AUTHOR_DATE: "2020-01-01T00:00:00Z",
      GIT_COMMITTER_NAME: "Causeway Test",
      GIT_COMMITTER_EMAIL: "test@causeway.invalid",
      GIT_COMMITTER_DATE: "2020-01-01T00:00:00Z",
      LC_ALL: "C",
    },
  });
  return stdout;
}

interface Commit {
  readonly sha: string;
  readonly branch: string;
  readonly message: string;
}

/** A local repository with one commit on `branch`, as the embedded runner can check out. */
async function makeRepository(dir: string, name: string, branch: string): Promise<Commit> {
  await mkdir(dir, { recursive: true });
  await git(dir, ["init", "--quiet", `--initial-branch=${branch}`]);
  await writeFile(join(dir, "README.md"), `${name}: a stand-in for the repository of the corpus\n`);
  await git(dir, ["add", "README.md"]);
  const message = `first commit of ${name}`;
  await git(dir, ["commit", "--quiet", "--no-gpg-sign", "-m", message]);
  return { sha: (await git(dir, ["rev-parse", "HEAD"])).trim(), branch, message };
}

/** The branch of a gitRepo resource, when it is a plain branch name (else master). */
function branchOf(pointer: Readonly<Record<string, unknown>>, template: Readonly<Record<string, unknown>>): string {
  const branch = pointer.branch ?? template.branch;
  return typeof branch === "string" && /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(branch) ? branch : "master";
}

/**
 * The line with every TASK script replaced by `true` (a `TASK: managed` stays managed), every
 * hook with a script replaced by `true` and no NOTIFY, and every gitRepo resource pointed at a
 * local repository. Everything else is kept as loaded.
 */
function withTrueScripts(pipeline: Pipeline, repositories: ReadonlyMap<string, string>): Pipeline {
  return {
    resources: pipeline.resources.map((r) => {
      const source = repositories.get(r.name);
      if (source === undefined) return r;
      return { ...r, pointer: { ...r.pointer, sourceName: source }, template: { ...r.template, sourceName: source } };
    }),
    jobs: pipeline.jobs.map((job) => ({
      ...job,
      steps: job.steps.map((s): Step => (s.kind === "TASK" && !s.managed ? { ...s, script: ["true"] } : s)),
      hooks: Object.fromEntries(
        HOOK_NAMES.map((h): [HookName, Hook] => [
          h,
          { script: job.hooks[h].script.length > 0 ? ["true"] : [], notify: [] },
        ]),
      ) as Record<HookName, Hook>,
    })),
  };
}

/** Values for the required parameters of a manual run that have no default. */
function requiredParams(params: readonly ParamSpec[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of params) {
    if (!p.required || p.default !== undefined) continue;
    out[p.name] =
      p.type === "number" ? "1" : p.type === "boolean" ? "true" : p.type === "choice" ? String(p.choices[0]) : "x";
  }
  return out;
}

/** Waits until no run is queued, processing or waiting for approval (gates approved), at most SETTLE_MS. */
async function settle(h: Harness, after: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const busy = [...h.engine.model.active.values()].map((r) => `${r.job} #${r.number} ${r.status}`);
      reject(new Error(`the engine did not settle within ${SETTLE_MS} ms after ${after}: ${busy.join(", ")}`));
    }, SETTLE_MS);
  });
  try {
    do await Promise.race([h.engine.idle(), deadline]);
    while (await approveGates(h));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Approves every run waiting for approval, as its approvers would (as many distinct people as
 * its gate needs). True when there was one: its approval queued it.
 */
async function approveGates(h: Harness): Promise<boolean> {
  const waiting = [...h.engine.model.active.values()].filter((r) => r.status === "waiting_approval");
  for (const run of waiting) {
    const gate = (await h.engine.approval(run.id))?.record.gate;
    const roles = ["admin", ...(gate?.approvers ?? [])];
    for (
      let i = 1;
      (await h.engine.decide(run.id, { name: `approver-${i}`, roles }, "approve")).record.state === "pending";
      i++
    );
  }
  return waiting.length > 0;
}

/** The events that start a line's control flow. */
interface Events {
  /** Resources some job takes as IN and no job produces (state resources never trigger). */
  readonly roots: string[];
  /**
   * Jobs that no automatic event can start, so only a manual run does (as their users did on
   * Shippable): no IN at all, or every IN switched off, pinned in the YAML, or a state resource.
   */
  readonly manual: string[];
}

function eventsOf(pipeline: Pipeline): Events {
  const resources = new Map(pipeline.resources.map((r) => [r.name, r]));
  const stateful = (name: string): boolean => resources.get(name)?.type === "state";
  const consumed = new Set<string>();
  const produced = new Set<string>();
  for (const job of pipeline.jobs) {
    for (const s of job.steps) {
      if (s.kind === "IN") consumed.add(s.name);
      else if (s.kind === "OUT") produced.add(s.name);
    }
  }
  const roots = [...consumed].filter((n) => !produced.has(n) && resources.has(n) && !stateful(n)).sort();
  const manual = pipeline.jobs
    .filter((j) =>
      j.steps.every(
        (s) =>
          s.kind !== "IN" ||
          s.switchOff ||
          s.versionNumber !== undefined ||
          s.versionName !== undefined ||
          stateful(s.name),
      ),
    )
    .map((j) => j.name)
    .sort();
  return { roots, manual };
}

/** Jobs the events may reach through the graph (switch: off and pins included). */
function reachableJobs(pipeline: Pipeline, events: Events): Set<string> {
  const jobs = new Map(pipeline.jobs.map((j) => [j.name, j]));
  const stateful = new Set(pipeline.resources.filter((r) => r.type === "state").map((r) => r.name));
  const consumers = new Map<string, string[]>();
  for (const job of pipeline.jobs) {
    for (const s of job.steps) if (s.kind === "IN") consumers.set(s.name, [...(consumers.get(s.name) ?? []), job.name]);
  }
  const seen = new Set<string>();
  const stack = [...events.roots.flatMap((r) => consumers.get(r) ?? []), ...events.manual];
  for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    stack.push(...(consumers.get(name) ?? []));
    for (const s of jobs.get(name)?.steps ?? []) {
      if (s.kind !== "OUT" || stateful.has(s.name)) continue;
      if (jobs.has(s.name)) stack.push(s.name);
      else stack.push(...(consumers.get(s.name) ?? []));
    }
  }
  return seen;
}

/** What one job did. */
interface JobOutcome {
  readonly job: string;
  readonly reachable: boolean;
  readonly ran: number;
  readonly statuses: Partial<Record<RunStatus, number>>;
  /** Why a job that never succeeded did not run, from the engine's explain records. */
  readonly whyNot?: string;
}

/** A run that ended other than in success, with its reason. */
interface Problem {
  readonly job: string;
  readonly number: number;
  readonly status: RunStatus;
  readonly reason: string | null;
}

interface FolderRun {
  readonly events: string[];
  readonly jobs: JobOutcome[];
  /** Runs that must not happen: every status but success. */
  readonly problems: Problem[];
  /** Release jobs that failed because no version input had a version (allowed, reported). */
  readonly releaseWithoutVersion: string[];
  /** Successful runs that took a commit of a gitRepo IN: the runner checked that commit out. */
  readonly checkouts: number;
  /** Such runs whose log does not show the checkout of that commit. */
  readonly missingCheckouts: string[];
}

/**
 * Why a job that never succeeded did not run, from the engine's explain records: a run still
 * pending, every distinct reason it was skipped (newest first), and for each IN fed by another
 * job, why nothing came through it (with `true` scripts no OUT resource changes, so no version
 * flows through one: the producer's own explain record says so).
 */
async function whyNot(h: Harness, pipeline: Pipeline, job: JobDef): Promise<string | undefined> {
  const reasons: string[] = [];
  const why = await h.engine.why(job.name, 1000);
  for (const { run, reason } of why.pending) reasons.push(`run ${run.number} still ${run.status}: ${reason ?? ""}`);
  for (const e of why.explains) if (e.outcome !== "created" && !reasons.includes(e.message)) reasons.push(e.message);
  for (const step of job.steps) {
    if (step.kind !== "IN" || step.switchOff) continue;
    const producers = pipeline.jobs.filter(
      (j) =>
        j.name !== job.name && (j.name === step.name || j.steps.some((s) => s.kind === "OUT" && s.name === step.name)),
    );
    for (const producer of producers) {
      const explains = (await h.engine.why(producer.name, 1000)).explains;
      const unchanged = explains.find((e) => e.outcome === "skipped" && e.message.startsWith(`OUT ${step.name} `));
      if (unchanged !== undefined) reasons.push(`${producer.name}: ${unchanged.message}`);
      else if ((await h.runs(producer.name)).every((r) => r.status !== "success")) {
        reasons.push(`upstream ${producer.name} never succeeded`);
      }
    }
  }
  return reasons.length === 0 ? undefined : reasons.join("; ");
}

async function runFolder(folder: Folder): Promise<FolderRun> {
  const { pipeline } = folder.result;
  const h = await makeHarness({ slots: 2 });
  try {
    const repositories = new Map<string, string>();
    const commits = new Map<string, Commit>();
    for (const r of pipeline.resources) {
      if (r.type !== "gitRepo") continue;
      const dir = join(h.dir, "repositories", r.name);
      commits.set(r.name, await makeRepository(dir, r.name, branchOf(r.pointer, r.template)));
      repositories.set(r.name, dir);
    }
    await h.engine.apply(withTrueScripts(pipeline, repositories));
    // Every integration the line names is stored, as its users would have it (the values do
    // not matter: every script is `true`).
    const integrations = new Set([
      ...pipeline.resources.flatMap((r) => (r.type === "integration" ? [r.integration ?? r.name] : [])),
      ...pipeline.jobs.flatMap((j) => j.integrations),
    ]);
    await h.stores.store.transaction(async (tx) => {
      for (const name of integrations) await tx.putSecret(name, { placeholder: "corpus-value" });
    });

    // One event at a time, each settled before the next, so the counts do not depend on timing.
    const events = eventsOf(pipeline);
    const happened: string[] = [];
    for (const name of events.roots) {
      const commit = commits.get(name);
      if (commit === undefined) await h.engine.putVersion(name, {}, "api");
      else {
        // As the server's git poller does for a new commit.
        await h.engine.putVersion(
          name,
          {
            versionName: commit.sha,
            propertyBag: {
              shaData: {
                commitSha: commit.sha,
                beforeCommitSha: "",
                branchName: commit.branch,
                commitMessage: commit.message,
                committer: "Causeway Test <test@causeway.invalid>",
                isPullRequest: false,
                isGitTag: false,
                isRelease: false,
              },
            },
          },
          "git",
        );
      }
      happened.push(`${commit === undefined ? "new version" : "new commit"} of ${name}`);
      await settle(h, `a new version of ${name}`);
    }
    for (const name of events.manual) {
      const job = pipeline.jobs.find((j) => j.name === name);
      await h.engine.trigger(name, { params: requiredParams(job?.params ?? []), user: "corpus-flow" });
      happened.push(`manual run of ${name}`);
      await settle(h, `a manual run of ${name}`);
    }

    const reachable = reachableJobs(pipeline, events);
    const jobs: JobOutcome[] = [];
    const problems: Problem[] = [];
    const releaseWithoutVersion: string[] = [];
    let checkouts = 0;
    const missingCheckouts: string[] = [];
    for (const job of [...pipeline.jobs].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const runs = await h.runs(job.name);
      const statuses: Partial<Record<RunStatus, number>> = {};
      for (const run of runs) statuses[run.status] = (statuses[run.status] ?? 0) + 1;
      for (const run of runs) {
        if (run.status === "success") {
          for (const input of run.inputs) {
            const commit = commits.get(input.name);
            if (commit === undefined || input.versionName !== commit.sha) continue;
            checkouts++;
            if (!(await h.log(run.id)).includes(`checked out ${commit.sha} from ${repositories.get(input.name)}`)) {
              missingCheckouts.push(`${job.name} run ${run.number}: ${input.name}`);
            }
          }
          continue;
        }
        // A release job bumps the version of a `version` resource or an upstream release: with
        // none among its frozen inputs, failing is its documented behaviour.
        const versioned = run.inputs.some(
          (i) => (i.type === "version" || i.type === "release") && i.versionId !== null,
        );
        if (job.type === "release" && run.status === "failure" && !versioned) {
          if (!releaseWithoutVersion.includes(job.name)) releaseWithoutVersion.push(job.name);
          continue;
        }
        problems.push({ job: job.name, number: run.number, status: run.status, reason: run.statusReason });
      }
      const succeeded = runs.some((r) => r.status === "success");
      jobs.push({
        job: job.name,
        reachable: reachable.has(job.name),
        ran: runs.length,
        statuses,
        ...(succeeded ? {} : { whyNot: await whyNot(h, pipeline, job) }),
      });
    }
    return { events: happened, jobs, problems, releaseWithoutVersion, checkouts, missingCheckouts };
  } finally {
    await h.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Tests

/** The tests of one corpus: its folders, and how many of them must run at least. */
function testCorpus(folders: readonly Folder[], minimumRunning: number): void {
  const running = folders.filter((f) => f.verdict === "runs");
  const runs = new Map<string, FolderRun>();

  it("names unknown references exactly where the language reports PIPELINE_UNKNOWN_REFERENCE", () => {
    expect(folders.length).toBeGreaterThan(0);
    for (const folder of folders) {
      const reported = folder.result.diagnostics.some((d) => d.code === "PIPELINE_UNKNOWN_REFERENCE");
      expect(unknownReferences(folder.result.pipeline).length > 0, folder.name).toBe(reported);
    }
  });

  describe.each(running.map((f) => [f.name, f] as const))("%s", (_name, folder) => {
    it("runs its control flow: every reachable job succeeds or the engine says why not, and no run fails", async () => {
      const result = await runFolder(folder);
      runs.set(folder.name, result);
      expect(result.problems).toEqual([]);
      expect(result.missingCheckouts).toEqual([]);
      for (const job of result.jobs) {
        if (!job.reachable) continue;
        if (job.statuses.success === undefined) expect(job.whyNot, `${job.job} never succeeded`).toBeTruthy();
      }
    });
  });

  it("keeps its verdicts and run counts (review changes here)", () => {
    const verdicts = folders.map((folder) => {
      if (folder.verdict !== "runs") return { folder: folder.name, verdict: folder.verdict };
      const result = runs.get(folder.name);
      if (result === undefined) return { folder: folder.name, verdict: folder.verdict, run: "did not complete" };
      return {
        folder: folder.name,
        verdict: folder.verdict,
        events: result.events,
        gitCheckouts: result.checkouts,
        runsByJob: Object.fromEntries(result.jobs.map((j) => [j.job, j.statuses])),
        notRun: Object.fromEntries(
          result.jobs
            .filter((j) => j.statuses.success === undefined)
            .map((j) => [j.job, j.reachable ? (j.whyNot ?? "unexplained") : "no event reaches it"]),
        ),
        ...(result.releaseWithoutVersion.length > 0 ? { releaseWithoutVersion: result.releaseWithoutVersion } : {}),
      };
    });
    expect({ folders: folders.length, running: running.length, verdicts }).toMatchSnapshot();
    expect(running.length).toBeGreaterThanOrEqual(minimumRunning);
    for (const folder of running) expect(runs.get(folder.name)?.problems, folder.name).toEqual([]);
  });
}

describe("the repository's corpus on the engine, with every script replaced by true", () => {
  it("has lines that run", () => {
    expect(FIXTURES.filter((f) => f.verdict === "runs").map((f) => f.name)).toEqual(["ledger-api", "nightly-reports"]);
  });

  testCorpus(FIXTURES, 2);
});

describe.skipIf(SKIP_EXTERNAL)("the Shippable corpus on the engine, with every script replaced by true", () => {
  it("is found beside the repository", () => {
    expectExternalCorpus();
    expect(EXTERNAL.length).toBeGreaterThanOrEqual(50);
  });

  testCorpus(EXTERNAL, 12);
});
