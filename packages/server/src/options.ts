import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CausewayError, isCausewayError } from "@causeway/core";
import { z } from "zod";
import { createLogger, LOG_FORMATS, type LogFormat, type Logger } from "./logger.js";

/** The web UI that `npm run build` makes in the checkout: packages/web/dist, beside this package. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL("../../web/dist", import.meta.url));

/** How many event and log streams a server holds open at once, by default. */
export const DEFAULT_MAX_STREAMS = 200;

/** The default port of the server. */
export const DEFAULT_PORT = 4810;
/** The default bind address: the embedded server is local unless asked otherwise (design §6). */
export const DEFAULT_HOST = "127.0.0.1";

const isLogger = (value: unknown): value is Logger =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Logger).info === "function" &&
  typeof (value as Logger).warn === "function" &&
  typeof (value as Logger).error === "function";

const ServerOptionsSchema = z.strictObject({
  /** The pipeline directory applied at start and re-applied when its files change. */
  dir: z.string().min(1).optional(),
  /**
   * Instead of `dir`: the sources of a line (directories, git URLs `URL#branch`, projects: a
   * `causeway.project.yml` or a directory holding one), applied as one line; directories are
   * watched, git repositories cloned into `<data>/sources` and polled.
   */
  sources: z.array(z.string().min(1)).min(1).max(100).optional(),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(DEFAULT_PORT),
  host: z.string().min(1).default(DEFAULT_HOST),
  /** Default `<cwd>/.causeway`. */
  dataDir: z.string().min(1).optional(),
  /**
   * Where the embedded runner makes run workspaces. Default: a new directory on /dev/shm
   * (tmpfs) when it is writable, else `<dataDir>/workspaces` (see work-dir.ts). Workspaces are
   * scratch space, deleted after each run; on tmpfs their dozens of metadata operations per run
   * cost microseconds instead of up to a millisecond each on a busy disk.
   */
  workDir: z.string().min(1).optional(),
  /**
   * The key of the integration store: a key file (relative to `cwd`; created on first start
   * when missing) or the key itself in base64 (`CAUSEWAY_SECRET_KEY`). Default:
   * `<dataDir>/secret.key`.
   */
  secretKeyFile: z.string().min(1).optional(),
  secretKey: z.string().min(1).optional(),
  /** The built web UI served at `/` (relative to `cwd`); default: `packages/web/dist` beside the server. */
  webDir: z.string().min(1).optional(),
  /** Base of relative paths (default: the process's working directory). */
  cwd: z.string().min(1).optional(),
  /** Runs executed at once by the embedded runner (engine default 2). */
  slots: z.number().int().min(1).max(1024).optional(),
  /** Whether tasks run in a bubblewrap sandbox (runner/src/sandbox.ts): auto, off, required. */
  sandbox: z.enum(["auto", "off", "required"]).default("auto"),
  /** How often local gitRepo resources are polled for new commits. */
  pollIntervalMs: z.number().int().min(10).default(2000),
  /** How often remote gitRepo resources are polled (`git ls-remote`) while they change. */
  remotePollMs: z.number().int().min(10).default(30_000),
  /** The longest time between two polls of an idle remote gitRepo (the time doubles up to it). */
  remotePollMaxMs: z.number().int().min(10).default(600_000),
  /** Re-apply `dir` when its files change. */
  watch: z.boolean().default(true),
  /**
   * Anonymous readers may GET the jobs with `allowPublicAccess: true`, and their runs and logs
   * (a public dashboard); everything else still needs a token.
   */
  publicAccess: z.boolean().default(false),
  /**
   * Revoke the token named `admin` and write a new one to `<data>/server.json`: for a lost
   * server.json (the secret is stored nowhere else).
   */
  newAdminToken: z.boolean().default(false),
  watchDebounceMs: z.number().int().min(0).max(60_000).default(200),
  /**
   * When a change refuses a file or removes an object, the wait before reading the directory
   * again to check that the files settled (a file half written must not remove anything).
   */
  watchSettleMs: z.number().int().min(0).max(60_000).default(300),
  /** The base environment of jobs (and of git); default: a PATH only. */
  env: z.record(z.string(), z.string()).optional(),
  /** SSE heartbeat period. */
  heartbeatMs: z.number().int().min(10).default(15_000),
  /** Event and log streams (SSE) held open at once; one more answers TOO_MANY_STREAMS. */
  maxStreams: z.number().int().min(1).max(100_000).default(DEFAULT_MAX_STREAMS),
  /** How long one notification delivery may take (an HTTP request, an SMTP session). */
  notifyTimeoutMs: z.number().int().min(1).max(600_000).default(10_000),
  /** Notification deliveries in flight at once. */
  notifyConcurrency: z.number().int().min(1).max(256).default(4),
  /** The wait after a delivery's first failed attempt; it doubles after each one. */
  notifyRetryMs: z.number().int().min(1).default(1000),
  /** The longest wait between two attempts of a delivery. */
  notifyRetryMaxMs: z.number().int().min(1).default(300_000),
  /** Attempts of a delivery before it is `failed`. */
  notifyMaxAttempts: z.number().int().min(1).max(1000).default(10),
  /** Directories sandboxed tasks may read and write (`--sandbox-share`). */
  sandboxShare: z.array(z.string().min(1)).default([]),
  /** Whether the server runs jobs itself (the embedded runner, pool `default`); false: remote runners only. */
  embeddedRunner: z.boolean().default(true),
  /** The runner protocol's intervals (design §5): heartbeat, lease, long-poll hold, start ack. */
  runnerHeartbeatMs: z.number().int().min(10).default(5_000),
  runnerLeaseMs: z.number().int().min(30).default(20_000),
  runnerClaimHoldMs: z.number().int().min(10).default(30_000),
  runnerStartTimeoutMs: z.number().int().min(10).default(30_000),
  /** Time between SIGTERM and SIGKILL when a run is cancelled (runner default 10 s). */
  cancelGraceMs: z.number().int().min(0).optional(),
  /** `text`: one readable line per event; `json`: one JSON object per line (pino). */
  logFormat: z
    .string()
    .pipe(z.enum(LOG_FORMATS, { error: (i) => `must be "text" or "json", got ${JSON.stringify(i.input)}` }))
    .default("text"),
  /** Colours in the text format (the composition root: when stdout is a terminal). */
  color: z.boolean().default(false),
  /** Where the server logs; default: a logger of `logFormat` on stdout and stderr. */
  logger: z.custom<Logger>(isLogger, "must be a Logger ({info, warn, error})").optional(),
});

