// Measures the per-call cost of the store's hot methods (not a test: timings are never asserted).
// Run: node --import tsx --conditions=source packages/store/test/measure-hot-path.ts
import type { NewRun, NewVersion, Store, StoreTx } from "@causeway/core";
import { openSqliteStore } from "@causeway/store";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CausewayDatabase } from "../src/schema.js";

const N = 20_000;
const newRun = (job: string): NewRun => ({
  job,
  status: "queued",
  statusReason: null,
  trigger: { kind: "upstream", by: "build", versionId: 1 },
  flow: "flow-1",
  inputs: [
    {
      name: "repo",
      kind: "resource",
      type: "gitRepo",
      versionId: 1,
      versionNumber: 1,
      versionName: "abc",
      pinned: false,
    },
  ],
  params: {},
  secretParams: [],
  priority: 9999,
  attempt: 1,
  rerunOf: null,
});
const newVersion = (objectName: string, runId: number | null): NewVersion => ({
  objectName,
  versionName: "abc123",
  propertyBag: { sha: "abc123", branch: "main" },
  createdBy: "run:1",
  runId,
  stateSha: null,
  flowId: "flow-1",
});

function time(label: string, n: number, fn: (i: number) => void): void {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const us = Number(process.hrtime.bigint() - start) / 1000 / n;
  console.log(`${label.padEnd(52)} ${us.toFixed(2).padStart(8)} µs/call`);
}

async function timeAsync(label: string, n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const us = Number(process.hrtime.bigint() - start) / 1000 / n;
  const used = process.cpuUsage(cpu);
  const cpuUs = (used.user + used.system) / n;
  console.log(`${label.padEnd(52)} ${us.toFixed(2).padStart(8)} µs/call  (cpu ${cpuUs.toFixed(2)} µs)`);
}

const dir = mkdtempSync(join(tmpdir(), "causeway-measure-"));
try {
  // 1. Raw: the same queries through Kysely and through a prepared statement.
  {
    const { store } = await openSqliteStore({ dataDir: dir });
    await store.close();
    const sqlite = new BetterSqlite3(join(dir, "causeway.db"));
    const db = new Kysely<CausewayDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
    sqlite.exec("BEGIN");
    const now = new Date().toISOString();
    const insert = sqlite.prepare(`INSERT INTO events (at, type, payload) VALUES (@at, @type, @payload) RETURNING *`);
    time("prepared  INSERT event RETURNING *", N, () => insert.get({ at: now, type: "run", payload: "{}" }));
    await timeAsync("kysely    INSERT event RETURNING *", N, () =>
      db.insertInto("events").values({ at: now, type: "run", payload: "{}" }).returningAll().executeTakeFirst(),
    );
    const select = sqlite.prepare(`SELECT * FROM events WHERE id = @id`);
    time("prepared  SELECT event by id", N, (i) => select.get({ id: i + 1 }));
    await timeAsync("kysely    SELECT event by id", N, (i) =>
      db
        .selectFrom("events")
        .selectAll()
        .where("id", "=", i + 1)
        .executeTakeFirst(),
    );
    sqlite.exec("ROLLBACK");
    await db.destroy();
  }

  // 2. The store's methods (prepared inside), per call, inside one transaction (no fsync).
  rmSync(dir, { recursive: true, force: true });
  const { store } = await openSqliteStore({ dataDir: dir });
  await store.transaction(async (tx) => {
    const run = await tx.insertRun(newRun("seed"));
    await timeAsync("tx.insertRun", N, (i) => tx.insertRun(newRun(`job${i % 100}`)));
    await timeAsync("tx.updateRun", N, (i) =>
      tx.updateRun(run.id + (i % 1000), { status: "processing", startedAt: now() }),
    );
    await timeAsync("tx.getRun", N, (i) => tx.getRun(run.id + (i % 1000)));
    await timeAsync("tx.insertVersion", N, (i) => tx.insertVersion(newVersion(`res${i % 100}`, run.id)));
    await timeAsync("tx.latestVersion", N, (i) => tx.latestVersion(`res${i % 100}`));
    await timeAsync("tx.insertExplain", N, () =>
      tx.insertExplain({
        job: "seed",
        event: "version res1#3",
        outcome: "created",
        runId: run.id,
        message: "run 3 created",
      }),
    );
    await timeAsync("tx.appendEvent", N, () => tx.appendEvent("run", { runId: run.id, status: "success" }));
    await timeAsync("tx.listRuns({job, statuses: [2 active]}) (kysely)", N / 10, (i) =>
      tx.listRuns({ job: `job${i % 100}`, statuses: ["processing", "waiting"] }),
    );
    await timeAsync("tx.listRuns({job, statuses: [1], limit: 1}) (kysely)", N / 10, (i) =>
      tx.listRuns({ job: `job${i % 100}`, statuses: ["queued"], limit: 1 }),
    );
    await timeAsync("tx.getObject (kysely)", N, () => tx.getObject("seed"));
  });
  await timeAsync("store.read.getRun (queued, own statement)", N, (i) => store.read.getRun(1 + (i % 1000)));
  await timeAsync("store.transaction, empty (BEGIN IMMEDIATE/COMMIT)", N / 10, () =>
    store.transaction(() => Promise.resolve()),
  );

  // 3. A run's store work: one committed transaction per step of its life (fsync included).
  await measureRunLife(store, 500);
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function now(): string {
  return new Date().toISOString();
}

async function measureRunLife(store: Store, runs: number): Promise<void> {
  // The same calls inside one outer transaction: the store's work without the commits.
  const calls = process.cpuUsage();
  await store.transaction(async (tx) => {
    for (let i = 0; i < runs; i++) await runLife(i, (fn) => fn(tx));
  });
  const callsUsed = process.cpuUsage(calls);
  console.log(
    `a run's 8 calls, no commit: cpu ${((callsUsed.user + callsUsed.system) / 1000 / runs).toFixed(3)} ms/run`,
  );

  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await runLife(i, (fn) => store.transaction(fn));
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6 / runs;
  const used = process.cpuUsage(cpu);
  console.log(
    `a run's life (3 commits, 8 calls): wall ${wallMs.toFixed(3)} ms/run, cpu ${((used.user + used.system) / 1000 / runs).toFixed(3)} ms/run (user ${(used.user / 1000 / runs).toFixed(3)})`,
  );
}

type InTx = <T>(fn: (tx: StoreTx) => Promise<T>) => Promise<T>;

/** A run's store work: created (trigger evaluation), started, finished with its job version. */
async function runLife(i: number, inTx: InTx): Promise<void> {
  const run = await inTx(async (tx) => {
    await tx.latestVersion("repo");
    const created = await tx.insertRun(newRun("life"));
    await tx.insertExplain({
      job: "life",
      event: `upstream #${i}`,
      outcome: "created",
      runId: created.id,
      message: "m",
    });
    await tx.appendEvent("run", { runId: created.id, status: "queued" });
    return created;
  });
  await inTx((tx) => tx.updateRun(run.id, { status: "processing", startedAt: now() }));
  await inTx(async (tx) => {
    await tx.updateRun(run.id, { status: "success", exitCode: 0, finishedAt: now() });
    await tx.insertVersion(newVersion("life", run.id));
    await tx.appendEvent("run", { runId: run.id, status: "success" });
  });
}
