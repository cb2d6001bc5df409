import { readFileSync, statSync } from "node:fs";
import { rename, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { join, resolve } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { CausewayError } from "@causeway/core";
import { Engine } from "@causeway/engine";
import { ServerInfoSchema, type ServerInfo } from "@causeway/protocol";
import {
  createEmbeddedRunner,
  DEFAULT_CANCEL_GRACE_MS,
  DEFAULT_PATH,
  endOrphanedTasks,
  prepareWorkDir,
  sandboxNotice,
} from "@causeway/runner";
import { adminSecret } from "./admin-token.js";
import { fileError, openSqliteStore, type SecretKeySource, type SqliteStores } from "@causeway/store";
import { API_PREFIX, buildApp } from "./app.js";
import { TokenAuth } from "./auth.js";
import { GROUPS_FILE } from "./identity.js";
import { fileIntegrations, integrationSecrets, INTEGRATIONS_DIR, storeIntegrations } from "./integrations.js";
import { lineRunner } from "./line-runner.js";
import { RunnerHub } from "./runners/hub.js";
import { startEmbeddedAgent } from "./runners/in-process.js";
import { resolveServerLine } from "./line-sources.js";
import { logFeed } from "./log-feed.js";
import { createOutboxWorker } from "./notify/outbox-worker.js";
import { badServerOptions, compileServerOptions, type ServerOptions } from "./options.js";
import { startRunReporter } from "./run-reporter.js";
import { localGitSource } from "./sources/local-git-source.js";
import { remoteGitSource } from "./sources/remote-git-source.js";
import { timeSource } from "./sources/time-source.js";
import { startVersionSources } from "./sources/version-sources.js";
import type { Logger } from "./logger.js";

/** The discovery file of a running server, inside its data directory. */
export const SERVER_INFO_FILE = "server.json";
/** The bare copies of polled remote repositories, inside the data directory. */
export const GIT_CACHE_DIR = "git-cache";
/** The record of the server's live task workers, inside its data directory (runner). */
export const WORKER_RECORD_FILE = "task-workers.json";

/** A running server. `stop` is idempotent. */
export interface RunningServer {
  /** The base URL (`http://127.0.0.1:4810`); routes are under `/api/v1`. */
  readonly url: string;
  /** The admin token's secret, as in `<data>/server.json`. */
  readonly token: string;
  readonly dataDir: string;
  /** Where the workspaces of runs are (see work-dir.ts). */
  readonly workDir: string;
  readonly engine: Engine;
  stop(): Promise<void>;
}

/** The version of this package. */
export const SERVER_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/**
 * Starts the whole system on the embedded store (design §5, `causeway up`): binds the port
 * first, so that a port in use fails before anything is written; then takes the data directory
 * (refusing with DATA_DIR_LOCKED while another server holds it), opens SQLite, builds the
 * embedded runner and the engine, recovers from a crash (runs that were processing are marked
 * lost), applies the pipeline directory and keeps it applied as its files change, reports run
 * events on the logger, runs the version sources (git polls, cron ticks), and serves the API. Requests that arrive
 * before crash recovery and the first apply are done wait for them. Writes `<data>/server.json`
 * `{url, token, pid}` (mode 0600) for the CLI, with the admin token (admin-token.ts), and keeps
 * it after a stop (the secret is stored nowhere else); `stop` undoes the rest in reverse order.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const opts = compileServerOptions(options);
  const { logger } = opts;
  if (opts.dir !== undefined) await checkDirectory(opts.dir);
  // The sources of the line, checked before anything is written: a directory that does not
  // exist or a bad project file fails the start.
  // A directory holding a causeway.project.yml stands for the sources it lists.
  const args = opts.sources ?? (opts.dir === undefined ? undefined : [opts.dir]);
  const line = args === undefined ? undefined : await resolveServerLine(args, opts.dataDir, opts.cwd);

  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        logger.error("error while stopping", error);
      }
    }
  };
  const gate = new ReadyGate();
  const http = await listen(gate.fetch, opts.port, opts.host);
  let closing: Promise<void> | undefined;
  const stopServing = (): Promise<void> => (closing ??= closeHttp(http));
  cleanups.push(() => {
    gate.fail();
    return stopServing();
  });
  const url = baseUrl(http, opts.host);
  try {
    const stores = await openStores(opts.dataDir, opts.secretKey);
    cleanups.push(() => stores.store.close());
    warnIfShared(stores.dataDir, logger);
    // The admin token first: a start that cannot have one fails before anything runs.
    const auth = new TokenAuth(stores.tokens, { logger });
    const infoPath = join(stores.dataDir, SERVER_INFO_FILE);
    const token = await adminSecret(auth, infoPath, { renew: opts.newAdminToken, logger });
    const logs = logFeed(stores.logs);
    // Tasks of a previous process of this data directory that was killed: gone before their
    // runs are retried (engine.start) and their workspaces removed.
    const workerRecord = join(stores.dataDir, WORKER_RECORD_FILE);
    await endPreviousTasks(workerRecord, opts.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS, logger);
    // Workspaces left by a previous process of this data directory (killed while runs were
    // processing) belong to no run any more: the lock makes this server their only owner.
    const workDir = prepareWorkDir({
      dataDir: stores.dataDir,
      workDir: opts.workDir,
      onLeftAlone: (path, why) =>
        logger.warn(`${path} was left alone: ${why}; remove it if you do not know where it came from`, {
          event: "work-dir",
          path,
        }),
    });
    // Secrets of integrations (webhook keys, git credentials, what jobs use), read at each use:
    // the encrypted store first, then the legacy files of <data>/integrations.
    const integrations = storeIntegrations(stores.store, fileIntegrations(join(stores.dataDir, INTEGRATIONS_DIR)));
    const runner = createEmbeddedRunner({
      workDir,
      integrations: (name) => integrations.get(name),
      blobs: stores.blobs,
      workerRecord,
      sandbox: opts.sandbox,
      sandboxHidden: [stores.dataDir],
      sandboxShared: opts.sandboxShare.map((dir) => resolve(opts.cwd ?? process.cwd(), dir)),
      ...(opts.env === undefined ? {} : { env: opts.env }),
      ...(opts.cancelGraceMs === undefined ? {} : { cancelGraceMs: opts.cancelGraceMs }),
    });
    // One plain line: whether tasks are isolated from the data directory (docs/semantics.md); a
    // warning when a sandbox was asked for and could not be made, information otherwise.
    const sandboxed = runner.sandbox.kind === "bwrap";
    const fellBack = !sandboxed && opts.sandbox !== "off";
    logger[fellBack ? "warn" : "info"](sandboxNotice(runner.sandbox), { event: "sandbox", sandboxed });
    cleanups.push(async () => {
      // Wait for the workspace deletes, end the launcher, and leave no empty work directory
      // behind (on tmpfs it would outlive the data directory).
      await runner.idle();
      runner.close();
      await rmdir(workDir).catch(() => undefined);
    });
    // The notification outbox: woken by the engine after a commit that enqueued deliveries,
    // started once crash recovery has run (it then sends what earlier servers left pending).
    const outbox = createOutboxWorker({
      store: stores.store,
      logs,
      integrations,
      logger,
      timeoutMs: opts.notify.timeoutMs,
      concurrency: opts.notify.concurrency,
      retry: opts.notify.retry,
    });
    // The runners: the embedded one for the default pool, remote ones over the runner protocol.
    const hub = new RunnerHub({
      store: stores.runners,
      settings: opts.runners,
      onLost: (runId, name, reason) =>
        logger.warn(`run ${runId} lost on runner ${name}: ${reason}`, { event: "run-lost", runId, runner: name }),
    });
    await hub.load();
    cleanups.push(() => hub.stop());
    // The embedded runner is a runner of the hub like a remote one, on the in-process transport.
    const embedded = opts.embeddedRunner
      ? await startEmbeddedAgent({ hub, runner, slots: opts.slots ?? 2, blobs: stores.blobs, integrations })
      : undefined;
    // After the engine's stop (cleanups run in reverse): its runs are over by then.
    if (embedded !== undefined) cleanups.push(() => embedded.stop());
    const engine = new Engine({
      store: stores.store,
      blobs: stores.blobs,
      logs,
      runner: hub,
      options: {
        ...(opts.slots === undefined ? {} : { slots: opts.slots }),
        buildUrl: (id) => `${url}${API_PREFIX}/runs/${id}`,
        onOutbox: () => outbox.wake(),
        secrets: integrationSecrets(integrations),
      },
    });
    // Subscribed before crash recovery, so runs marked lost are reported too; stopped after
    // the engine (cleanups run in reverse), so runs cancelled by the stop are reported too.
    const reporter = startRunReporter({
      engine,
      logs,
      getRun: (id) => stores.store.read.getRun(id),
      logger,
    });
    cleanups.push(() => reporter.stop());
    await engine.start();
    cleanups.push(() => engine.stop());
    // Stopped before the engine: deliveries the stop itself enqueues (runs cancelled) wait in the
    // store for the next start.
    outbox.start();
    cleanups.push(() => outbox.stop());

    const lines =
      line === undefined || args === undefined
        ? undefined
        : lineRunner(line, {
            engine,
            logger,
            args,
            dataDir: opts.dataDir,
            cwd: opts.cwd,
            env: opts.env ?? { PATH: DEFAULT_PATH },
            settleMs: opts.watchSettleMs,
            debounceMs: opts.watchDebounceMs,
            pollIntervalMs: opts.pollIntervalMs,
          });
    if (lines !== undefined) cleanups.push(() => lines.stop());
    await lines?.start();

    const shutdown = new AbortController();
    const app = buildApp({
      engine,
      store: stores.store,
      logs,
      blobs: stores.blobs,
      auth,
      publicAccess: opts.publicAccess,
      integrations,
      secretKeys: stores.secretKeys,
      webDir: opts.webDir,
      outbox,
      groupsFile: join(stores.dataDir, GROUPS_FILE),
      version: SERVER_VERSION,
      logger,
      signal: shutdown.signal,
      heartbeatMs: opts.heartbeatMs,
      maxStreams: opts.maxStreams,
      runners: { hub, store: stores.runners },
    });
    // On stop, requests end before the engine and the store do.
    cleanups.push(stopServing);
    // Run before stopServing (cleanups run in reverse): ends the SSE streams that would hold it.
    cleanups.push(() => shutdown.abort());
    gate.open(app.fetch);

    // Kept after a stop: it holds the admin token's secret, which the next start uses again.
    await writeServerInfo(infoPath, { url, token, pid: process.pid }).catch((error: unknown) => {
      throw fileError(error, infoPath);
    });

    if (opts.watch) lines?.follow();
    const gitEnv = opts.env ?? { PATH: DEFAULT_PATH };
    const sources = startVersionSources({
      engine,
      sources: [
        localGitSource({ intervalMs: opts.pollIntervalMs, env: gitEnv }),
        remoteGitSource({
          intervalMs: opts.remotePollMs,
          maxIntervalMs: opts.remotePollMaxMs,
          env: gitEnv,
          cacheDir: join(stores.dataDir, GIT_CACHE_DIR),
          integrations,
        }),
        timeSource(),
      ],
      logger,
    });
    cleanups.push(() => sources.stop());

    let stopping: Promise<void> | undefined;
    return {
      url,
      token,
      dataDir: stores.dataDir,
      workDir,
      engine,
      stop: () => (stopping ??= cleanup()),
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

// `env` carries the node request (its socket: the webhook endpoints record the sender's address).
type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>;

/**
 * The handler of the HTTP server while the system starts: the port is bound first, and a
 * request that arrives before the app is ready waits for it (nothing is served before crash
 * recovery has run). When the start fails, waiting requests get 503 and the connection closes.
 */
class ReadyGate {
  #ready: Fetch | undefined;
  readonly #waiting = new Set<(handler: Fetch) => void>();

  readonly fetch: Fetch = (request, env) => {
    if (this.#ready !== undefined) return this.#ready(request, env);
    return new Promise<Fetch>((resolve) => this.#waiting.add(resolve)).then((handler) => handler(request, env));
  };

  open(handler: Fetch): void {
    this.#ready = handler;
    for (const resume of this.#waiting) resume(handler);
    this.#waiting.clear();
  }

  fail(): void {
    if (this.#ready === undefined)
      this.open(() => new Response(null, { status: 503, headers: { connection: "close" } }));
  }
}

async function checkDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined) throw badServerOptions([`dir: the pipeline directory ${dir} does not exist`]);
  if (!info.isDirectory()) throw badServerOptions([`dir: ${dir} is not a directory`]);
}

async function openStores(dataDir: string, secretKey: SecretKeySource): Promise<SqliteStores> {
  // No nesting detection: the engine never calls the store from inside a transaction, and
  // the detection slows every promise of the process (AsyncLocalStorage on Node 20).
  return openSqliteStore({ dataDir, detectNestedCalls: false, secretKey });
}

function listen(fetch: Fetch, port: number, host: string): Promise<Server> {
  const server = createAdaptorServer({ fetch, hostname: host }) as Server;
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.close();
      const reason = LISTEN_ERRORS[error.code ?? ""];
      const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
      reject(
        reason === undefined
          ? error
          : new CausewayError("CANNOT_LISTEN", `cannot listen on ${where}: ${reason}`, { cause: error }),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve(server);
    });
  });
}

