#!/usr/bin/env node
import { parseArgs } from "node:util";
import { isGitUrl, PROJECT_FILE_NAME, usageError } from "@causeway/core";
import { passthroughEnv } from "@causeway/runner";
import { createLogger, errorText, isExpectedError, type Logger } from "./logger.js";
import {
  compileServerOptions,
  DEFAULT_HOST,
  DEFAULT_MAX_STREAMS,
  DEFAULT_PORT,
  optionProblems,
  type CompiledServerOptions,
  type ServerOptions,
} from "./options.js";
import { startServer, type RunningServer } from "./server.js";

// The composition root of the server process: the only module that reads process.env and argv.

const USAGE = `usage: causeway-server [DIR|URL…] [--port N] [--host H] [--data DIR] [--slots N] [--no-watch] [--log-format F] [--max-streams N]
                       [--remote-poll S] [--remote-poll-max S] [--public] [--new-admin-token]
                       [--sandbox M] [--notify-concurrency N] [--notify-timeout S] [--notify-attempts N]
                       [--notify-retry S] [--notify-retry-max S] [--sandbox-share DIR] [--web-dir DIR] [--no-embedded-runner]
                       [--runner-heartbeat S] [--runner-lease S] [--runner-claim-hold S] [--runner-start-timeout S]

  DIR|URL…        the line: pipeline directories to apply and watch, git URLs (URL#branch)
                  to clone and poll, or projects (a causeway.project.yml, or a directory
                  with one) listing them (default: the current directory)
  --port N        port to listen on (default ${DEFAULT_PORT}, 0 picks a free one; env CAUSEWAY_PORT)
  --host H        address to bind (default ${DEFAULT_HOST}; env CAUSEWAY_HOST)
  --data DIR      data directory (default ./.causeway; env CAUSEWAY_DATA)
  --slots N       runs executed at once (default 2; env CAUSEWAY_SLOTS)
  --max-streams N event and log streams held open at once (default ${DEFAULT_MAX_STREAMS}; env CAUSEWAY_MAX_STREAMS)
  --remote-poll S seconds between polls of a remote gitRepo after a change (default 30; env CAUSEWAY_REMOTE_POLL)
  --remote-poll-max S
                  the longest time between polls of an idle remote gitRepo (default 600; env CAUSEWAY_REMOTE_POLL_MAX)
  --secret-key-file F
                  the key file of the integration store (default <data>/secret.key, created
                  on first start; env CAUSEWAY_SECRET_KEY_FILE); CAUSEWAY_SECRET_KEY gives
                  the key itself (base64 of 32 bytes) instead
  --sandbox M     auto (default): run tasks in a bubblewrap sandbox (one per slot) when bwrap
                  works here, else without one (said on the log); off: never; required: refuse to
                  start without one (env CAUSEWAY_SANDBOX)
  --notify-concurrency N
                  notification deliveries sent at once (default 4; env CAUSEWAY_NOTIFY_CONCURRENCY)
  --notify-timeout S
                  seconds one delivery may take (default 10; env CAUSEWAY_NOTIFY_TIMEOUT)
  --notify-attempts N
                  attempts of a delivery before it is failed (default 10; env CAUSEWAY_NOTIFY_ATTEMPTS)
  --notify-retry S
                  seconds before the second attempt, doubling after each (default 1; env CAUSEWAY_NOTIFY_RETRY)
  --notify-retry-max S
                  the longest wait between two attempts (default 300; env CAUSEWAY_NOTIFY_RETRY_MAX)
  --web-dir DIR   the built web UI served at / (default: packages/web/dist beside the server;
                  env CAUSEWAY_WEB_DIR)
  --sandbox-share DIR
                  a directory sandboxed tasks may read and write (where jobs deploy); repeatable
                  (env CAUSEWAY_SANDBOX_SHARE, colon-separated)
  --no-embedded-runner
                  run no job in the server's process: remote runners only (causeway runner)
  --runner-heartbeat S, --runner-lease S, --runner-claim-hold S, --runner-start-timeout S
                  the runner protocol's intervals in seconds (defaults 5, 20, 30, 30; env
                  CAUSEWAY_RUNNER_HEARTBEAT, _LEASE, _CLAIM_HOLD, _START_TIMEOUT)
  --no-watch      do not re-apply the line when its files, repositories or project change
  --public        anonymous readers may see the jobs with allowPublicAccess: true, their runs and logs
  --new-admin-token
                  revoke the token named admin and write a new one to <data>/server.json
  --log-format F  text (default): one line per event for a person; json: one JSON object per
                  line for machines (env CAUSEWAY_LOG_FORMAT)`;