/** Options of `startServer`. */
export type ServerOptions = z.input<typeof ServerOptionsSchema>;

/** Server options with defaults applied, paths absolute; frozen. */
export interface CompiledServerOptions {
  readonly dir: string | undefined;
  /** The sources as given (paths relative to `cwd`, URLs), when the line has them instead of `dir`. */
  readonly sources: readonly string[] | undefined;
  /** The base of relative paths. */
  readonly cwd: string;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** The work directory the caller chose; undefined: the default (see work-dir.ts). */
  readonly workDir: string | undefined;
  /** Where the secret key comes from (see SqliteStoreOptions.secretKey). */
  readonly secretKey: { readonly file: string } | { readonly text: string; readonly name: string };
  readonly slots: number | undefined;
  /** The built web UI (it may be missing: `/` then says how to build it). */
  readonly webDir: string;
  readonly sandbox: "auto" | "off" | "required";
  readonly pollIntervalMs: number;
  readonly remotePollMs: number;
  readonly remotePollMaxMs: number;
  readonly watch: boolean;
  readonly publicAccess: boolean;
  readonly newAdminToken: boolean;
  readonly watchDebounceMs: number;
  readonly watchSettleMs: number;
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly heartbeatMs: number;
  readonly maxStreams: number;
  readonly cancelGraceMs: number | undefined;
  readonly embeddedRunner: boolean;
  readonly sandboxShare: readonly string[];
  /** The runner protocol's intervals. */
  readonly runners: {
    readonly heartbeatMs: number;
    readonly leaseMs: number;
    readonly claimHoldMs: number;
    readonly startTimeoutMs: number;
  };
  /** The notification outbox: per-delivery timeout, concurrency and retry policy. */
  readonly notify: {
    readonly timeoutMs: number;
    readonly concurrency: number;
    readonly retry: { readonly firstDelayMs: number; readonly maxDelayMs: number; readonly maxAttempts: number };
  };
  readonly logFormat: LogFormat;
  readonly logger: Logger;
}

