import type {
  BlobStore,
  Clock,
  LogStore,
  NewApiToken,
  NewApplyRecord,
  NewRun,
  NewVersion,
  Store,
  StoreTx,
  TokenStore,
} from "@causeway/core";
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

/**
 * The contract of the store ports (`Store`, `StoreTx`, `BlobStore`, `LogStore` of core), written
 * once and run against every implementation: SQLite now, Postgres later.
 */

/** A store under test, with what the contract needs around it. */
export interface StoreHarness {
  /** The store as opened last (by the factory or by `reopen`). */
  readonly store: Store;
  /** The API tokens of the store as opened last (core's TokenStore). */
  readonly tokens: TokenStore;
  /** Closes the current store and opens a new one on the same data (durability cases). */
  reopen(): Promise<Store>;
  /** Closes the current store (if still open) and removes everything the harness created. */
  close(): Promise<void>;
}

/** Opens a fresh, empty store whose times come from `clock`. */
export type MakeStore = (options: { clock: Clock }) => Promise<StoreHarness>;

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  #ms: number;
  constructor(iso = "2026-01-01T00:00:00.000Z") {
    this.#ms = Date.parse(iso);
  }
  now(): Date {
    return new Date(this.#ms);
  }
  advance(ms: number): string {
    this.#ms += ms;
    return this.iso();
  }
  iso(): string {
    return new Date(this.#ms).toISOString();
  }
}

const T0 = "2026-01-01T00:00:00.000Z";

function newVersion(objectName: string, versionName: string, extra: Partial<NewVersion> = {}): NewVersion {
  return {
    objectName,
    versionName,
    propertyBag: {},
    createdBy: "api",
    runId: null,
    stateSha: null,
    flowId: null,
    ...extra,
  };
}

function newRun(job: string, extra: Partial<NewRun> = {}): NewRun {
  return {
    job,
    status: "queued",
    statusReason: null,
    trigger: { kind: "manual", by: "alice" },
    flow: "flow-1",
    inputs: [],
    params: {},
    secretParams: [],
    priority: 9999,
    attempt: 1,
    rerunOf: null,
    ...extra,
  };
}

const jobDef = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  kind: "job" as const,
  type: "runSh",
  definition: { name, type: "runSh", steps: [{ TASK: { script: ["echo hi"] } }], ...extra },
  consistent: true,
});

/** Code of a rejection, for `expect(...).rejects`. */
const withCode = (code: string): unknown => expect.objectContaining({ code });

