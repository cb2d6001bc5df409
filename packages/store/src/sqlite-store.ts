import { CausewayError } from "@causeway/core";
import type {
  ApiToken,
  AuditEvent,
  BlobStore,
  Clock,
  EngineEvent,
  LogStore,
  NewApiToken,
  NewAuditEvent,
  Store,
  StoreTx,
  TokenStore,
  RunnerStore,
} from "@causeway/core";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteAdapter, SqliteDialect, type DialectAdapter } from "kysely";
import { AsyncLocalStorage } from "node:async_hooks";
import { statfsSync } from "node:fs";
import { join, resolve } from "node:path";
import { FileBlobStore } from "./blob-store.js";
import { sqliteError } from "./disk-errors.js";
import { acquireDataDirLock, LOCK_FILE, type DataDirLock } from "./data-dir-lock.js";
import { FileLogStore } from "./log-store.js";
import { migrateToLatest } from "./migrations/index.js";
import { createPrivateFile, makePrivate } from "./modes.js";
import type { CausewayDatabase } from "./schema.js";
import { SerialQueue } from "./serial-queue.js";
import { cachingDatabase } from "./statement-cache.js";
import { SqliteRepo } from "./sqlite-repo.js";
import { TokensRepo } from "./tokens-repo.js";
import { RunnersRepo } from "./runners-repo.js";
import { loadSecretKeys, SECRET_KEY_FILE, type SecretKeyRing, type SecretKeySource } from "./secret-keys.js";
import { scopedStoreTx, wrapStoreTx } from "./tx-views.js";

/** Options of the embedded SQLite store. */
export interface SqliteStoreOptions {
  /** The data directory (created if missing). Default `./.causeway/`. */
  readonly dataDir?: string;
  /** The source of every stored time. Default: the system clock. */
  readonly clock?: Clock;
  /** How long a statement waits for a lock held by another connection. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /**
   * Reject `store.transaction`/`store.read`/`store.close` called from inside a transaction of
   * the same store (STORE_NESTED_TRANSACTION) instead of waiting for it forever. Default true.
   * It needs an AsyncLocalStorage, which on Node 20 makes every promise of the process about
   * 90 ns dearer; a server that has proven it never nests may turn it off.
   */
  readonly detectNestedCalls?: boolean;
  /**
   * The key of the integration store and of secret run parameters, kept outside the database.
   * Default: the key file `<dataDir>/secret.key`, created (0600) on first open.
   */
  readonly secretKey?: SecretKeySource;
}

/** SqliteStoreOptions with defaults applied. */
export interface CompiledSqliteStoreOptions {
  readonly dataDir: string;
  readonly clock: Clock;
  readonly busyTimeoutMs: number;
  readonly detectNestedCalls: boolean;
  readonly secretKey: SecretKeySource;
}

/** Applies the defaults of SqliteStoreOptions and rejects bad values. */
export function compileSqliteStoreOptions(options: SqliteStoreOptions = {}): CompiledSqliteStoreOptions {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new CausewayError("STORE_BAD_ARGUMENT", `busyTimeoutMs must be a non-negative integer, not ${busyTimeoutMs}`);
  }
  const dataDir = resolve(options.dataDir ?? ".causeway");
  return Object.freeze({
    dataDir,
    secretKey: options.secretKey ?? { file: join(dataDir, SECRET_KEY_FILE) },
    clock: options.clock ?? systemClock,
    busyTimeoutMs,
    detectNestedCalls: options.detectNestedCalls ?? true,
  });
}

const systemClock: Clock = { now: () => new Date() };

/** The stores of one data directory. `store.close()` closes them all and frees the directory. */
export interface SqliteStores {
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly logs: LogStore;
  /** The API tokens, on the same connection and queue as `store` (server only). */
  readonly tokens: TokenStore;
  /** The remote runners and their leases, on the same connection and queue (server only). */
  readonly runners: RunnerStore;
  /** The absolute data directory. */
  readonly dataDir: string;
  /** The keys that encrypt secrets at rest (rotation changes them in place). */
  readonly secretKeys: SecretKeyRing;
}

/** The database file inside a data directory. */
export const DATABASE_FILE = "causeway.db";

