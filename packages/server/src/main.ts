#!/usr/bin/env node
import { parseArgs } from "node:util";
import { CausewayError } from "@causeway/core";
import { passthroughEnv } from "@causeway/runner";
import { DEFAULT_HOST, DEFAULT_PORT, ServerOptionsError } from "./options.js";
import { startServer, type RunningServer } from "./server.js";

// The composition root of the server process: the only module that reads process.env and argv.

const USAGE = `usage: causeway-server [DIR] [--port N] [--host H] [--data DIR] [--slots N] [--no-watch]

  DIR          the pipeline directory to apply and watch (default: the current directory)
  --port N     port to listen on (default ${DEFAULT_PORT}, 0 picks a free one; env CAUSEWAY_PORT)
  --host H     address to bind (default ${DEFAULT_HOST}; env CAUSEWAY_HOST)
  --data DIR   data directory (default ./.causeway; env CAUSEWAY_DATA)
  --slots N    runs executed at once (default 2; env CAUSEWAY_SLOTS)
  --no-watch   do not re-apply DIR when its files change`;

class UsageError extends Error {}

function intOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

function parse(argv: string[], env: NodeJS.ProcessEnv) {
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
        "no-watch": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return undefined;
  if (positionals.length > 1) throw new UsageError(`one pipeline directory at most, got ${positionals.join(" ")}`);
  const port = intOption(values.port ?? env.CAUSEWAY_PORT, "--port", 0, 65535);
  const slots = intOption(values.slots ?? env.CAUSEWAY_SLOTS, "--slots", 1, 1024);
  const host = values.host ?? env.CAUSEWAY_HOST;
  if (host === "") throw new UsageError("--host must not be empty");
  const data = values.data ?? env.CAUSEWAY_DATA;
  return {
    dir: positionals[0] ?? ".",
    ...(port === undefined ? {} : { port }),
    ...(host === undefined ? {} : { host }),
    ...(data === undefined || data === "" ? {} : { dataDir: data }),
    ...(slots === undefined ? {} : { slots }),
    watch: values["no-watch"] !== true,
  };
}

async function main(): Promise<void> {
  let options;
  try {
    options = parse(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`causeway-server: ${(error as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (options === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  let server: RunningServer;
  try {
    server = await startServer({ ...options, env: passthroughEnv(process.env) });
  } catch (error) {
    if (error instanceof ServerOptionsError) {
      process.stderr.write(`causeway-server: ${error.problems.join("\n")}\n\n${USAGE}\n`);
      process.exit(2);
    }
    const message = error instanceof CausewayError ? `${error.code}: ${error.message}` : (error as Error).message;
    process.stderr.write(`causeway-server: cannot start: ${message}\n`);
    if (!(error instanceof CausewayError)) process.stderr.write(`${(error as Error).stack ?? ""}\n`);
    process.exit(1);
  }

  process.stdout.write(
    `Causeway is running at ${server.url}\n` +
      `  pipeline: ${options.dir}\n` +
      `  data:     ${server.dataDir} (URL and token in ${server.dataDir}/server.json)\n` +
      `Press Ctrl+C to stop (a second Ctrl+C exits at once).\n`,
  );

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`causeway-server: ${signal} again: exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    process.stdout.write(`causeway-server: ${signal}: stopping (running jobs are cancelled)...\n`);
    server.stop().then(
      () => {
        process.stdout.write("causeway-server: stopped\n");
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`causeway-server: error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

await main();
