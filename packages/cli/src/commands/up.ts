import { CausewayError, usageError } from "@causeway/core";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import type { Io } from "../io.js";
import { withBranch } from "../line-sources.js";

const SERVER_MAIN = "@causeway/server/main";
const FORWARDED_SIGNALS = [
  ["SIGINT", "SIGINT"],
  ["SIGTERM", "SIGTERM"],
  ["SIGHUP", "SIGTERM"],
] as const satisfies readonly (readonly [NodeJS.Signals, NodeJS.Signals])[];

interface UpOptions {
  readonly branch?: string;
  readonly port?: string;
  readonly data?: string;
  readonly host?: string;
  readonly logFormat?: string;
  readonly public?: boolean;
  readonly newAdminToken?: boolean;
  readonly sandbox?: string;
  /** `--sandbox-share DIR`, repeatable. */
  readonly sandboxShare?: readonly string[];
  /** False with `--no-embedded-runner`: remote runners only. */
  readonly embeddedRunner?: boolean;
}

/** The formats of the server's terminal (the server's `--log-format`). */
const LOG_FORMATS = ["text", "json"];
/** The server's `--sandbox` modes (runner/src/sandbox.ts; docs/semantics.md "What a task can see"). */
const SANDBOX_MODES = ["auto", "off", "required"];

/** The arguments passed on to the server's main: the same as `up` was given. */
export function serverArgs(sources: readonly string[] | string | undefined, opts: UpOptions): string[] {
  const given = sources === undefined ? [] : typeof sources === "string" ? [sources] : [...sources];
  const args = withBranch(given, opts.branch);
  if (opts.port !== undefined) {
    if (!/^[0-9]+$/.test(opts.port) || Number(opts.port) > 65_535)
      throw usageError(`--port must be a port number (0 to 65535), got ${JSON.stringify(opts.port)}`);
    args.push("--port", opts.port);
  }
  if (opts.data !== undefined) args.push("--data", opts.data);
  if (opts.host !== undefined) args.push("--host", opts.host);
  if (opts.logFormat !== undefined) {
    if (!LOG_FORMATS.includes(opts.logFormat))
      throw usageError(`--log-format must be text or json, got ${JSON.stringify(opts.logFormat)}`);
    args.push("--log-format", opts.logFormat);
  }
  if (opts.public === true) args.push("--public");
  if (opts.newAdminToken === true) args.push("--new-admin-token");
  if (opts.sandbox !== undefined) {
    if (!SANDBOX_MODES.includes(opts.sandbox))
      throw usageError(`--sandbox must be auto, off or required, got ${JSON.stringify(opts.sandbox)}`);
    args.push("--sandbox", opts.sandbox);
  }
  for (const dir of opts.sandboxShare ?? []) args.push("--sandbox-share", dir);
  if (opts.embeddedRunner === false) args.push("--no-embedded-runner");
  return args;
}

/**
 * The file of the server's entry point. The CLI never imports server code: it starts the
 * server as a process of its own, found through the package's `./main` export.
 */
export function resolveServerMain(resolve: (specifier: string) => string = (s) => import.meta.resolve(s)): string {
  return resolveMain(SERVER_MAIN, "the server", "@causeway/server", resolve);
}

/** The file of a package's entry point (the server's, the runner agent's), checked to be built. */
export function resolveMain(
  specifier: string,
  what: string,
  pkg: string,
  resolve: (specifier: string) => string = (s) => import.meta.resolve(s),
): string {
  let url: string;
  try {
    url = resolve(specifier);
  } catch (error) {
    throw new CausewayError("INTERNAL", `cannot find ${what} (${specifier}): is the ${pkg} package installed?`, {
      hint: "run `npm ci` at the root of the Causeway checkout",
      cause: error,
    });
  }
  const file = url.startsWith("file:") ? fileURLToPath(url) : url;
  if (!existsSync(file))
    throw new CausewayError("INTERNAL", `${what} is not built: ${file} does not exist`, {
      hint: "run `npm run build` at the root of the Causeway checkout",
    });
  return file;
}