/**
 * How many pages the WAL may hold before a commit copies them into the database (SQLite's
 * automatic checkpoint, in the committing call). SQLite's default, 1,000 pages, made every 60th
 * job's commit a checkpoint of 5 to 10 ms on the 1,000-job DAG (a job's transaction writes about
 * 16 pages, most of them the same few pages of the runs, events and explains tables): at 10,000
 * the same pages are copied once per 600 jobs, not once per 60 (measured: 4% of the DAG). The
 * WAL then grows to about 40 MB, which a restart after a crash reads back.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * Opens the embedded store of `dataDir`: takes the directory's exclusive lock (one server
 * process per directory), opens `causeway.db` in WAL mode with `synchronous=FULL`, and migrates
 * it to the latest schema. Blobs live in `blobs/`, run logs in `logs/`. Everything it creates
 * is owner-only (directories 0700, files 0600); the database files are made so at each open.
 */
export async function openSqliteStore(options: SqliteStoreOptions = {}): Promise<SqliteStores> {
  const config = compileSqliteStoreOptions(options);
  let lock: DataDirLock;
  try {
    lock = acquireDataDirLock(config.dataDir);
  } catch (error) {
    // A full disk may be met first here, writing the lock (a small SQLite database): say so,
    // and where.
    throw sqliteError(error, join(config.dataDir, LOCK_FILE));
  }
  let sqlite: BetterSqlite3.Database | undefined;
  try {
    refuseNetworkFilesystem(config.dataDir);
    const database = join(config.dataDir, DATABASE_FILE);
    createPrivateFile(database);
    sqlite = new BetterSqlite3(database);
    sqlite.pragma(`busy_timeout = ${config.busyTimeoutMs}`);
    const mode = sqlite.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") {
      throw new CausewayError(
        "STORE_UNSUITABLE_FILESYSTEM",
        `SQLite refused WAL mode in ${config.dataDir} (got ${String(mode)})`,
      );
    }
    // WAL mode made the -wal and -shm files, with the database's mode: a database of an older
    // build may have been created world-readable, so all three are made owner-only here.
    for (const file of [database, `${database}-wal`, `${database}-shm`]) makePrivate(file);
    sqlite.pragma("synchronous = FULL");
    sqlite.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    sqlite.pragma("foreign_keys = ON");
    const db = new Kysely<CausewayDatabase>({ dialect: new StoreSqliteDialect({ database: cachingDatabase(sqlite) }) });
    await migrateToLatest(db as unknown as Kysely<unknown>);
    const secretKeys = loadSecretKeys(config.secretKey);
    const logs = new FileLogStore(join(config.dataDir, "logs"));
    const store = new SqliteStore(sqlite, db, config, lock, logs, secretKeys);
    // A server started with the wrong key says so at once, naming the key ids it lacks.
    const missing = [...(await store.secretKeyIds())].filter((id) => !secretKeys.ids.includes(id));
    if (missing.length > 0) {
      throw new CausewayError(
        "SECRET_KEY_INVALID",
        `the stored secrets were encrypted with key${missing.length > 1 ? "s" : ""} ${missing.join(", ")}, ` +
          `which the server's secret key (${secretKeys.ids.join(", ")}) is not: start it with the key they were encrypted with`,
      );
    }
    return {
      store,
      blobs: new FileBlobStore(join(config.dataDir, "blobs")),
      logs,
      tokens: store.tokens,
      runners: store.runners,
      dataDir: config.dataDir,
      secretKeys,
    };
  } catch (error) {
    sqlite?.close();
    lock.release();
    throw sqliteError(error, join(config.dataDir, DATABASE_FILE));
  }
}

// statfs(2) magic numbers of network file systems, where SQLite's WAL (shared memory, POSIX
// locks) is not safe: NFS, SMB, CIFS, SMB2, AFS, Ceph, Lustre.
const NETWORK_FS_TYPES = new Set([0x6969, 0x517b, 0xff534d42, 0xfe534d42, 0x5346414f, 0x00c36400, 0x0bd00bd0]);

/** True when a statfs(2) type is a network file system. */
export function isNetworkFilesystemType(type: number | bigint): boolean {
  return NETWORK_FS_TYPES.has(Number(type));
}