// The reasons a bind fails that the operator can fix, as the message says them.
const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: "the port is in use (another Causeway? use --port N or stop it)",
  EADDRNOTAVAIL: "no such address on this machine (use --host with one of its addresses)",
  ENOTFOUND: "no such host name (use --host with an address of this machine)",
  EACCES: "permission denied (ports below 1024 need privileges: use --port N)",
};

function baseUrl(server: Server, host: string): string {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  // A wildcard bind is reached locally through the loopback address.
  const reach = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reach.includes(":") ? `[${reach}]` : reach}:${port}`;
}

function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // SSE streams were ended by the shutdown signal; idle keep-alive sockets would hold close().
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 1000).unref();
  });
}

async function writeServerInfo(path: string, info: ServerInfo): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  // Created here (a file left by a killed process of the same pid goes first), so that the
  // mode applies: it holds the admin token.
  await unlink(temp).catch(() => undefined);
  await writeFile(temp, `${JSON.stringify(ServerInfoSchema.parse(info), null, 2)}\n`, { mode: 0o600, flag: "wx" });
  await rename(temp, path);
}

/**
 * Warns when other users of the machine may read the data directory: it holds the database
 * (with the runs' parameters), the logs and the admin token. A directory the server created is
 * owner-only; one made before, or by hand, may not be.
 */
function warnIfShared(dataDir: string, logger: Logger): void {
  const mode = statSync(dataDir).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  logger.warn(
    `the data directory ${dataDir} is open to other users of this machine (mode ${mode.toString(8).padStart(4, "0")}): ` +
      `it holds the database, the run logs and the API token; make it private with: chmod 700 ${shellWord(dataDir)}`,
    { event: "data-dir-mode", path: dataDir, mode: `0${mode.toString(8)}` },
  );
}

/** A path as one word of a shell command (quoted only when it needs to be). */
function shellWord(path: string): string {
  return /^[A-Za-z0-9_./,:@%+=-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/**
 * Ends the processes that a killed previous server's task workers still run (they end them
 * themselves once the server is gone, after their grace; a worker that was itself killed, or a
 * start within the grace, needs this), and waits until they are gone.
 */
async function endPreviousTasks(record: string, graceMs: number, logger: Logger): Promise<void> {
  const report = await endOrphanedTasks(record, {
    graceMs,
    onFound: (pids) =>
      logger.warn(
        `${pids.length === 1 ? "1 process" : `${pids.length} processes`} left by the previous server (task workers and their tasks) still running: ending them before any run is retried (SIGTERM, SIGKILL after ${graceMs / 1000} s)`,
        { event: "orphans", pids: pids.join(" ") },
      ),
  });
  if (report.remaining.length > 0) {
    logger.warn(
      `processes left by the previous server still there after SIGKILL (they run nothing more): ${report.remaining.join(" ")}`,
      {
        event: "orphans",
        pids: report.remaining.join(" "),
      },
    );
  }
}
