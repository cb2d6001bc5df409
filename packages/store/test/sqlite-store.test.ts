import {
  acquireDataDirLock,
  compileSqliteStoreOptions,
  FileBlobStore,
  FileLogStore,
  openSqliteStore,
  type SqliteStores,
} from "@causeway/store";
import BetterSqlite3 from "better-sqlite3";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { initial } from "../src/migrations/0001-initial.js";
import { MIGRATIONS } from "../src/migrations/index.js";
import { isNetworkFilesystemType, WAL_AUTOCHECKPOINT_PAGES } from "../src/sqlite-store.js";
import { listRunsQuery } from "../src/runs-query.js";
import type { CausewayDatabase } from "../src/schema.js";
import {
  describeBlobStoreContract,
  describeLogStoreContract,
  describeStoreContract,
  FakeClock,
  type MakeStore,
} from "./store-contract.js";

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "causeway-store-"));
  temps.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

function sqliteHarness(options: { detectNestedCalls: boolean }): MakeStore {
  return async ({ clock }) => {
    const dataDir = await tempDir();
    const open = () => openSqliteStore({ dataDir, clock, ...options });
    let current: SqliteStores = await open();
    return {
      get store() {
        return current.store;
      },
      get tokens() {
        return current.tokens;
      },
      async reopen() {
        await current.store.close();
        current = await open();
        return current.store;
      },
      async close() {
        await current.store.close();
      },
    };
  };
}

describeStoreContract("sqlite", sqliteHarness({ detectNestedCalls: true }));
describeStoreContract("sqlite without nesting detection", sqliteHarness({ detectNestedCalls: false }));

describeBlobStoreContract("files", async () => new FileBlobStore(join(await tempDir(), "blobs")));
describeLogStoreContract("files", async () => new FileLogStore(join(await tempDir(), "logs")));

/** A database as the first release left it (only migration 0001), open for the test to fill. */
async function databaseAt0001(dataDir: string): Promise<BetterSqlite3.Database> {
  mkdirSync(dataDir, { recursive: true });
  const old = new Kysely<unknown>({
    dialect: new SqliteDialect({ database: new BetterSqlite3(join(dataDir, "causeway.db")) }),
  });
  const migrated = await new Migrator({
    db: old,
    provider: { getMigrations: () => Promise.resolve({ "0001-initial": initial }) },
  }).migrateToLatest();
  expect(migrated.error).toBeUndefined();
  await old.destroy();
  return new BetterSqlite3(join(dataDir, "causeway.db"));
}