const NAME = "causeway-server";

// The flag or argument of each option, for the problems found by compileServerOptions.
const FLAGS: Readonly<Record<string, string>> = {
  dir: "DIR",
  port: "--port",
  host: "--host",
  dataDir: "--data",
  slots: "--slots",
  sandbox: "--sandbox",
  maxStreams: "--max-streams",
  remotePollMs: "--remote-poll",
  remotePollMaxMs: "--remote-poll-max",
  logFormat: "--log-format",
  secretKey: "CAUSEWAY_SECRET_KEY",
  secretKeyFile: "--secret-key-file",
  webDir: "--web-dir",
};

// The notification outbox's settings: flag, environment variable, server option, bounds, and
// the factor from the unit given (seconds for times) to the option's.
const NOTIFY_SETTINGS = [
  {
    flag: "notify-concurrency",
    env: "CAUSEWAY_NOTIFY_CONCURRENCY",
    option: "notifyConcurrency",
    min: 1,
    max: 256,
    scale: 1,
  },
  { flag: "notify-timeout", env: "CAUSEWAY_NOTIFY_TIMEOUT", option: "notifyTimeoutMs", min: 1, max: 600, scale: 1000 },
  {
    flag: "notify-attempts",
    env: "CAUSEWAY_NOTIFY_ATTEMPTS",
    option: "notifyMaxAttempts",
    min: 1,
    max: 1000,
    scale: 1,
  },
  { flag: "notify-retry", env: "CAUSEWAY_NOTIFY_RETRY", option: "notifyRetryMs", min: 1, max: 3600, scale: 1000 },
  {
    flag: "notify-retry-max",
    env: "CAUSEWAY_NOTIFY_RETRY_MAX",
    option: "notifyRetryMaxMs",
    min: 1,
    max: 86_400,
    scale: 1000,
  },
] as const;

// The runner protocol's intervals (design §5), in seconds (decimals allowed: tests use
// milliseconds).
const RUNNER_SETTINGS = [
  { flag: "runner-heartbeat", env: "CAUSEWAY_RUNNER_HEARTBEAT", option: "runnerHeartbeatMs", min: 0.01, max: 600 },
  { flag: "runner-lease", env: "CAUSEWAY_RUNNER_LEASE", option: "runnerLeaseMs", min: 0.03, max: 3600 },
  { flag: "runner-claim-hold", env: "CAUSEWAY_RUNNER_CLAIM_HOLD", option: "runnerClaimHoldMs", min: 0.01, max: 300 },
  {
    flag: "runner-start-timeout",
    env: "CAUSEWAY_RUNNER_START_TIMEOUT",
    option: "runnerStartTimeoutMs",
    min: 0.01,
    max: 3600,
  },
] as const;

type RunnerSettings = Partial<Record<(typeof RUNNER_SETTINGS)[number]["option"], number>>;

function runnerSettings(
  values: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv,
  problems: string[],
): RunnerSettings {
  const settings: RunnerSettings = {};
  for (const s of RUNNER_SETTINGS) {
    const value = (values[s.flag] as string | undefined) ?? (env[s.env] === "" ? undefined : env[s.env]);
    if (value === undefined) continue;
    const n = Number(value);
    if (/^\d+(\.\d+)?$/.test(value) && n >= s.min && n <= s.max) settings[s.option] = Math.round(n * 1000);
    else
      problems.push(`--${s.flag} must be a number of seconds from ${s.min} to ${s.max}, got ${JSON.stringify(value)}`);
  }
  return settings;
}

type NotifySettings = Partial<Record<(typeof NOTIFY_SETTINGS)[number]["option"], number>>;

/**
 * The outbox's settings given by flag (else by environment variable); a problem names the flag
 * or the variable that was given.
 */
function notifySettings(
  values: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv,
  problems: string[],
): NotifySettings {
  const settings: NotifySettings = {};
  const given: Partial<Record<keyof NotifySettings, string>> = {};
  for (const s of NOTIFY_SETTINGS) {
    const flag = values[s.flag] as string | undefined;
    const fromEnv = env[s.env] === "" ? undefined : env[s.env];
    const name = flag === undefined ? s.env : `--${s.flag}`;
    const n = intOption(flag ?? fromEnv, name, s.min, s.max, problems);
    if (n === undefined) continue;
    settings[s.option] = n * s.scale;
    given[s.option] = name;
  }
  const { notifyRetryMs: first, notifyRetryMaxMs: most } = settings;
  if (first !== undefined && most !== undefined && most < first)
    problems.push(
      `${given.notifyRetryMaxMs} must not be less than ${given.notifyRetryMs} (${first / 1000} s), got ${most / 1000} s`,
    );
  return settings;
}