/**
 * The error for options that cannot be used: `SERVER_BAD_OPTIONS`, every problem in its message
 * and in `details.problems` (`option: what is wrong`).
 */
export function badServerOptions(problems: readonly string[]): CausewayError {
  return new CausewayError("SERVER_BAD_OPTIONS", `invalid server options:\n- ${problems.join("\n- ")}`, {
    details: { problems: [...problems] },
  });
}

/** The problems of a `SERVER_BAD_OPTIONS` error, or undefined for any other error. */
export function optionProblems(error: unknown): readonly string[] | undefined {
  if (!isCausewayError(error, "SERVER_BAD_OPTIONS")) return undefined;
  const details = error.details as { problems?: unknown } | undefined;
  return Array.isArray(details?.problems) ? (details.problems as string[]) : [error.message];
}

/** Applies defaults and checks the options, listing every problem at once (`SERVER_BAD_OPTIONS`); returns a frozen copy. */
export function compileServerOptions(options: ServerOptions = {}): CompiledServerOptions {
  const parsed = ServerOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw badServerOptions(
      parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(options)"}: ${i.message}`),
    );
  }
  const o = parsed.data;
  if (o.dir !== undefined && o.sources !== undefined)
    throw badServerOptions(["sources: give the line's sources or its directory, not both"]);
  if (o.secretKey !== undefined && o.secretKeyFile !== undefined)
    throw badServerOptions(["secretKey: give the secret key or its file, not both"]);
  const cwd = resolve(o.cwd ?? ".");
  return Object.freeze({
    dir: o.dir === undefined ? undefined : resolve(cwd, o.dir),
    sources: o.sources === undefined ? undefined : Object.freeze([...o.sources]),
    cwd,
    port: o.port,
    host: o.host,
    dataDir: resolve(cwd, o.dataDir ?? ".causeway"),
    workDir: o.workDir === undefined ? undefined : resolve(cwd, o.workDir),
    secretKey:
      o.secretKey !== undefined
        ? { text: o.secretKey, name: "CAUSEWAY_SECRET_KEY" }
        : { file: resolve(cwd, o.secretKeyFile ?? join(o.dataDir ?? ".causeway", "secret.key")) },
    slots: o.slots,
    webDir: o.webDir === undefined ? DEFAULT_WEB_DIR : resolve(cwd, o.webDir),
    sandbox: o.sandbox,
    pollIntervalMs: o.pollIntervalMs,
    remotePollMs: o.remotePollMs,
    remotePollMaxMs: Math.max(o.remotePollMs, o.remotePollMaxMs),
    watch: o.watch,
    publicAccess: o.publicAccess,
    newAdminToken: o.newAdminToken,
    watchDebounceMs: o.watchDebounceMs,
    watchSettleMs: o.watchSettleMs,
    env: o.env === undefined ? undefined : Object.freeze({ ...o.env }),
    heartbeatMs: o.heartbeatMs,
    maxStreams: o.maxStreams,
    cancelGraceMs: o.cancelGraceMs,
    embeddedRunner: o.embeddedRunner,
    sandboxShare: o.sandboxShare,
    runners: Object.freeze({
      heartbeatMs: o.runnerHeartbeatMs,
      leaseMs: Math.max(o.runnerLeaseMs, 2 * o.runnerHeartbeatMs),
      claimHoldMs: o.runnerClaimHoldMs,
      startTimeoutMs: o.runnerStartTimeoutMs,
    }),
    notify: Object.freeze({
      timeoutMs: o.notifyTimeoutMs,
      concurrency: o.notifyConcurrency,
      retry: Object.freeze({
        firstDelayMs: o.notifyRetryMs,
        maxDelayMs: Math.max(o.notifyRetryMs, o.notifyRetryMaxMs),
        maxAttempts: o.notifyMaxAttempts,
      }),
    }),
    logFormat: o.logFormat,
    logger: o.logger ?? createLogger({ format: o.logFormat, color: o.color }),
  });
}
