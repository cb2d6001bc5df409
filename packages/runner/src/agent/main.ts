import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createEmbeddedRunner } from "../embedded-runner.js";
import { sandboxNotice } from "../sandbox.js";
import { prepareWorkDir } from "../work-dir.js";
import { passthroughEnv, SANDBOX_MODES_LIST } from "./main-options.js";
import { RunnerAgent } from "./agent.js";
import { RunnerClient, ServerRefusal } from "./client.js";

// The composition root of a remote runner process (`causeway runner`, docs/runners.md): the
// only module of the runner that reads argv and process.env.

const USAGE = `usage: causeway runner --server URL [--token T] [--work-dir DIR] [--pool NAME] [--labels a,b]
                       [--capacity N] [--name NAME] [--sandbox auto|off|required] [--log-flush-ms MS]
                       [--workspaces DIR]

  --server URL    the Causeway server (as printed by causeway up)
  --token T       a registration token (causeway runner-token create); needed on the first
                  start only: the runner keeps its credential in its work directory
  --work-dir DIR  the runner's directory: credential, console spool (default ./causeway-runner)
  --workspaces DIR  where runs' workspaces are made (default: a new directory on tmpfs, /dev/shm,
                  else work/ in the runner's directory)
  --pool NAME     the pool it serves: jobs with runtime.nodePool NAME (default: the default pool)
  --labels a,b    labels it reports
  --capacity N    runs executed at once (default 1)
  --name NAME     its name (default: the host name)
  --sandbox M     run each task in a bubblewrap sandbox: auto (default: where bwrap works), off, required
  --log-flush-ms MS  how long console bytes may wait in the spool before they are uploaded
                  (default 1000; an upload starts sooner once 64 KiB are waiting)

SIGTERM or Ctrl+C drains: running jobs finish and are reported, no new ones are taken; a
second one stops the jobs at once.`;

/** The runner's credential file, owner-only, in its work directory. */
export const CREDENTIAL_FILE = "runner.json";

interface Credential {
  readonly server: string;
  readonly name: string;
  readonly credential: string;
}

/** The credential file's content, checked: throws saying what is wrong with it. */
function readCredential(text: string): Credential {
  const value: unknown = JSON.parse(text);
  const fields = value as Partial<Record<keyof Credential, unknown>> | null;
  for (const key of ["server", "name", "credential"] as const) {
    if (typeof fields?.[key] !== "string" || fields[key] === "") throw new Error(`"${key}" is missing or not a string`);
  }
  return value as Credential;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      server: { type: "string" },
      token: { type: "string" },
      "work-dir": { type: "string" },
      workspaces: { type: "string" },
      pool: { type: "string" },
      labels: { type: "string" },
      capacity: { type: "string" },
      name: { type: "string" },
      sandbox: { type: "string" },
      "log-flush-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const say = (line: string): void => void process.stderr.write(`causeway runner: ${line}\n`);
  const workDir = resolve(values["work-dir"] ?? process.env.CAUSEWAY_RUNNER_DIR ?? "causeway-runner");
  const capacity = Number(values.capacity ?? "1");
  const problems: string[] = [];
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 256)
    problems.push("--capacity must be an integer from 1 to 256");
  const sandbox = values.sandbox ?? "auto";
  if (!SANDBOX_MODES_LIST.includes(sandbox)) problems.push(`--sandbox must be one of ${SANDBOX_MODES_LIST.join(", ")}`);
  const flushMs = values["log-flush-ms"] === undefined ? undefined : Number(values["log-flush-ms"]);
  if (flushMs !== undefined && !(Number.isFinite(flushMs) && flushMs >= 0 && flushMs <= 60_000)) {
    problems.push("--log-flush-ms must be a number of milliseconds from 0 to 60000");
  }
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const file = join(workDir, CREDENTIAL_FILE);
  let saved: Credential | undefined;
  try {
    saved = existsSync(file) ? readCredential(readFileSync(file, "utf8")) : undefined;
  } catch (error) {
    say(`cannot read the credential in ${file}: ${error instanceof Error ? error.message : String(error)}`);
    say("remove the file and register again with a new token (causeway runner-token create)");
    return 1;
  }
  const server = values.server ?? saved?.server;
  if (server === undefined) problems.push("--server is required (the URL causeway up prints)");
  if (saved === undefined && values.token === undefined) {
    problems.push(
      `--token is required on the first start (no credential in ${file}); an admin makes one: causeway runner-token create`,
    );
  }
  if (problems.length > 0 || server === undefined) {
    for (const p of problems) say(p);
    process.stderr.write(`\n${USAGE}\n`);
    return 2;
  }
  const client = new RunnerClient(server);
  const labels = (values.labels ?? "")
    .split(",")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (saved === undefined) {
    try {
      const made = await client.register({
        token: values.token as string,
        name: values.name ?? hostname(),
        ...(values.pool === undefined ? {} : { pool: values.pool }),
        labels,
        capacity,
      });
      saved = { server, name: made.runner.name, credential: made.credential };
      writeFileSync(file, JSON.stringify(saved, null, 2) + "\n", { mode: 0o600 });
      say(`registered as ${made.runner.name} in pool ${made.runner.pool}; credential kept in ${file}`);
    } catch (error) {
      say(error instanceof ServerRefusal ? `${error.code}: ${error.message}` : `cannot register: ${String(error)}`);
      return 1;
    }
  }
  client.credential = saved.credential;
  // Workspaces on tmpfs, as the server's: a workspace is a dozen inodes made and removed per run.
  // The runner's directory identifies it (one runner per directory, as its task record assumes).
  const workspaces = prepareWorkDir({
    dataDir: workDir,
    workDir: values.workspaces === undefined ? undefined : resolve(values.workspaces),
    fallback: join(workDir, "work"),
    onLeftAlone: (path, why) => say(`${path} was left alone: ${why}; remove it if you do not know where it came from`),
  });
  const runner = createEmbeddedRunner({
    workDir: workspaces,
    blobs: {
      get: () => Promise.resolve(undefined),
      put: () => Promise.reject(new Error("no blob store outside a run")),
    },
    env: passthroughEnv(process.env),
    workerRecord: join(workDir, "task-workers.json"),
    sandbox: sandbox as "auto",
  });
  say(sandboxNotice(runner.sandbox));
  say(`workspaces in ${workspaces}`);
  const agent = new RunnerAgent({
    client,
    runner,
    capacity,
    labels,
    spoolDir: join(workDir, "spool"),
    ...(flushMs === undefined ? {} : { logFlushMs: flushMs }),
    log: say,
  });
  let signals = 0;
  const stopped = new Promise<number>((done) => {
    const onSignal = (): void => {
      signals++;
      if (signals === 1) {
        say(`draining: ${agent.running} running job(s) finish, no new ones are taken`);
        void agent.drain().then(() => done(0));
      } else {
        agent.abandon();
        done(1);
      }
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  await agent.start();
  const code = await stopped;
  await runner.idle();
  runner.close();
  // Empty once every run is over; left as it is otherwise (a job that still runs).
  try {
    rmdirSync(workspaces);
  } catch {
    // Not empty, or gone.
  }
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`causeway runner: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