/**
 * Registers `causeway up [DIR|URL…] [--port N] [--data DIR] [--host H] [--log-format text|json]
 * [--public] [--new-admin-token] [--sandbox auto|off|required]`.
 */
export function registerUp(program: Command, io: Io): void {
  program
    .command("up")
    .description(
      "start the server with the embedded runner; apply the line and re-apply it when its files change or its repositories get commits",
    )
    .argument(
      "[sources...]",
      "pipeline directories to watch, git URLs (URL#branch) to clone and poll, or projects (causeway.project.yml); default: .",
    )
    .option("--branch <branch>", "the branch of the git URLs that name none (URL#branch does too)")
    .option("--port <n>", "port to listen on (0: any free port)")
    .option("--data <dir>", "data directory: database, logs, state, server.json (default: ./.causeway)")
    .option("--host <host>", "address to bind (default: 127.0.0.1)")
    .option(
      "--log-format <format>",
      "text: one line per run event for a person (default); json: one JSON object per line (env CAUSEWAY_LOG_FORMAT)",
    )
    .option("--public", "anonymous readers may see the jobs with allowPublicAccess: true, their runs and logs")
    .option(
      "--new-admin-token",
      "revoke the API token named admin and write a new one to <data>/server.json (when server.json was lost)",
    )
    .option(
      "--sandbox <mode>",
      "auto: run tasks in a bubblewrap sandbox where bwrap works (default); off: never; required: refuse to start without one (env CAUSEWAY_SANDBOX)",
    )
    .option(
      "--sandbox-share <dir>",
      "a directory sandboxed tasks may read and write (where jobs deploy); repeatable",
      (dir: string, dirs: string[] = []) => [...dirs, dir],
    )
    .option("--no-embedded-runner", "run no job in the server's process: remote runners only (causeway runner)")
    .action(async (sources: string[], opts: UpOptions) => {
      const args = serverArgs(sources, opts);
      const main = resolveServerMain();
      io.exitCode(await runChild(main, args, io.env, "the server"));
    });
}

// A signal repeated within this window is one signal delivered twice (the terminal sends
// Ctrl+C to every process of the foreground group, and `npm start` forwards it again); a
// second Ctrl+C after it means "stop now", which the server honours by exiting at once.
const DUPLICATE_SIGNAL_MS = 300;

/**
 * Runs a main (the server's, the runner agent's) with inherited stdio until it exits and returns
 * its exit code (128 + n for signal n). The child runs in a process group of its own, so a Ctrl+C
 * reaches it once, forwarded from here: SIGINT and SIGTERM as they are, SIGHUP as SIGTERM.
 */
export function runChild(main: string, args: readonly string[], env: Io["env"], what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], {
      stdio: "inherit",
      env: { ...env },
      detached: process.platform !== "win32",
    });
    const last = new Map<NodeJS.Signals, number>();
    const forward = (signal: NodeJS.Signals, as: NodeJS.Signals) => (): void => {
      const now = Date.now();
      if (now - (last.get(signal) ?? -Infinity) < DUPLICATE_SIGNAL_MS) return;
      last.set(signal, now);
      if (child.exitCode === null && child.signalCode === null) child.kill(as);
    };
    const handlers = FORWARDED_SIGNALS.map(([s, as]) => [s, forward(s, as)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    const cleanup = (): void => {
      for (const [s, h] of handlers) process.off(s, h);
    };
    child.once("error", (error) => {
      cleanup();
      reject(new CausewayError("INTERNAL", `cannot start ${what}: ${error.message}`, { cause: error }));
    });
    // The handlers stay after the server exits (forward() then does nothing): a Ctrl+C that
    // arrives while this process is exiting must not kill it by signal and lose its exit code.
    child.once("exit", (code, signal) => {
      resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
}