/** Gives other async flows many chances to run (never waits on real time). */
async function yieldMany(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Registers the contract cases of `Store` and `StoreTx` for one implementation. */
export function describeStoreContract(name: string, makeStore: MakeStore): void {
  describe(`Store contract: ${name}`, () => {
    let clock: FakeClock;
    let harness: StoreHarness;
    let store: Store;
    const tx = <T>(fn: (tx: StoreTx) => Promise<T>) => store.transaction(fn);

    beforeEach(async () => {
      clock = new FakeClock(T0);
      harness = await makeStore({ clock });
      store = harness.store;
    });
    afterEach(async () => {
      await harness.close();
    });

    describe("objects and pins", () => {
      it("puts, gets and lists objects by name, with their switches", async () => {
        await tx(async (t) => {
          await t.putObject(jobDef("web"));
          await t.putObject({
            name: "app_repo",
            kind: "resource",
            type: "gitRepo",
            definition: { x: 1 },
            consistent: false,
          });
        });
        expect(await store.read.getObject("web")).toEqual({ ...jobDef("web"), paused: false, deletedAt: null });
        expect(await store.read.getObject("app_repo")).toMatchObject({ kind: "resource", consistent: false });
        expect(await store.read.getObject("nope")).toBeUndefined();
        expect((await store.read.listObjects()).map((o) => o.name)).toEqual(["app_repo", "web"]);
      });

      it("replaces a definition and keeps the paused switch", async () => {
        await store.read.putObject(jobDef("web"));
        await store.read.setPaused("web", true);
        await store.read.putObject({ ...jobDef("web", { priority: 5 }), consistent: false });
        const web = await store.read.getObject("web");
        expect(web).toMatchObject({ paused: true, consistent: false, definition: { priority: 5 } });
        await store.read.setPaused("web", false);
        expect((await store.read.getObject("web"))?.paused).toBe(false);
      });

      it("refuses to pause an object that was never defined", async () => {
        await expect(store.read.setPaused("ghost", true)).rejects.toEqual(withCode("JOB_NOT_FOUND"));
      });

      it("soft-deletes an object, keeps its history, and un-deletes it on put", async () => {
        await tx(async (t) => {
          await t.putObject(jobDef("web"));
          await t.putObject(jobDef("api"));
          await t.insertVersion(newVersion("web", "v1"));
        });
        const deletedAt = clock.advance(60_000);
        await store.read.softDeleteObject("web");
        clock.advance(1000);
        await store.read.softDeleteObject("web"); // idempotent: keeps the first time
        await store.read.softDeleteObject("never-defined");
        expect((await store.read.listObjects()).map((o) => o.name)).toEqual(["api"]);
        expect((await store.read.listObjects(true)).map((o) => o.name)).toEqual(["api", "web"]);
        expect((await store.read.getObject("web"))?.deletedAt).toBe(deletedAt);
        expect(await store.read.listVersions("web")).toHaveLength(1);

        await store.read.putObject(jobDef("web"));
        expect((await store.read.getObject("web"))?.deletedAt).toBeNull();
        expect((await store.read.listObjects()).map((o) => o.name)).toEqual(["api", "web"]);
        expect((await store.read.insertVersion(newVersion("web", "v2"))).versionNumber).toBe(2);
      });

      it("sets, replaces and clears run-time pins", async () => {
        await tx(async (t) => {
          await t.setPin("deploy", "image", 3);
          await t.setPin("deploy", "config", 1);
          await t.setPin("build", "repo", 7);
        });
        expect(await store.read.listPins("deploy")).toEqual([
          { job: "deploy", input: "config", versionNumber: 1 },
          { job: "deploy", input: "image", versionNumber: 3 },
        ]);
        await store.read.setPin("deploy", "image", 4);
        await store.read.setPin("deploy", "config", null);
        await store.read.setPin("deploy", "never-pinned", null);
        expect(await store.read.listPins()).toEqual([
          { job: "build", input: "repo", versionNumber: 7 },
          { job: "deploy", input: "image", versionNumber: 4 },
        ]);
        expect(await store.read.listPins("nobody")).toEqual([]);
      });
    });

    describe("versions", () => {
      it("numbers versions 1, 2, 3 per object, independently", async () => {
        const created = await tx(async (t) => [
          await t.insertVersion(newVersion("a", "x")),
          await t.insertVersion(newVersion("b", "x")),
          await t.insertVersion(newVersion("a", "y")),
        ]);
        created.push(await store.read.insertVersion(newVersion("a", "z")));
        created.push(await store.read.insertVersion(newVersion("b", "y")));
        expect(created.map((v) => `${v.objectName}${v.versionNumber}`)).toEqual(["a1", "b1", "a2", "a3", "b2"]);
        const ids = created.map((v) => v.id);
        expect([...ids].sort((p, q) => p - q)).toEqual(ids);
        expect(new Set(ids).size).toBe(ids.length);
      });

      it("stores every field and stamps createdAt from the clock", async () => {
        const at = clock.advance(1234);
        const run = await store.read.insertRun(newRun("build"));
        const bag = { sha: "abc123", nested: { list: [1, "two", null, true] }, unicode: "é✓" };
        const version = await store.read.insertVersion(
          newVersion("repo", "abc123", {
            propertyBag: bag,
            createdBy: `run:${run.id}`,
            runId: run.id,
            stateSha: "f".repeat(64),
            flowId: "flow-9",
          }),
        );
        expect(version).toEqual({
          id: version.id,
          objectName: "repo",
          versionNumber: 1,
          versionName: "abc123",
          propertyBag: bag,
          createdAt: at,
          createdBy: `run:${run.id}`,
          runId: run.id,
          stateSha: "f".repeat(64),
          flowId: "flow-9",
        });
        expect(await store.read.getVersion(version.id)).toEqual(version);
        expect(await store.read.getVersion(version.id + 1000)).toBeUndefined();
      });

      it("finds the latest version and a version by number", async () => {
        expect(await store.read.latestVersion("a")).toBeUndefined();
        for (const name of ["v1", "v2", "v3"]) await store.read.insertVersion(newVersion("a", name));
        await store.read.insertVersion(newVersion("b", "other"));
        expect((await store.read.latestVersion("a"))?.versionName).toBe("v3");
        expect((await store.read.versionByNumber("a", 2))?.versionName).toBe("v2");
        expect(await store.read.versionByNumber("a", 4)).toBeUndefined();
        expect(await store.read.versionByNumber("c", 1)).toBeUndefined();
      });

      it("latestVersionNamed picks the most recent version carrying the name", async () => {
        await store.read.insertVersion(newVersion("img", "1.0", { propertyBag: { n: 1 } }));
        await store.read.insertVersion(newVersion("img", "2.0", { propertyBag: { n: 2 } }));
        await store.read.insertVersion(newVersion("img", "1.0", { propertyBag: { n: 3 } }));
        await store.read.insertVersion(newVersion("other", "1.0", { propertyBag: { n: 4 } }));
        const found = await store.read.latestVersionNamed("img", "1.0");
        expect(found).toMatchObject({ versionNumber: 3, propertyBag: { n: 3 } });
        expect(await store.read.latestVersionNamed("img", "9.9")).toBeUndefined();
      });

      it("lists versions newest first, with a limit", async () => {
        for (let i = 1; i <= 5; i++) await store.read.insertVersion(newVersion("a", `v${i}`));
        await store.read.insertVersion(newVersion("b", "b1"));
        expect((await store.read.listVersions("a")).map((v) => v.versionNumber)).toEqual([5, 4, 3, 2, 1]);
        expect((await store.read.listVersions("a", 2)).map((v) => v.versionName)).toEqual(["v5", "v4"]);
        expect(await store.read.listVersions("a", 0)).toEqual([]);
        expect(await store.read.listVersions("none")).toEqual([]);
        await expect(store.read.listVersions("a", -1)).rejects.toEqual(withCode("STORE_BAD_ARGUMENT"));
      });

      it("lists the versions a run produced", async () => {
        const [r1, r2] = await tx(async (t) => [
          await t.insertRun(newRun("build")),
          await t.insertRun(newRun("build")),
        ]);
        const byRun = (run: number, object: string) => newVersion(object, "x", { runId: run, createdBy: `run:${run}` });
        await tx(async (t) => {
          await t.insertVersion(byRun(r1.id, "build"));
          await t.insertVersion(byRun(r1.id, "image"));
          await t.insertVersion(byRun(r2.id, "build"));
          await t.insertVersion(newVersion("image", "manual"));
        });
        expect((await store.read.versionsOfRun(r1.id)).map((v) => `${v.objectName}${v.versionNumber}`)).toEqual([
          "build1",
          "image1",
        ]);
        expect((await store.read.versionsOfRun(r2.id)).map((v) => v.objectName)).toEqual(["build"]);
        expect(await store.read.versionsOfRun(r2.id + 100)).toEqual([]);
      });

      it("finds a version by its delivery key, per object, and refuses a key recorded twice", async () => {
        const [hook, other] = await tx(async (t) => {
          const v = await t.insertVersion(newVersion("hook", "d1"));
          await t.recordVersionKey("hook", "delivery-1", v.id);
          const w = await t.insertVersion(newVersion("other", "d1"));
          await t.recordVersionKey("other", "delivery-1", w.id);
          return [v, w];
        });
        expect(await store.read.versionByKey("hook", "delivery-1")).toEqual(hook);
        expect(await store.read.versionByKey("other", "delivery-1")).toEqual(other);
        expect(await store.read.versionByKey("hook", "delivery-2")).toBeUndefined();
        await expect(store.read.recordVersionKey("hook", "delivery-1", other.id)).rejects.toThrow();
        expect(await store.read.versionByKey("hook", "delivery-1")).toEqual(hook);
        // Rolled back with its transaction: neither the version nor its key stays.
        await expect(
          tx(async (t) => {
            const v = await t.insertVersion(newVersion("hook", "d3"));
            await t.recordVersionKey("hook", "delivery-3", v.id);
            throw new Error("boom");
          }),
        ).rejects.toThrow("boom");
        expect(await store.read.versionByKey("hook", "delivery-3")).toBeUndefined();
        expect((await store.read.listVersions("hook")).map((v) => v.versionName)).toEqual(["d1"]);
      });
    });

    describe("runs", () => {
      it("numbers runs per job and stores every field", async () => {
        const at = clock.advance(500);
        const inputs = [
          {
            name: "repo",
            kind: "resource" as const,
            type: "gitRepo",
            versionId: 1,
            versionNumber: 1,
            versionName: "abc",
            pinned: false,
          },
        ];
        const run = await store.read.insertRun(
          newRun("build", {
            status: "waiting",
            statusReason: "strict: upstream running",
            trigger: { kind: "version", by: "repo", versionId: 1 },
            flow: "flow-7",
            inputs,
            params: { ENV: "prod" },
            secretParams: [],
            priority: 5,
            attempt: 2,
          }),
        );
        expect(run).toEqual({
          id: run.id,
          job: "build",
          number: 1,
          status: "waiting",
          statusReason: "strict: upstream running",
          trigger: { kind: "version", by: "repo", versionId: 1 },
          flow: "flow-7",
          inputs,
          params: { ENV: "prod" },
          secretParams: [],
          priority: 5,
          attempt: 2,
          rerunOf: null,
          exitCode: null,
          createdAt: at,
          startedAt: null,
          finishedAt: null,
        });
        const numbers = [];
        for (const job of ["build", "test", "build", "build", "test"]) {
          numbers.push(`${job}${(await store.read.insertRun(newRun(job))).number}`);
        }
        expect(numbers).toEqual(["build2", "test1", "build3", "build4", "test2"]);
        const rerun = await store.read.insertRun(
          newRun("build", { rerunOf: run.id, trigger: { kind: "rerun", by: "bob", runId: run.id } }),
        );
        expect(rerun).toMatchObject({ number: 5, rerunOf: run.id });
        expect(await store.read.getRun(rerun.id)).toEqual(rerun);
        expect(await store.read.getRun(rerun.id + 100)).toBeUndefined();
      });

      it("records which parameters of a run are secret, sorted and once, and keeps them for good", async () => {
        const run = await store.read.insertRun(
          newRun("deploy", {
            params: { TOKEN: "s3cr3t", KEY: "k", ENV: "prod" },
            secretParams: ["TOKEN", "KEY", "TOKEN"],
          }),
        );
        expect(run.secretParams).toEqual(["KEY", "TOKEN"]);
        const finished = await store.read.updateRun(run.id, { status: "success", finishedAt: clock.advance(1000) });
        expect(finished.secretParams).toEqual(["KEY", "TOKEN"]);
        store = await harness.reopen();
        expect((await store.read.getRun(run.id))?.secretParams).toEqual(["KEY", "TOKEN"]);
        expect((await store.read.listRuns({ job: "deploy" }))[0]?.secretParams).toEqual(["KEY", "TOKEN"]);
      });

      it("updateRun patches only the given fields, and null clears", async () => {
        const run = await store.read.insertRun(newRun("build", { statusReason: "queued behind deploy" }));
        const started = clock.advance(1000);
        const processing = await store.read.updateRun(run.id, { status: "processing", startedAt: started });
        expect(processing).toEqual({ ...run, status: "processing", startedAt: started });
        const finished = clock.advance(1000);
        const inputs = [
          {
            name: "repo",
            kind: "resource" as const,
            type: "gitRepo",
            versionId: 3,
            versionNumber: 3,
            versionName: "x",
            pinned: true,
          },
        ];
        const done = await store.read.updateRun(run.id, {
          status: "failure",
          statusReason: null,
          exitCode: 2,
          finishedAt: finished,
          inputs,
        });
        expect(done).toEqual({
          ...run,
          status: "failure",
          statusReason: null,
          exitCode: 2,
          startedAt: started,
          finishedAt: finished,
          inputs,
        });
        expect(await store.read.updateRun(run.id, {})).toEqual(done);
        expect(await store.read.getRun(run.id)).toEqual(done);
        await expect(store.read.updateRun(run.id + 100, { status: "success" })).rejects.toEqual(
          withCode("RUN_NOT_FOUND"),
        );
      });

      it("lists runs newest first, filtered by job, flow and statuses, with a limit", async () => {
        const made = await tx(async (t) => {
          const runs = [];
          for (const [job, flow, status] of [
            ["build", "f1", "success"],
            ["test", "f1", "failure"],
            ["build", "f2", "queued"],
            ["deploy", "f1", "processing"],
            ["build", "f3", "processing"],
          ] as const) {
            runs.push(await t.insertRun(newRun(job, { flow, status })));
          }
          return runs;
        });
        const ids = (runs: { id: number }[]) => runs.map((r) => made.findIndex((m) => m.id === r.id));
        expect(ids(await store.read.listRuns())).toEqual([4, 3, 2, 1, 0]);
        expect(ids(await store.read.listRuns({ job: "build" }))).toEqual([4, 2, 0]);
        expect(ids(await store.read.listRuns({ flow: "f1" }))).toEqual([3, 1, 0]);
        expect(ids(await store.read.listRuns({ statuses: ["processing", "queued"] }))).toEqual([4, 3, 2]);
        expect(ids(await store.read.listRuns({ job: "build", statuses: ["processing", "success"] }))).toEqual([4, 0]);
        expect(ids(await store.read.listRuns({ job: "build", flow: "f2" }))).toEqual([2]);
        expect(ids(await store.read.listRuns({ limit: 2 }))).toEqual([4, 3]);
        expect(await store.read.listRuns({ statuses: [] })).toEqual([]);
        expect(await store.read.listRuns({ job: "nobody" })).toEqual([]);
        expect(ids(await store.read.listRuns({ statuses: ["failure"] }))).toEqual([1]);
        expect(ids(await store.read.listRuns({ statuses: ["success", "failure"], limit: 1 }))).toEqual([1]);
        // A run that succeeds leaves the statuses it had.
        await store.read.updateRun(made[2]!.id, { status: "success" });
        expect(ids(await store.read.listRuns({ statuses: ["processing", "queued"] }))).toEqual([4, 3]);
        expect(ids(await store.read.listRuns({ statuses: ["success"] }))).toEqual([2, 0]);
      });

      it("finds the flows that start with a prefix, each once, in order", async () => {
        await tx(async (t) => {
          for (const flow of ["ab12", "ab34", "ab12", "b000", "aa99", "ab"])
            await t.insertRun(newRun("build", { flow }));
        });
        expect(await store.read.flowsWithPrefix("ab", 10)).toEqual(["ab", "ab12", "ab34"]);
        expect(await store.read.flowsWithPrefix("ab1", 10)).toEqual(["ab12"]);
        expect(await store.read.flowsWithPrefix("ab", 2)).toEqual(["ab", "ab12"]);
        expect(await store.read.flowsWithPrefix("a", 10)).toEqual(["aa99", "ab", "ab12", "ab34"]);
        expect(await store.read.flowsWithPrefix("c", 10)).toEqual([]);
        expect(await store.read.flowsWithPrefix("", 10)).toEqual(["aa99", "ab", "ab12", "ab34", "b000"]);
      });
    });

    describe("explains and events", () => {
      it("records explains and lists a job's newest first", async () => {
        const run = await store.read.insertRun(newRun("deploy"));
        const at = clock.advance(10);
        const first = await store.read.insertExplain({
          job: "deploy",
          event: "version image#3",
          outcome: "created",
          runId: run.id,
          message: "run 1 created",
        });
        expect(first).toEqual({
          id: first.id,
          job: "deploy",
          at,
          event: "version image#3",
          outcome: "created",
          runId: run.id,
          message: "run 1 created",
        });
        await store.read.insertExplain({ job: "other", event: "e", outcome: "skipped", runId: null, message: "m" });
        await store.read.insertExplain({
          job: "deploy",
          event: "version cfg#2",
          outcome: "skipped",
          runId: null,
          message: "switch: off",
        });
        await store.read.insertExplain({
          job: "deploy",
          event: "upstream build#4",
          outcome: "waiting",
          runId: null,
          message: "strict",
        });
        expect((await store.read.listExplains("deploy")).map((e) => e.outcome)).toEqual([
          "waiting",
          "skipped",
          "created",
        ]);
        expect((await store.read.listExplains("deploy", 1)).map((e) => e.message)).toEqual(["strict"]);
        expect(await store.read.listExplains("nobody")).toEqual([]);
      });

      it("appends events with increasing ids and reads them back since an id", async () => {
        const events = [];
        for (let i = 0; i < 5; i++) {
          clock.advance(1);
          events.push(await store.read.appendEvent(i % 2 === 0 ? "run" : "version", { i, nested: { ok: true } }));
        }
        expect(events[0]).toEqual({
          id: events[0]!.id,
          at: "2026-01-01T00:00:00.001Z",
          type: "run",
          payload: { i: 0, nested: { ok: true } },
        });
        for (let i = 1; i < events.length; i++) expect(events[i]!.id).toBeGreaterThan(events[i - 1]!.id);
        expect(await store.eventsSince(0)).toEqual(events);
        expect(await store.eventsSince(events[2]!.id)).toEqual(events.slice(3));
        expect(await store.eventsSince(events[0]!.id, 2)).toEqual(events.slice(1, 3));
        expect(await store.eventsSince(events[4]!.id)).toEqual([]);
      });
    });

    describe("the apply history", () => {
      const entry = (over: Partial<NewApplyRecord> = {}): NewApplyRecord => ({
        source: "watcher",
        by: "watcher",
        dir: "/home/me/line",
        files: [
          { path: "a.causeway.yml", status: "loaded" },
          {
            path: "b.causeway.yml",
            status: "refused",
            reason: {
              code: "PIPELINE_YAML_SYNTAX",
              severity: "error",
              file: "b.causeway.yml",
              line: 3,
              col: 7,
              message: "unexpected end",
            },
          },
        ],
        added: ["deploy"],
        changed: ["build"],
        removed: [],
        kept: ["b_job", "b_res"],
        errors: 1,
        warnings: 2,
        problems: [
          {
            code: "PIPELINE_YAML_SYNTAX",
            severity: "error",
            file: "b.causeway.yml",
            line: 3,
            col: 7,
            message: "unexpected end",
          },
        ],
        ...over,
      });

      it("records every field, stamps the time, and lists newest first with a limit", async () => {
        const at = clock.advance(5);
        const first = await store.read.insertApply(entry(), 10);
        expect(first).toEqual({ id: first.id, at, ...entry() });
        const second = await tx((t) => t.insertApply(entry({ source: "cli", by: "alice", dir: null, kept: [] }), 10));
        expect(second.id).toBeGreaterThan(first.id);
        expect(await store.read.listApplies()).toEqual([second, first]);
        expect(await store.read.listApplies(1)).toEqual([second]);
        expect(await store.read.listApplies(0)).toEqual([]);
      });

      it("records the sources of an apply, with a git source's commit, and trims them with the history", async () => {
        const sources = [
          { name: "app", dir: "/srv/app" },
          { name: "infra", url: "file:///srv/infra.git", branch: "main", commit: "0123abcd" },
        ];
        const first = await store.read.insertApply(entry({ sources }), 2);
        expect(first.sources).toEqual(sources);
        const second = await store.read.insertApply(entry(), 2);
        expect(second.sources).toBeUndefined();
        expect((await store.read.listApplies()).map((a) => a.sources)).toEqual([undefined, sources]);
        await store.read.insertApply(entry({ sources: [{ name: "app", dir: "/srv/app2" }] }), 2);
        await store.read.insertApply(entry(), 2);
        expect((await store.read.listApplies()).map((a) => a.sources)).toEqual([
          undefined,
          [{ name: "app", dir: "/srv/app2" }],
        ]);
      });

      it("keeps only the newest entries it is told to keep", async () => {
        const ids: number[] = [];
        await tx(async (t) => {
          for (let i = 0; i < 7; i++) ids.push((await t.insertApply(entry({ by: `u${i}` }), 3)).id);
        });
        expect((await store.read.listApplies()).map((a) => a.id)).toEqual(ids.slice(4).reverse());
        await store.read.insertApply(entry(), 5);
        expect(await store.read.listApplies()).toHaveLength(4);
        await expect(store.read.insertApply(entry(), 0)).rejects.toEqual(withCode("STORE_BAD_ARGUMENT"));
      });

      it("rolls an entry back with its transaction", async () => {
        await expect(
          tx(async (t) => {
            await t.insertApply(entry(), 10);
            throw new Error("the apply failed");
          }),
        ).rejects.toThrow("the apply failed");
        expect(await store.read.listApplies()).toEqual([]);
      });
    });

    describe("refused webhook deliveries", () => {
      const refusal = (resource = "hook") => ({
        resource,
        status: 401,
        code: "WEBHOOK_UNAUTHORIZED",
        reason: "wrong credentials",
        delivery: null,
        remote: "127.0.0.1",
      });

      it("records every field, lists newest first, and keeps only the newest it is told to keep", async () => {
        const at = clock.advance(5);
        const first = await store.read.insertWebhookRefusal({ ...refusal(), delivery: "d-1" }, 10);
        expect(first).toEqual({ id: first.id, at, ...refusal(), delivery: "d-1" });
        const ids = [first.id];
        await tx(async (t) => {
          for (let i = 0; i < 4; i++) ids.push((await t.insertWebhookRefusal(refusal(`h${i}`), 3)).id);
        });
        expect((await store.read.listWebhookRefusals()).map((r) => r.id)).toEqual(ids.slice(2).reverse());
        expect(await store.read.listWebhookRefusals(1)).toHaveLength(1);
        await expect(store.read.insertWebhookRefusal(refusal(), 0)).rejects.toEqual(withCode("STORE_BAD_ARGUMENT"));
      });
    });

    describe("notification outbox", () => {
      const delivery = (target: string, due: string) => ({
        runId: 7,
        job: "deploy",
        event: "failure",
        resource: "team",
        method: "webhook",
        target,
        data: { event: "failure", runNumber: 3, options: { text: "x" } },
        nextAttemptAt: due,
      });

      it("inserts a pending delivery with every field, gets it, and lists newest first, by state", async () => {
        const at = clock.advance(5);
        const first = await store.read.insertNotification(delivery("http://a", at));
        expect(first).toEqual({
          id: first.id,
          createdAt: at,
          ...delivery("http://a", at),
          state: "pending",
          attempts: 0,
          lastError: null,
          deliveredAt: null,
        });
        expect(await store.read.getNotification(first.id)).toEqual(first);
        const second = await tx((t) => t.insertNotification({ ...delivery("", at), method: null }));
        expect(second.method).toBeNull();
        await store.read.updateNotification(first.id, { state: "failed", lastError: "HTTP 500", nextAttemptAt: null });
        expect((await store.read.listNotifications()).map((n) => n.id)).toEqual([second.id, first.id]);
        expect((await store.read.listNotifications({ state: "failed" })).map((n) => n.id)).toEqual([first.id]);
        expect(await store.read.listNotifications({ limit: 1 })).toHaveLength(1);
        expect(await store.read.getNotification(999)).toBeUndefined();
      });

      it("updates only the given fields, and refuses an unknown id", async () => {
        const at = clock.advance(1);
        const n = await store.read.insertNotification(delivery("http://a", at));
        const updated = await store.read.updateNotification(n.id, { attempts: 2, lastError: "timeout" });
        expect(updated).toEqual({ ...n, attempts: 2, lastError: "timeout" });
        const done = await store.read.updateNotification(n.id, {
          state: "delivered",
          deliveredAt: at,
          nextAttemptAt: null,
        });
        expect(done).toEqual({ ...updated, state: "delivered", deliveredAt: at, nextAttemptAt: null });
        await expect(store.read.updateNotification(999, { attempts: 1 })).rejects.toEqual(
          withCode("NOTIFICATION_NOT_FOUND"),
        );
      });

      it("finds the pending deliveries due, by due time then id, leaving out the excluded, and the next due time", async () => {
        const a = await store.read.insertNotification(delivery("a", "2026-01-01T00:00:02.000Z"));
        const b = await store.read.insertNotification(delivery("b", "2026-01-01T00:00:01.000Z"));
        const c = await store.read.insertNotification(delivery("c", "2026-01-01T00:00:01.000Z"));
        const later = await store.read.insertNotification(delivery("d", "2026-01-01T00:05:00.000Z"));
        const gone = await store.read.insertNotification(delivery("e", "2026-01-01T00:00:00.000Z"));
        await store.read.updateNotification(gone.id, { state: "delivered" });
        const now = "2026-01-01T00:00:03.000Z";
        expect((await store.read.dueNotifications(now, 10, [])).map((n) => n.target)).toEqual(["b", "c", "a"]);
        expect((await store.read.dueNotifications(now, 2, [])).map((n) => n.target)).toEqual(["b", "c"]);
        expect((await store.read.dueNotifications(now, 10, [b.id, c.id])).map((n) => n.id)).toEqual([a.id]);
        expect(await store.read.nextNotificationDue([])).toBe("2026-01-01T00:00:01.000Z");
        expect(await store.read.nextNotificationDue([a.id, b.id, c.id])).toBe(later.nextAttemptAt);
        expect(await store.read.nextNotificationDue([a.id, b.id, c.id, later.id])).toBeUndefined();
      });

      it("rolls a delivery back with its transaction", async () => {
        await expect(
          tx(async (t) => {
            await t.insertNotification(delivery("a", clock.advance(1)));
            throw new Error("boom");
          }),
        ).rejects.toThrow("boom");
        expect(await store.read.listNotifications()).toEqual([]);
      });
    });

    describe("approval gates and the audit trail", () => {
      const gate = {
        approvers: ["alice", "ops"],
        minApprovals: 2,
        timeoutMinutes: 60,
        onTimeout: "reject" as const,
        preventSelfApproval: true,
      };

      it("opens a gate, records decisions once per person, closes it, and lists only pending gates", async () => {
        const created = clock.advance(5);
        const [a, b, c] = await tx(async (t) => {
          const runs = [];
          for (const job of ["deploy", "deploy", "ship"]) {
            runs.push(await t.insertRun(newRun(job, { status: "waiting_approval" })));
          }
          return runs;
        });
        if (a === undefined || b === undefined || c === undefined) throw new Error("no runs");
        await tx(async (t) => {
          await t.insertApproval({ runId: a.id, job: "deploy", gate, deadline: "2026-01-01T02:00:00.000Z" });
          await t.insertApproval({ runId: b.id, job: "deploy", gate, deadline: "2026-01-01T01:00:00.000Z" });
          await t.insertApproval({ runId: c.id, job: "ship", gate, deadline: "2026-01-01T00:30:00.000Z" });
        });
        await expect(
          store.read.insertApproval({ runId: a.id, job: "deploy", gate, deadline: T0 }),
        ).rejects.toBeDefined();
        const decision = { by: "alice", verdict: "approve" as const, comment: "ok", at: clock.advance(5) };
        await store.read.insertApprovalDecision(a.id, decision);
        await expect(
          store.read.insertApprovalDecision(a.id, { ...decision, verdict: "reject", comment: null }),
        ).rejects.toBeDefined();
        expect(await store.read.getApproval(a.id)).toEqual({
          runId: a.id,
          job: "deploy",
          gate,
          deadline: "2026-01-01T02:00:00.000Z",
          state: "pending",
          createdAt: created,
          decisions: [decision],
        });
        expect(await store.read.getApproval(999)).toBeUndefined();
        // A gate whose run no longer waits (cancelled) is not pending, whatever its state.
        await store.read.updateRun(c.id, { status: "cancelled" });
        expect((await store.read.listPendingApprovals()).map((g) => g.runId)).toEqual([b.id, a.id]);
        await store.read.setApprovalState(b.id, "approved");
        expect((await store.read.getApproval(b.id))?.state).toBe("approved");
        expect((await store.read.listPendingApprovals(5)).map((g) => g.runId)).toEqual([a.id]);
        expect((await store.read.listPendingApprovals())[0]?.decisions).toEqual([decision]);
      });

      it("appends audit events, never cut, and lists them newest first with filters and pages", async () => {
        const at = clock.advance(5);
        const first = await store.read.insertAudit({
          actor: "alice",
          action: "approve",
          subject: "run:1",
          detail: { comment: "ok" },
        });
        expect(first).toEqual({
          id: first.id,
          at,
          actor: "alice",
          action: "approve",
          subject: "run:1",
          detail: { comment: "ok" },
        });
        const ids = [first.id];
        await tx(async (t) => {
          for (const action of ["trigger", "cancel", "trigger"] as const) {
            ids.push((await t.insertAudit({ actor: "bob", action, subject: "job:deploy", detail: {} })).id);
          }
        });
        expect((await store.read.listAudit()).map((e) => e.id)).toEqual([...ids].reverse());
        expect((await store.read.listAudit({ limit: 2 })).map((e) => e.id)).toEqual([ids[3], ids[2]]);
        expect((await store.read.listAudit({ before: ids[2] })).map((e) => e.id)).toEqual([ids[1], ids[0]]);
        expect((await store.read.listAudit({ after: ids[2] })).map((e) => e.id)).toEqual([ids[3]]);
        expect((await store.read.listAudit({ action: "trigger" })).map((e) => e.id)).toEqual([ids[3], ids[1]]);
        expect((await store.read.listAudit({ subject: "run:1" })).map((e) => e.id)).toEqual([ids[0]]);
        await expect(
          tx(async (t) => {
            await t.insertAudit({ actor: "x", action: "pause", subject: "job:j", detail: {} });
            throw new Error("rolled back");
          }),
        ).rejects.toThrow("rolled back");
        expect(await store.read.listAudit({ action: "pause" })).toEqual([]);
      });
    });

    describe("api tokens", () => {
      const token = (name: string, extra: Partial<NewApiToken> = {}): NewApiToken => ({
        name,
        role: "viewer",
        kind: "api",
        hash: createHash("sha256").update(`cw_${name}`).digest("hex"),
        createdAt: clock.iso(),
        createdBy: "admin",
        expiresAt: null,
        ...extra,
      });
      const audit = (action: "token-create" | "token-revoke", name: string) => ({
        actor: "admin",
        action,
        subject: `token:${name}`,
        detail: {},
      });

      it("stores a token with its audit entry, finds it by hash, lists it, and records its use", async () => {
        const made = await harness.tokens.createToken(
          token("alice", { role: "operator", expiresAt: "2027-01-01T00:00:00.000Z" }),
          audit("token-create", "alice"),
        );
        expect(made.token).toEqual({
          ...token("alice", { role: "operator", expiresAt: "2027-01-01T00:00:00.000Z" }),
          id: made.token.id,
          lastUsedAt: null,
          revokedAt: null,
        });
        expect(made.audit).toMatchObject({ action: "token-create", subject: "token:alice", actor: "admin" });
        expect(await store.read.listAudit({ subject: "token:alice" })).toEqual([made.audit]);
        expect(await harness.tokens.tokenByHash(made.token.hash)).toEqual(made.token);
        expect(await harness.tokens.tokenByHash("0".repeat(64))).toBeUndefined();
        const used = clock.advance(1000);
        await harness.tokens.touchToken(made.token.id, used);
        expect(await harness.tokens.listTokens()).toEqual([{ ...made.token, lastUsedAt: used }]);
        await harness.reopen();
        expect((await harness.tokens.tokenByHash(made.token.hash))?.lastUsedAt).toBe(used);
      });

      it("refuses a second live token of one name; a revoked one frees the name and stays listed", async () => {
        const first = await harness.tokens.createToken(token("ci"), audit("token-create", "ci"));
        await expect(
          harness.tokens.createToken(token("ci", { hash: "f".repeat(64) }), audit("token-create", "ci")),
        ).rejects.toEqual(withCode("TOKEN_EXISTS"));
        // Refused in its transaction: no audit entry for the refusal.
        expect(await store.read.listAudit({ subject: "token:ci" })).toHaveLength(1);
        const at = clock.advance(5);
        const revoked = await harness.tokens.revokeToken("ci", at, audit("token-revoke", "ci"));
        expect(revoked.token).toEqual({ ...first.token, revokedAt: at });
        expect(revoked.audit.action).toBe("token-revoke");
        await expect(harness.tokens.revokeToken("ci", at, audit("token-revoke", "ci"))).rejects.toEqual(
          withCode("TOKEN_NOT_FOUND"),
        );
        await expect(harness.tokens.revokeToken("nobody", at, audit("token-revoke", "x"))).rejects.toEqual(
          withCode("TOKEN_NOT_FOUND"),
        );
        const second = await harness.tokens.createToken(
          token("ci", { hash: "e".repeat(64) }),
          audit("token-create", "ci"),
        );
        expect((await harness.tokens.listTokens()).map((t) => [t.name, t.revokedAt])).toEqual([
          ["ci", at],
          ["ci", null],
        ]);
        expect((await harness.tokens.tokenByHash(first.token.hash))?.revokedAt).toBe(at);
        expect((await harness.tokens.tokenByHash(second.token.hash))?.revokedAt).toBeNull();
      });
    });

    describe("transactions", () => {
      it("sees its own writes, returns the function's value, and commits", async () => {
        const result = await tx(async (t) => {
          const run = await t.insertRun(newRun("build"));
          await t.updateRun(run.id, { status: "processing" });
          expect((await t.getRun(run.id))?.status).toBe("processing");
          expect((await t.listRuns({ statuses: ["processing"] })).map((r) => r.id)).toEqual([run.id]);
          await t.insertVersion(newVersion("build", "1", { runId: run.id }));
          expect((await t.latestVersion("build"))?.runId).toBe(run.id);
          return run.id;
        });
        expect((await store.read.getRun(result))?.status).toBe("processing");
      });

      it("rolls everything back when the function throws, and rethrows its error", async () => {
        await store.read.putObject(jobDef("kept"));
        const boom = new Error("boom");
        await expect(
          tx(async (t) => {
            await t.putObject(jobDef("web"));
            await t.setPaused("kept", true);
            await t.setPin("web", "repo", 1);
            const run = await t.insertRun(newRun("web"));
            await t.insertVersion(newVersion("repo", "x", { runId: run.id }));
            await t.insertExplain({ job: "web", event: "e", outcome: "created", runId: run.id, message: "m" });
            await t.appendEvent("run", { id: run.id });
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.read.getObject("web")).toBeUndefined();
        expect((await store.read.getObject("kept"))?.paused).toBe(false);
        expect(await store.read.listPins()).toEqual([]);
        expect(await store.read.listRuns()).toEqual([]);
        expect(await store.read.latestVersion("repo")).toBeUndefined();
        expect(await store.read.listExplains("web")).toEqual([]);
        expect(await store.eventsSince(0)).toEqual([]);
        // Sequences restart where the committed data left them.
        expect((await store.read.insertVersion(newVersion("repo", "y"))).versionNumber).toBe(1);
        expect((await store.read.insertRun(newRun("web"))).number).toBe(1);
      });

      it("rolls back when a store call fails and the error propagates", async () => {
        await expect(
          tx(async (t) => {
            await t.insertVersion(newVersion("a", "x"));
            await t.updateRun(424242, { status: "success" });
          }),
        ).rejects.toEqual(withCode("RUN_NOT_FOUND"));
        expect(await store.read.latestVersion("a")).toBeUndefined();
      });

      it("serialises concurrent read-modify-write transactions: no lost update", async () => {
        const increments = 20;
        await Promise.all(
          Array.from({ length: increments }, () =>
            tx(async (t) => {
              const latest = await t.latestVersion("counter");
              const n = typeof latest?.propertyBag.n === "number" ? latest.propertyBag.n : 0;
              await yieldMany();
              await t.insertVersion(newVersion("counter", String(n + 1), { propertyBag: { n: n + 1 } }));
            }),
          ),
        );
        const versions = await store.read.listVersions("counter");
        expect(versions).toHaveLength(increments);
        expect(versions.map((v) => v.propertyBag.n)).toEqual(versions.map((v) => v.versionNumber));
        expect(versions[0]?.versionName).toBe(String(increments));
      });

      it("never shows a transaction's uncommitted writes to a concurrent read", async () => {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let inserted!: () => void;
        const didInsert = new Promise<void>((resolve) => (inserted = resolve));
        const failing = tx(async (t) => {
          await t.insertVersion(newVersion("a", "uncommitted"));
          inserted();
          await gate;
          throw new Error("roll back");
        });
        await didInsert;
        const read = store.read.latestVersion("a");
        await yieldMany();
        release();
        await expect(failing).rejects.toThrow("roll back");
        expect(await read).toBeUndefined();
        expect(await store.read.latestVersion("a")).toBeUndefined();
      });

      it("refuses calls on a transaction's object after it ended", async () => {
        let leaked: StoreTx | undefined;
        await tx((t) => {
          leaked = t;
          return Promise.resolve();
        });
        await expect(leaked!.insertVersion(newVersion("a", "late"))).rejects.toEqual(withCode("STORE_TX_FINISHED"));
        expect(await store.read.latestVersion("a")).toBeUndefined();
      });
    });

    describe("durability", () => {
      it("keeps committed data across close and reopen, and sequences continue", async () => {
        const { run, version, event } = await tx(async (t) => {
          await t.putObject(jobDef("build"));
          await t.setPaused("build", true);
          await t.setPin("build", "repo", 1);
          const run = await t.insertRun(newRun("build"));
          const version = await t.insertVersion(newVersion("build", "1", { runId: run.id }));
          await t.insertExplain({ job: "build", event: "manual", outcome: "created", runId: run.id, message: "run 1" });
          const event = await t.appendEvent("run", { runId: run.id });
          return { run, version, event };
        });
        store = await harness.reopen();
        expect(await store.read.getObject("build")).toMatchObject({ paused: true });
        expect(await store.read.listPins("build")).toEqual([{ job: "build", input: "repo", versionNumber: 1 }]);
        expect(await store.read.getRun(run.id)).toEqual(run);
        expect(await store.read.getVersion(version.id)).toEqual(version);
        expect(await store.read.listExplains("build")).toHaveLength(1);
        expect(await store.eventsSince(0)).toEqual([event]);
        expect((await store.read.insertRun(newRun("build"))).number).toBe(2);
        expect((await store.read.insertVersion(newVersion("build", "2"))).versionNumber).toBe(2);
        expect((await store.read.appendEvent("run", {})).id).toBeGreaterThan(event.id);
      });

      it("refuses calls after close", async () => {
        await store.close();
        await store.close(); // idempotent
        await expect(store.read.getRun(1)).rejects.toEqual(withCode("STORE_CLOSED"));
        await expect(store.transaction(() => Promise.resolve())).rejects.toEqual(withCode("STORE_CLOSED"));
        await expect(store.eventsSince(0)).rejects.toEqual(withCode("STORE_CLOSED"));
      });
    });
  });
}

/** Registers the contract cases of `BlobStore`. */
export function describeBlobStoreContract(name: string, makeBlobs: () => Promise<BlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let blobs: BlobStore;
    beforeEach(async () => {
      blobs = await makeBlobs();
    });

    it("addresses content by its sha256 and is idempotent", async () => {
      const bytes = new TextEncoder().encode("state files\n");
      const sha = await blobs.put(bytes);
      expect(sha).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(await blobs.put(new Uint8Array(bytes))).toBe(sha);
      expect(await blobs.get(sha)).toEqual(bytes);
      const [a, b] = await Promise.all([blobs.put(new Uint8Array([1, 2, 3])), blobs.put(new Uint8Array([1, 2, 3]))]);
      expect(a).toBe(b);
      expect(await blobs.get(a)).toEqual(new Uint8Array([1, 2, 3]));
    });

    it("stores empty and binary blobs", async () => {
      const empty = await blobs.put(new Uint8Array(0));
      expect(await blobs.get(empty)).toEqual(new Uint8Array(0));
      const binary = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256);
      expect(await blobs.get(await blobs.put(binary))).toEqual(binary);
    });

    it("returns undefined for an unknown or malformed sha", async () => {
      expect(await blobs.get("0".repeat(64))).toBeUndefined();
      expect(await blobs.get("../../etc/passwd")).toBeUndefined();
      expect(await blobs.get("")).toBeUndefined();
    });
  });
}