function intOption(value: string | undefined, name: string, min: number, max: number, problems: string[]) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (/^\d+$/.test(value) && n >= min && n <= max) return n;
  problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return undefined;
}

/** The server's options from argv and the environment, with every problem found in them. */
function parse(argv: string[], env: NodeJS.ProcessEnv): { options: ServerOptions; problems: string[] } | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        data: { type: "string" },
        slots: { type: "string" },
        sandbox: { type: "string" },
        "max-streams": { type: "string" },
        "remote-poll": { type: "string" },
        "remote-poll-max": { type: "string" },
        "no-watch": { type: "boolean" },
        public: { type: "boolean" },
        "new-admin-token": { type: "boolean" },
        "log-format": { type: "string" },
        "secret-key-file": { type: "string" },
        "web-dir": { type: "string" },
        ...Object.fromEntries(NOTIFY_SETTINGS.map((s) => [s.flag, { type: "string" as const }])),
        ...Object.fromEntries(RUNNER_SETTINGS.map((s) => [s.flag, { type: "string" as const }])),
        "no-embedded-runner": { type: "boolean" },
        "sandbox-share": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return undefined;
  const problems: string[] = [];
  const port = intOption(values.port ?? env.CAUSEWAY_PORT, "--port", 0, 65535, problems);
  const slots = intOption(values.slots ?? env.CAUSEWAY_SLOTS, "--slots", 1, 1024, problems);
  const maxStreams = intOption(
    values["max-streams"] ?? env.CAUSEWAY_MAX_STREAMS,
    "--max-streams",
    1,
    100_000,
    problems,
  );
  const remotePoll = intOption(values["remote-poll"] ?? env.CAUSEWAY_REMOTE_POLL, "--remote-poll", 1, 86_400, problems);
  const remotePollMax = intOption(
    values["remote-poll-max"] ?? env.CAUSEWAY_REMOTE_POLL_MAX,
    "--remote-poll-max",
    1,
    86_400,
    problems,
  );
  const notify = notifySettings(values, env, problems);
  const runners = runnerSettings(values, env, problems);
  const host = values.host ?? env.CAUSEWAY_HOST;
  if (host === "") problems.push("--host must not be empty");
  const data = values.data ?? env.CAUSEWAY_DATA;
  const secretKeyFile = values["secret-key-file"] ?? (env.CAUSEWAY_SECRET_KEY_FILE || undefined);
  const secretKey = env.CAUSEWAY_SECRET_KEY || undefined;
  const logFormat = values["log-format"] ?? (env.CAUSEWAY_LOG_FORMAT || undefined);
  const webDir = values["web-dir"] ?? (env.CAUSEWAY_WEB_DIR || undefined);
  const options: ServerOptions = {
    // One directory is the line as it always was; anything else (several, a git URL, a project
    // file) names its sources.
    ...(positionals.length <= 1 &&
    !isGitUrl(positionals[0] ?? ".") &&
    !(positionals[0] ?? ".").endsWith(PROJECT_FILE_NAME)
      ? { dir: positionals[0] ?? "." }
      : { sources: positionals }),
    ...(port === undefined ? {} : { port }),
    ...(host === undefined || host === "" ? {} : { host }),
    ...(data === undefined || data === "" ? {} : { dataDir: data }),
    ...(slots === undefined ? {} : { slots }),
    ...(secretKeyFile === undefined ? {} : { secretKeyFile }),
    ...(secretKey === undefined ? {} : { secretKey }),
    ...(webDir === undefined ? {} : { webDir }),
    // Checked by compileServerOptions (auto, off or required).
    ...((values.sandbox ?? env.CAUSEWAY_SANDBOX)
      ? { sandbox: (values.sandbox ?? env.CAUSEWAY_SANDBOX) as "auto" }
      : {}),
    ...(maxStreams === undefined ? {} : { maxStreams }),
    ...(remotePoll === undefined ? {} : { remotePollMs: remotePoll * 1000 }),
    ...(remotePollMax === undefined ? {} : { remotePollMaxMs: remotePollMax * 1000 }),
    ...notify,
    ...runners,
    embeddedRunner: values["no-embedded-runner"] !== true,
    sandboxShare: [
      ...(values["sandbox-share"] ?? []),
      ...(env.CAUSEWAY_SANDBOX_SHARE ?? "").split(":").filter((d) => d !== ""),
    ],
    watch: values["no-watch"] !== true,
    publicAccess: values.public === true,
    newAdminToken: values["new-admin-token"] === true,
    // Checked by compileServerOptions, with the other options (see compile()).
    ...(logFormat === undefined ? {} : { logFormat }),
    env: passthroughEnv(env),
    // Colours only for a person at a terminal who did not ask for none (no-color.org).
    color: process.stdout.isTTY === true && (env.NO_COLOR ?? "") === "",
  };
  return { options, problems };
}