describe("the SQLite data directory", () => {
  let dataDir: string;
  let opened: SqliteStores | undefined;
  beforeEach(async () => {
    dataDir = join(await tempDir(), "data");
  });
  afterEach(async () => {
    await opened?.store.close();
    opened = undefined;
  });

  it("creates the directory, the database in WAL mode, and records the migrations", async () => {
    opened = await openSqliteStore({ dataDir });
    expect(opened.dataDir).toBe(resolve(dataDir));
    expect(existsSync(join(dataDir, "causeway.db"))).toBe(true);
    const peek = new BetterSqlite3(join(dataDir, "causeway.db"), { readonly: true });
    try {
      expect(peek.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(peek.prepare("SELECT name FROM kysely_migration ORDER BY name").pluck().all()).toEqual(
        Object.keys(MIGRATIONS),
      );
      const tables = peek.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      expect(tables).toEqual(
        expect.arrayContaining(["applies", "events", "explains", "objects", "pins", "runs", "versions"]),
      );
    } finally {
      peek.close();
    }
  });

  it("lets the WAL grow to WAL_AUTOCHECKPOINT_PAGES before a commit checkpoints it", async () => {
    opened = await openSqliteStore({ dataDir });
    const wal = join(dataDir, "causeway.db-wal");
    // About 8 MB of pages in the WAL: past SQLite's default of 1,000 pages, which would have
    // checkpointed (and started the WAL again) on the way.
    const text = "x".repeat(3000);
    for (let i = 0; i < 40; i++) {
      await opened.store.transaction(async (tx) => {
        for (let j = 0; j < 60; j++) await tx.appendEvent("run", { id: i * 60 + j, text });
      });
    }
    const pages = statSync(wal).size / 4096;
    expect(pages).toBeGreaterThan(1500);
    expect(pages).toBeLessThan(WAL_AUTOCHECKPOINT_PAGES + 500);
  });

  it("adds the apply history to a database that has a later migration but not it, keeping its data", async () => {
    opened = await openSqliteStore({ dataDir });
    await opened.store.read.putObject({ name: "web", kind: "job", type: "runSh", definition: {}, consistent: true });
    await opened.store.close();
    opened = undefined;
    // What a build with the later migrations but not the apply history left (numbers are handed
    // out ahead, so 0002 may land after 0003).
    const db = new BetterSqlite3(join(dataDir, "causeway.db"));
    try {
      db.exec("DROP TABLE applies; DELETE FROM kysely_migration WHERE name = '0002-apply-history'");
    } finally {
      db.close();
    }
    opened = await openSqliteStore({ dataDir });
    expect((await opened.store.read.getObject("web"))?.name).toBe("web");
    expect(await opened.store.read.listApplies()).toEqual([]);
  });

  it("defaults to ./.causeway", () => {
    expect(compileSqliteStoreOptions().dataDir).toBe(resolve(".causeway"));
    expect(() => compileSqliteStoreOptions({ busyTimeoutMs: -1 })).toThrow(
      expect.objectContaining({ code: "STORE_BAD_ARGUMENT" }),
    );
  });

  it("refuses a second open of the same directory until the first is closed", async () => {
    opened = await openSqliteStore({ dataDir });
    await expect(openSqliteStore({ dataDir })).rejects.toEqual(
      expect.objectContaining({ code: "DATA_DIR_LOCKED", message: expect.stringContaining(`process ${process.pid}`) }),
    );
    expect(() => acquireDataDirLock(dataDir)).toThrow(expect.objectContaining({ code: "DATA_DIR_LOCKED" }));
    await opened.store.close();
    opened = await openSqliteStore({ dataDir });
    expect(await opened.store.read.listObjects()).toEqual([]);
  });

  it("fails fast instead of deadlocking on a nested transaction or read", async () => {
    opened = await openSqliteStore({ dataDir });
    const { store } = opened;
    await expect(store.transaction(() => store.transaction(() => Promise.resolve(1)))).rejects.toEqual(
      expect.objectContaining({ code: "STORE_NESTED_TRANSACTION" }),
    );
    await expect(store.transaction(() => store.read.listObjects())).rejects.toEqual(
      expect.objectContaining({ code: "STORE_NESTED_TRANSACTION" }),
    );
    // A flow started inside a transaction may use the store once the transaction is over.
    let later: Promise<unknown> | undefined;
    await store.transaction((tx) => {
      later = Promise.resolve().then(async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return store.read.listObjects();
      });
      return tx.listObjects();
    });
    await expect(later).resolves.toEqual([]);
  });

  it("refuses a database migrated by a newer build, and leaves the directory unlocked", async () => {
    await (await openSqliteStore({ dataDir })).store.close();
    const db = new BetterSqlite3(join(dataDir, "causeway.db"));
    db.prepare("INSERT INTO kysely_migration (name, timestamp) VALUES ('9999-future', 'x')").run();
    db.close();
    await expect(openSqliteStore({ dataDir })).rejects.toEqual(
      expect.objectContaining({ code: "STORE_MIGRATION_FAILED" }),
    );
    acquireDataDirLock(dataDir).release();
  });

  it("0003-run-secret-params: runs of an older database get no recorded secret, and keep their values", async () => {
    // A database as the first release left it: only 0001, with one run.
    const raw = await databaseAt0001(dataDir);
    raw
      .prepare(
        `INSERT INTO runs (job, number, status, trigger, flow, inputs, params, priority, attempt, created_at)
         VALUES ('deploy', 1, 'success', '{"kind":"manual","by":"cli"}', 'f', '[]', '{"TOKEN":"old"}', 9999, 1, 'x')`,
      )
      .run();
    raw.close();
    opened = await openSqliteStore({ dataDir });
    const [run] = await opened.store.read.listRuns({ job: "deploy" });
    expect(run).toMatchObject({ params: { TOKEN: "old" }, secretParams: [] });
  });

  it("0014: the status index holds only runs that did not succeed, and the queries for them use it", async () => {
    // A database as 0001 left it, with a successful run and an active one in runs_status_ix.
    const raw = await databaseAt0001(dataDir);
    const insert = raw.prepare(
      `INSERT INTO runs (job, number, status, trigger, flow, inputs, params, priority, attempt, created_at)
       VALUES ('deploy', ?, ?, '{"kind":"manual","by":"cli"}', 'f', '[]', '{}', 9999, 1, 'x')`,
    );
    insert.run(1, "success");
    insert.run(2, "queued");
    raw.close();
    opened = await openSqliteStore({ dataDir });
    await opened.store.read.updateRun(2, { status: "processing" });
    const peek = new BetterSqlite3(join(dataDir, "causeway.db"), { readonly: true });
    try {
      const indexes = peek.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs'").pluck();
      expect(indexes.all()).toContain("runs_unsuccessful_ix");
      expect(indexes.all()).not.toContain("runs_status_ix");
      // Index entries: the processing run, not the successful one.
      expect(
        peek.prepare("SELECT id FROM runs INDEXED BY runs_unsuccessful_ix WHERE status != 'success'").pluck().all(),
      ).toEqual([2]);
      const plan = (query: Parameters<typeof listRunsQuery>[1]): string => {
        const { sql, parameters } = listRunsQuery(
          new Kysely<CausewayDatabase>({ dialect: new SqliteDialect({ database: peek }) }),
          query,
        ).compile();
        return (peek.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...parameters) as { detail: string }[])
          .map((p) => p.detail)
          .join(" | ");
      };
      expect(plan({ statuses: ["waiting", "queued", "waiting_approval", "processing"] })).toContain(
        "USING INDEX runs_unsuccessful_ix",
      );
      expect(plan({ statuses: ["failure"], limit: 20 })).toContain("USING INDEX runs_unsuccessful_ix");
    } finally {
      peek.close();
    }
    expect((await opened.store.read.listRuns({ statuses: ["processing", "queued"] })).map((r) => r.id)).toEqual([2]);
    expect((await opened.store.read.listRuns({ statuses: ["success", "processing"] })).map((r) => r.id)).toEqual([
      2, 1,
    ]);
  });

  it("makes the data directory and everything in it owner-only, whatever the umask", async () => {
    const umask = process.umask(0);
    try {
      opened = await openSqliteStore({ dataDir });
      await opened.store.read.insertRun({
        job: "build",
        status: "queued",
        statusReason: null,
        trigger: { kind: "manual", by: "alice" },
        flow: "f",
        inputs: [],
        params: {},
        secretParams: [],
        priority: 1,
        attempt: 1,
        rerunOf: null,
      });
      await opened.logs.append(1, new TextEncoder().encode("log line\n"));
      await opened.blobs.put(new TextEncoder().encode("state file"));
    } finally {
      process.umask(umask);
    }
    const modes = readdirSync(dataDir, { recursive: true, withFileTypes: true }).map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return [path.slice(dataDir.length + 1), statSync(path).mode & 0o777] as const;
    });
    expect(modes.map(([path]) => path)).toEqual(
      expect.arrayContaining([
        "causeway.db",
        "causeway.db-wal",
        "causeway.db-shm",
        "server.lock",
        "logs/1.log",
        "blobs",
      ]),
    );
    for (const [path, mode] of modes) {
      expect([path, mode]).toEqual([path, statSync(join(dataDir, path)).isDirectory() ? 0o700 : 0o600]);
    }
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  it("makes the database files of an older, world-readable data directory owner-only when it opens them", async () => {
    await (await openSqliteStore({ dataDir })).store.close();
    chmodSync(join(dataDir, "causeway.db"), 0o644);
    opened = await openSqliteStore({ dataDir });
    for (const file of ["causeway.db", "causeway.db-wal", "causeway.db-shm"]) {
      expect([file, statSync(join(dataDir, file)).mode & 0o777]).toEqual([file, 0o600]);
    }
  });

  it("knows network file systems by their statfs type", () => {
    expect(isNetworkFilesystemType(0x6969)).toBe(true); // NFS
    expect(isNetworkFilesystemType(0xff534d42)).toBe(true); // CIFS
    expect(isNetworkFilesystemType(0xef53)).toBe(false); // ext4
    expect(isNetworkFilesystemType(0x01021994)).toBe(false); // tmpfs
  });

  it("keeps blobs and logs in the data directory", async () => {
    opened = await openSqliteStore({ dataDir, clock: new FakeClock() });
    const sha = await opened.blobs.put(new TextEncoder().encode("state"));
    expect(readdirSync(join(dataDir, "blobs", sha.slice(0, 2)))).toEqual([sha]);
    await opened.logs.append(7, new TextEncoder().encode("log line\n"));
    expect(readFileSync(join(dataDir, "logs", "7.log"), "utf8")).toBe("log line\n");
    await expect(opened.logs.append(0, new Uint8Array(1))).rejects.toEqual(
      expect.objectContaining({ code: "STORE_BAD_ARGUMENT" }),
    );
    await expect(opened.logs.read(7, -1)).rejects.toEqual(expect.objectContaining({ code: "STORE_BAD_ARGUMENT" }));
  });
});