/** Registers the contract cases of `LogStore`. */
export function describeLogStoreContract(name: string, makeLogs: () => Promise<LogStore>): void {
  describe(`LogStore contract: ${name}`, () => {
    let logs: LogStore;
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const bytes = (s: string) => new TextEncoder().encode(s);
    beforeEach(async () => {
      logs = await makeLogs();
    });

    it("reads nothing for a run without a log", async () => {
      expect(await logs.read(99)).toEqual(new Uint8Array(0));
      expect(await logs.read(99, 10)).toEqual(new Uint8Array(0));
      expect(await logs.size(99)).toBe(0);
    });

    it("appends in call order, even without waiting between calls", async () => {
      const chunks = Array.from({ length: 200 }, (_, i) => `line ${i} ${"x".repeat(i % 37)}\n`);
      await Promise.all(chunks.map((chunk) => logs.append(1, bytes(chunk))));
      expect(text(await logs.read(1))).toBe(chunks.join(""));
      expect(await logs.size(1)).toBe(bytes(chunks.join("")).byteLength);
    });

    it("reads from a byte offset", async () => {
      await logs.append(2, bytes("hello "));
      await logs.append(2, bytes("world"));
      await logs.append(2, new Uint8Array(0));
      expect(text(await logs.read(2, 6))).toBe("world");
      expect(text(await logs.read(2, 0))).toBe("hello world");
      expect(await logs.read(2, 11)).toEqual(new Uint8Array(0));
      expect(await logs.read(2, 500)).toEqual(new Uint8Array(0));
      expect(await logs.size(2)).toBe(11);
    });

    it("cuts a log back to a length, and appends go on from the new end", async () => {
      await logs.create(8);
      await logs.append(8, bytes("kept|dropped"));
      await logs.truncate(8, 5);
      expect(text(await logs.read(8))).toBe("kept|");
      await logs.append(8, bytes("again"));
      expect(text(await logs.read(8))).toBe("kept|again");
      // A length at or past the end leaves the log as it is; no log stays no log.
      await logs.truncate(8, 100);
      expect(await logs.size(8)).toBe(10);
      await logs.truncate(98, 0);
      expect(await logs.size(98)).toBe(0);
      await expect(logs.truncate(8, -1)).rejects.toEqual(expect.objectContaining({ code: "STORE_BAD_ARGUMENT" }));
    });

    it("keeps runs apart and sees an append made just before a read", async () => {
      void logs.append(3, bytes("three"));
      void logs.append(4, bytes("four"));
      expect(text(await logs.read(3))).toBe("three");
      expect(text(await logs.read(4))).toBe("four");
    });

    it("creates a log empty, once: an expected log that was created reads empty, not as lost", async () => {
      await logs.create(5);
      expect(await logs.read(5, 0, { expected: true })).toEqual(new Uint8Array(0));
      await logs.append(5, bytes("kept"));
      await logs.create(5);
      expect(text(await logs.read(5, 0, { expected: true }))).toBe("kept");
      await logs.close(5, 4);
      expect(text(await logs.read(5))).toBe("kept");
    });

    it("answers LOG_NOT_FOUND for an expected log that does not exist, and reads it as empty otherwise", async () => {
      await expect(logs.read(6, 0, { expected: true })).rejects.toEqual(
        expect.objectContaining({ code: "LOG_NOT_FOUND" }),
      );
      expect(await logs.read(6, 0, { expected: false })).toEqual(new Uint8Array(0));
    });

    it("closes a log only when it holds every byte written to it, else LOG_NOT_FOUND", async () => {
      await logs.create(7);
      await logs.append(7, bytes("0123456789"));
      await expect(logs.close(7, 11)).rejects.toEqual(expect.objectContaining({ code: "LOG_NOT_FOUND" }));
      await logs.create(8);
      await logs.append(8, bytes("0123456789"));
      await logs.close(8, 10);
    });
  });
}