function usage(problems: readonly string[]): never {
  process.stderr.write(`${problems.map((p) => `${NAME}: ${p}\n`).join("")}\n${USAGE}\n`);
  process.exit(2);
}

function flagged(problem: string): string {
  const at = problem.indexOf(":");
  const flag = at < 0 ? undefined : FLAGS[problem.slice(0, at)];
  return flag === undefined ? problem : `${flag}${problem.slice(at)}`;
}

function compile(options: ServerOptions, problems: readonly string[]): CompiledServerOptions {
  let compiled: CompiledServerOptions | undefined;
  const all = [...problems];
  try {
    compiled = compileServerOptions(options);
  } catch (error) {
    const problems = optionProblems(error);
    if (problems === undefined) throw error;
    all.push(...problems.map(flagged));
  }
  if (all.length > 0 || compiled === undefined) usage(all);
  return compiled;
}

/**
 * Says why the server stopped on an error and exits 1: an expected error (a port in use, a
 * locked data directory: every error with a catalog code of kind user or operational) in one
 * line, anything else with its stack and a line asking to report it.
 */
function fail(error: unknown, logger: Logger, json: boolean, what: string): never {
  const problems = optionProblems(error);
  if (problems !== undefined) usage(problems.map(flagged));
  if (isExpectedError(error)) {
    if (json) logger.error(`${what}: ${error.message}`, undefined, { event: "exit", code: error.code });
    else process.stderr.write(`${NAME}: error ${errorText(error)}\n`);
  } else if (json) {
    logger.error(`${what}: a bug in Causeway; please report it with this line`, error, { event: "exit" });
  } else {
    const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
    process.stderr.write(
      `${NAME}: ${what}: ${text}\n${NAME}: this is a bug in Causeway; please report it, with the lines above\n`,
    );
  }
  process.exit(1);
}

/**
 * A writer to a standard stream that outlasts its reader: once the stream fails (EPIPE: nobody
 * reads it any more), further lines are dropped instead of crashing the process.
 */
function outlasting(stream: NodeJS.WriteStream): (text: string) => void {
  let open = true;
  stream.on("error", () => {
    open = false;
  });
  return (text) => {
    if (open) stream.write(text);
  };
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parse(process.argv.slice(2), process.env);
  } catch (error) {
    usage([(error as Error).message]);
  }
  if (parsed === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const compiled = compile(parsed.options, parsed.problems);
  // The terminal may go away while the server runs (a closed window, `| head`, a log collector
  // that died): writes then fail with EPIPE, which must not stop the server.
  const stdout = outlasting(process.stdout);
  const stderr = outlasting(process.stderr);
  const logger = createLogger({ format: compiled.logFormat, color: parsed.options.color ?? false, stdout, stderr });
  const json = compiled.logFormat === "json";
  const bug = (error: unknown): never => fail(error, logger, json, "internal error");
  process.on("uncaughtException", bug);
  process.on("unhandledRejection", bug);

  let server: RunningServer;
  try {
    server = await startServer({ ...parsed.options, logger });
  } catch (error) {
    fail(error, logger, json, "cannot start");
  }

  if (json) {
    logger.info(`Causeway is running at ${server.url}`, {
      event: "listening",
      url: server.url,
      dir: compiled.dir ?? null,
      sources: (compiled.sources ?? []).join(" "),
      dataDir: server.dataDir,
    });
  } else {
    // The token goes in the fragment, which the browser never sends: no server or proxy log
    // holds it, and the page trades it for a session cookie at once (docs/api.md "Browser sessions").
    stdout(
      `Causeway is running at ${server.url}\n` +
        `  web UI:   ${server.url}/#token=${server.token}\n` +
        `  pipeline: ${parsed.options.dir ?? (parsed.options.sources ?? []).join(" ")}\n` +
        `  data:     ${server.dataDir} (URL and token in ${server.dataDir}/server.json)\n` +
        `Press Ctrl+C to stop (a second Ctrl+C exits at once).\n`,
    );
  }

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`, { event: "exit", signal });
      process.exit(130);
    }
    stopping = true;
    logger.info(`${signal}: stopping (running jobs are cancelled)...`, { event: "stopping", signal });
    server.stop().then(
      () => {
        logger.info("stopped", { event: "stopped" });
        process.exit(0);
      },
      (error: unknown) => fail(error, logger, json, "error while stopping"),
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

await main();
