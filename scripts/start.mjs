// `npm start`: creates the example's application repository when it is missing, then runs
// `causeway up examples/hello-line` in the foreground (standard streams inherited, signals
// forwarded, its exit code returned), after printing what to try once it runs (first, so that
// the server's run lines follow it rather than cut through it).
// Plain Node ESM, so it runs right after `npm ci` (whose `prepare` script builds the packages).
// package.json runs it as `exec node scripts/start.mjs`: without `exec`, a SIGTERM that npm
// forwards to its shell kills only the shell, and this process and the server keep running.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDemoRepo } from "./demo-repo.mjs";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const LINE = "examples/hello-line";
const APP_REPO = `${LINE}/app-repo`;
const CLI = join(ROOT, "packages/cli/dist/main.js");
/** @type {NodeJS.Signals[]} */
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"];

// Where the example's jobs deploy (its YAML says the same), shared with its sandboxed tasks.
const deployRoot = `${process.env.TMPDIR || "/tmp"}/causeway-hello-line`.replace(/\/+/g, "/");

function tryThis() {
  return `
Starting Causeway on ${LINE} (http://127.0.0.1:4810). Once it runs, open the "web UI" link it
prints (it logs your browser in), or try this in another terminal, in ${ROOT}:
  echo "Hello again" >> ${APP_REPO}/README.md && git -C ${APP_REPO} commit -qam "Say hello again"
  npx causeway runs                                # build -> deploy_staging -> smoke_test, in seconds
  npx causeway logs <run id> --follow              # a run's console
  npx causeway versions app_build                  # one version per commit built
  npx causeway why deploy_production               # switch: off: production waits for you
  npx causeway trigger deploy_production --wait    # promote what passed the smoke test
  npx causeway trace deploy_production             # from the production deploy back to the commit
Deployments: ${deployRoot}/{staging,production}. More in ${LINE}/README.md.
`;
}

if (!existsSync(CLI)) {
  process.stderr.write(`npm start: ${CLI} is not built: run \`npm run build\` (or \`npm ci\`) first\n`);
  process.exit(1);
}

try {
  const { created, head } = ensureDemoRepo(join(ROOT, APP_REPO));
  if (created)
    process.stdout.write(`created ${APP_REPO}: a git repository of a tiny app (commit ${head.slice(0, 7)})\n`);
} catch (error) {
  process.stderr.write(
    `npm start: cannot create ${APP_REPO}: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}

process.stdout.write(tryThis());
// Tasks run in the sandbox (the default) where it works; the example's jobs deploy into a
// directory outside their workspaces, which the sandbox shares with them.
const child = spawn(process.execPath, [CLI, "up", LINE, "--sandbox-share", deployRoot], {
  cwd: ROOT,
  stdio: "inherit",
});

// The CLI passes signals on to the server once (it ignores a repeat within 300 ms: the terminal
// sends Ctrl+C to this whole process group and npm forwards it too).
/** @type {(signal: NodeJS.Signals) => () => void} */
const forward = (signal) => () => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
for (const signal of SIGNALS) process.on(signal, forward(signal));

child.once("error", (error) => {
  process.stderr.write(`npm start: cannot run the CLI: ${error.message}\n`);
  process.exit(1);
});
child.once("exit", (code, signal) => {
  process.exit(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
});