function refuseNetworkFilesystem(dataDir: string): void {
  let type: number | bigint;
  try {
    type = statfsSync(dataDir).type;
  } catch {
    return; // statfs is not available everywhere; WAL mode is still checked below.
  }
  if (isNetworkFilesystemType(type)) {
    throw new CausewayError(
      "STORE_UNSUITABLE_FILESYSTEM",
      `${dataDir} is on a network file system (statfs type 0x${type.toString(16)}); SQLite's WAL needs a local disk`,
    );
  }
}

/** SQLite runs DDL in transactions; Kysely's adapter says it does not, which would leave a
 * migration half-applied after a crash. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class StoreSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

interface TxScope {
  open: boolean;
}

/**
 * The Store on one better-sqlite3 connection. Every use of the connection (a whole transaction,
 * or one `read` call) goes through one queue, so transactions never interleave and a read never
 * sees another flow's uncommitted writes. Transactions are BEGIN IMMEDIATE ... COMMIT; a throw
 * rolls back, and so does a failed COMMIT (a full disk: SQLITE_FULL). What SQLite refuses leaves
 * as a catalog error naming the database (`DISK_FULL`, `STORE_IO_ERROR`); once space is back the
 * next transaction works, on the same connection.
 */
class SqliteStore implements Store {
  readonly read: StoreTx;
  readonly tokens: TokenStore;
  readonly runners: RunnerStore;
  readonly #sqlite: BetterSqlite3.Database;
  readonly #db: Kysely<CausewayDatabase>;
  readonly #repo: SqliteRepo;
  readonly #lock: DataDirLock;
  readonly #logs: FileLogStore;
  readonly #queue = new SerialQueue();
  /** A transaction's StoreTx: the repo's methods while the transaction is open. */
  readonly #txView: (scope: TxScope) => StoreTx;
  // Which transaction (if any) the current async flow is in: a nested call would wait for
  // itself forever, so it fails fast instead.
  readonly #scope: AsyncLocalStorage<TxScope> | undefined;
  readonly #begin: BetterSqlite3.Statement;
  readonly #commit: BetterSqlite3.Statement;
  readonly #rollback: BetterSqlite3.Statement;
  readonly #path: string;
  #closing: Promise<void> | undefined;

  constructor(
    sqlite: BetterSqlite3.Database,
    db: Kysely<CausewayDatabase>,
    config: CompiledSqliteStoreOptions,
    lock: DataDirLock,
    logs: FileLogStore,
    keys: SecretKeyRing,
  ) {
    this.#scope = config.detectNestedCalls ? new AsyncLocalStorage<TxScope>() : undefined;
    this.#sqlite = sqlite;
    this.#db = db;
    this.#lock = lock;
    this.#logs = logs;
    this.#path = join(config.dataDir, DATABASE_FILE);
    this.#repo = new SqliteRepo(db, sqlite, config.clock, keys);
    this.#begin = sqlite.prepare("BEGIN IMMEDIATE");
    this.#commit = sqlite.prepare("COMMIT");
    this.#rollback = sqlite.prepare("ROLLBACK");
    this.read = wrapStoreTx(this.#repo, (call) => this.#enqueue("store.read", call));
    this.#txView = scopedStoreTx(this.#repo, () =>
      Promise.reject(new CausewayError("STORE_TX_FINISHED", "this transaction has ended")),
    );
    this.tokens = this.#tokenStore(new TokensRepo(db));
    this.runners = this.#runnerStore(new RunnersRepo(db));
  }

