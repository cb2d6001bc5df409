// The example's application repository (examples/hello-line/app-repo): created by `npm start`
// and by the example's test, the same way. Plain Node ESM so that it runs right after `npm ci`.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** The branch the example line follows. */
export const DEMO_BRANCH = "main";

/** The identity of commits in the repository, set in its own config (no global config needed). */
export const DEMO_AUTHOR = Object.freeze({ name: "Causeway Example", email: "example@causeway.invalid" });

const README = `# hello-app

The tiny application that [examples/hello-line](..) builds, deploys to staging, smoke-tests and
promotes to production. Change anything and commit: Causeway sees the commit within seconds.

    echo "Hello again" >> README.md && git commit -qam "Say hello again"
`;

const HELLO = `#!/usr/bin/env bash
# hello-app: greets with its version. The build adds the VERSION file next to this script.
here=$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)
version=$(cat "$here/VERSION" 2>/dev/null || echo dev)
echo "Hello from hello-app $version"
`;

/**
 * Makes `dir` a git repository with one commit of the tiny app (`hello.sh` and `README.md`) on
 * branch main, unless it already is a git repository. Idempotent: an existing repository is
 * left as it is. The repository is built in a temporary sibling directory and renamed into
 * place, so an interrupted run leaves nothing half-made at `dir`. The commit identity is set in
 * the repository's own config, so it works (and later commits by hand work) on a machine with
 * no global git config. Throws when `dir` exists but is not a git repository.
 *
 * @param {string} dir
 * @param {{ env?: NodeJS.ProcessEnv }} [options] the environment of git (default: this process's)
 * @returns {{ created: boolean, head: string }} whether it was created, and the commit of HEAD
 */
export function ensureDemoRepo(dir, options = {}) {
  const env = { ...(options.env ?? process.env), GIT_TERMINAL_PROMPT: "0" };
  /** @type {(cwd: string, ...args: string[]) => string} */
  const git = (cwd, ...args) => execFileSync("git", args, { cwd, env, encoding: "utf8", stdio: "pipe" }).trim();
  if (existsSync(dir)) {
    if (!existsSync(join(dir, ".git"))) {
      throw new Error(`${dir} exists but is not a git repository: remove it and start again`);
    }
    return { created: false, head: git(dir, "rev-parse", "HEAD") };
  }
  mkdirSync(dirname(dir), { recursive: true });
  // Not mkdtemp: its mode 0700 would stay on the repository.
  const temp = join(dirname(dir), `.${basename(dir)}-${process.pid}-${Date.now()}`);
  mkdirSync(temp);
  try {
    git(temp, "init", "--quiet");
    // Works with every git version (`init -b` needs git 2.28).
    git(temp, "symbolic-ref", "HEAD", `refs/heads/${DEMO_BRANCH}`);
    git(temp, "config", "user.name", DEMO_AUTHOR.name);
    git(temp, "config", "user.email", DEMO_AUTHOR.email);
    writeFileSync(join(temp, "README.md"), README);
    writeFileSync(join(temp, "hello.sh"), HELLO);
    chmodSync(join(temp, "hello.sh"), 0o755);
    git(temp, "add", "README.md", "hello.sh");
    // A user's global signing or hooks must not stop the example's first commit.
    git(temp, "-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", "Create hello-app");
    renameSync(temp, dir);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  return { created: true, head: git(dir, "rev-parse", "HEAD") };
}