  #runnerStore(repo: RunnersRepo): RunnerStore {
    const q = <T>(what: string, call: () => Promise<T>): Promise<T> => this.#enqueue(`runners.${what}`, call);
    return {
      createRegistration: (registration, audit) =>
        this.transaction(async (tx) => ({
          registration: await repo.insertRegistration(registration),
          audit: await tx.insertAudit(audit),
        })),
      register: (hash, runner) =>
        this.transaction(async (tx) => {
          const made = await repo.register(hash, runner);
          await tx.insertAudit({
            actor: `runner:${made.name}`,
            action: "runner-register",
            subject: `runner:${made.name}`,
            detail: { pool: made.pool, labels: made.labels, capacity: made.capacity },
          });
          return made;
        }),
      runnerByCredential: (hash) => q("runnerByCredential", () => repo.byCredential(hash)),
      listRunners: () => q("listRunners", () => repo.list()),
      setRunnerState: (name, state, audit) =>
        this.transaction(async (tx) => {
          const runner = await repo.setState(name, state);
          await tx.insertAudit(audit);
          return runner;
        }),
      startSession: (runnerId, session, capacity, labels, at) =>
        q("startSession", () => repo.startSession(runnerId, session, capacity, labels, at)),
      touchRunner: (runnerId, at) => q("touchRunner", () => repo.touch(runnerId, at)),
      claimLease: (runId, runnerId, tokenHash, at) =>
        q("claimLease", () => repo.claimLease(runId, runnerId, tokenHash, at)),
      recordLogOffset: (runId, offset, length) =>
        q("recordLogOffset", () => repo.recordLogOffset(runId, offset, length)),
      deleteLeases: (runIds) => q("deleteLeases", () => repo.deleteLeases(runIds)),
      deleteStaleLeases: () => q("deleteStaleLeases", () => repo.deleteStaleLeases()),
      listLeases: () => q("listLeases", () => repo.listLeases()),
    };
  }

  // The token store shares the queue and the transactions, so a token's change and its audit
  // entry commit together and never interleave with the engine's writes.
  #tokenStore(repo: TokensRepo): TokenStore {
    const withAudit = (change: () => Promise<ApiToken>, entry: NewAuditEvent) =>
      this.transaction(async (tx): Promise<{ token: ApiToken; audit: AuditEvent }> => {
        const token = await change();
        return { token, audit: await tx.insertAudit(entry) };
      });
    return {
      createToken: (token: NewApiToken, audit: NewAuditEvent) => withAudit(() => repo.insert(token), audit),
      revokeToken: (name: string, at: string, audit: NewAuditEvent) => withAudit(() => repo.revoke(name, at), audit),
      tokenByHash: (hash: string) => this.#enqueue("tokens.tokenByHash", () => repo.byHash(hash)),
      listTokens: () => this.#enqueue("tokens.listTokens", () => repo.list()),
      touchToken: (id: number, at: string) => this.#enqueue("tokens.touchToken", () => repo.touch(id, at)),
    };
  }

  /** The ids of the keys the stored secrets were sealed with (read once, at open). */
  secretKeyIds(): Promise<Set<string>> {
    return this.#repo.secretKeyIds();
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.#enqueue("store.transaction", async () => {
      const scope: TxScope = { open: true };
      const tx = this.#txView(scope);
      this.#begin.run();
      try {
        const result = await (this.#scope === undefined ? fn(tx) : this.#scope.run(scope, () => fn(tx)));
        this.#commit.run();
        return result;
      } catch (error) {
        if (this.#sqlite.inTransaction) {
          try {
            this.#rollback.run();
          } catch {
            // The caller's error is the one to report; SQLite has rolled back on its own when a
            // ROLLBACK fails.
          }
        }
        throw error;
      } finally {
        scope.open = false;
      }
    });
  }

  eventsSince(afterId: number, limit?: number): Promise<EngineEvent[]> {
    return this.#enqueue("store.eventsSince", () => this.#repo.eventsSince(afterId, limit));
  }

  close(): Promise<void> {
    if (this.#scope?.getStore()?.open === true) {
      return Promise.reject(new CausewayError("STORE_NESTED_TRANSACTION", "store.close() inside a transaction"));
    }
    this.#closing ??= (async () => {
      try {
        await this.#queue.drain();
        await this.#logs.flush();
        // Refreshes the planner's statistics where they went stale (SQLite's advice at close);
        // on a full disk it cannot, and the connection must close all the same.
        try {
          this.#sqlite.pragma("optimize");
        } catch {
          // Statistics are an optimisation: nothing is lost without them.
        }
        await this.#db.destroy();
      } finally {
        this.#lock.release();
      }
    })();
    return this.#closing;
  }

  #enqueue<T>(what: string, task: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(new CausewayError("STORE_CLOSED", `${what} after close()`));
    if (this.#scope?.getStore()?.open === true) {
      return Promise.reject(
        new CausewayError("STORE_NESTED_TRANSACTION", `${what} inside a transaction: use the transaction's tx instead`),
      );
    }
    return this.#queue.run(task).catch((error: unknown) => {
      throw sqliteError(error, this.#path);
    });
  }
}
