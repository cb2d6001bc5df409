import { execFile } from "node:child_process";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { passthroughEnv, UNSUPPORTED_REPOSITORY } from "../src/index.js";
import { startGitDaemon } from "./git-daemon.js";
import { makeDep, makeSpec, scriptJob, tempDir, testRunner } from "./helpers.js";

const exec = promisify(execFile);

let dir: string;
let cleanup: () => Promise<void>;
let source: string;
let first: string;
let second: string;

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, GIT_CONFIG_NOSYSTEM: "1" },
  });
  return stdout.trim();
}

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
  source = `${dir}/source repo`;
  await mkdir(source);
  await git(source, "init", "-q");
  await writeFile(`${source}/file.txt`, "one\n");
  await git(source, "add", "file.txt");
  await git(source, "commit", "-q", "-m", "first");
  first = await git(source, "rev-parse", "HEAD");
  await writeFile(`${source}/file.txt`, "two\n");
  await git(source, "commit", "-q", "-am", "second");
  second = await git(source, "rev-parse", "HEAD");
});
afterEach(() => cleanup());

const SHOW = ['cd "$REPO_STATE"', "git rev-parse HEAD", "cat file.txt", "git symbolic-ref -q HEAD || echo detached"];

describe("gitRepo IN", () => {
  it("clones a local repository and checks out the exact older commit, detached", async () => {
    const { run } = testRunner(`${dir}/work`);
    const repo = makeDep("repo", "gitRepo", {
      pointer: { sourceName: source, branch: "master" },
      version: { versionName: second, propertyBag: { shaData: { commitSha: first, branchName: "master" } } },
    });
    const { result, rec } = await run(makeSpec(scriptJob(SHOW), { dependencies: [repo] }));
    expect(result.status).toBe("success");
    expect(rec.outputLines).toEqual([first, "one", "detached"]);
    expect(rec.text).toContain(`checked out ${first} from ${source}`);
  });

  it("accepts a file:// URL and falls back to versionName without shaData", async () => {
    const { run } = testRunner(`${dir}/work`);
    const repo = makeDep("repo", "gitRepo", {
      pointer: { sourceName: pathToFileURL(source).href },
      version: { versionName: first },
    });
    const { result, rec } = await run(makeSpec(scriptJob(SHOW), { dependencies: [repo] }));
    expect(result.status).toBe("success");
    expect(rec.outputLines).toEqual([first, "one", "detached"]);
  });

  it("checks out HEAD of a repository that has no version yet", async () => {
    const { run } = testRunner(`${dir}/work`);
    const repo = makeDep("repo", "gitRepo", { pointer: { sourceName: source } });
    const { result, rec } = await run(makeSpec(scriptJob(SHOW), { dependencies: [repo] }));
    expect(result.status).toBe("success");
    expect(rec.outputLines.slice(0, 2)).toEqual([second, "two"]);
  });

  it.each([["acme/app"], ["-u/x"], ["http:/no-host"], [undefined]])(
    "ends with status error for the repository %j",
    async (sourceName) => {
      const { run } = testRunner(`${dir}/work`);
      const repo = makeDep("repo", "gitRepo", { pointer: sourceName === undefined ? {} : { sourceName } });
      const { result, rec } = await run(makeSpec(scriptJob(["echo should-not-run"]), { dependencies: [repo] }));
      expect(result.status).toBe("error");
      expect(result.reason).toContain(UNSUPPORTED_REPOSITORY);
      expect(rec.outputLines).toEqual([]);
    },
  );

  it("clones a remote repository from a real git daemon and checks out the frozen commit", async () => {
    const base = `${dir}/served`;
    await mkdir(base);
    await git(dir, "clone", "-q", "--bare", source, `${base}/app.git`);
    const daemon = await startGitDaemon(base, { PATH: process.env.PATH ?? "/usr/bin:/bin" });
    try {
      const { run } = testRunner(`${dir}/work`);
      const repo = makeDep("repo", "gitRepo", {
        pointer: { sourceName: daemon.url("app.git"), branch: "master" },
        version: { versionName: first, propertyBag: { shaData: { commitSha: first } } },
      });
      const { result, rec } = await run(makeSpec(scriptJob(SHOW), { dependencies: [repo] }));
      expect(result.status).toBe("success");
      expect(rec.outputLines).toEqual([first, "one", "detached"]);
      expect(rec.text).toContain(`checked out ${first} from ${daemon.url("app.git")}`);
    } finally {
      await daemon.stop();
    }
  });

  it("clones over ssh with the integration's key, in an owner-only file that is gone after the clone", async () => {
    // A stand-in for ssh on PATH: it checks the key file it is given, then runs git's command
    // locally, as sshd would on the far side.
    const bin = `${dir}/bin`;
    await mkdir(bin);
    await writeFile(
      `${bin}/ssh`,
      [
        "#!/bin/bash",
        'while [ "$#" -gt 2 ]; do case "$1" in -i) key=$2; shift 2;; -o|-p) shift 2;; *) shift;; esac; done',
        'echo "$key $(stat -c %a "$key") $(stat -c %a "$(dirname "$key")") $(cat "$key")" >> "' + dir + '/ssh.log"',
        'exec bash -c "$2"',
      ].join("\n") + "\n",
      { mode: 0o755 },
    );
    const base = `${dir}/served`;
    await mkdir(base);
    await git(dir, "clone", "-q", "--bare", source, `${base}/app.git`);
    const asked: string[] = [];
    const { run } = testRunner(`${dir}/work`, {
      env: { ...passthroughEnv(process.env), PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` },
      integrations: (name) => {
        asked.push(name);
        return Promise.resolve({ privateKey: "-----BEGIN TEST KEY-----" });
      },
    });
    const repo = makeDep("repo", "gitRepo", {
      pointer: { sourceName: `git@localhost:${base}/app.git` },
      integration: "deploy_key",
      version: { versionName: second, propertyBag: { shaData: { commitSha: second } } },
    });
    const { result, rec } = await run(makeSpec(scriptJob(SHOW), { dependencies: [repo] }));
    expect(result.status).toBe("success");
    expect(rec.outputLines).toEqual([second, "two", "detached"]);
    expect(asked).toEqual(["deploy_key"]);
    const [keyFile = "", ...rest] = (await readFile(`${dir}/ssh.log`, "utf8")).trim().split(" ");
    expect(rest.join(" ")).toBe("600 700 -----BEGIN TEST KEY-----");
    expect(keyFile.startsWith(join(tmpdir(), "causeway-git-"))).toBe(true);
    await expect(stat(keyFile)).rejects.toThrow(/ENOENT/);
    await expect(stat(dirname(keyFile))).rejects.toThrow(/ENOENT/);
  });

  it("ends with status error when the commit does not exist", async () => {
    const { run } = testRunner(`${dir}/work`);
    const repo = makeDep("repo", "gitRepo", {
      pointer: { sourceName: source },
      version: { versionName: "0123456789abcdef0123456789abcdef01234567" },
    });
    const { result } = await run(makeSpec(scriptJob(["true"]), { dependencies: [repo] }));
    expect(result.status).toBe("error");
    expect(result.reason).toContain("git checkout");
  });

  it("refuses a revision that looks like an option", async () => {
    const { run } = testRunner(`${dir}/work`);
    const repo = makeDep("repo", "gitRepo", {
      pointer: { sourceName: source },
      version: { versionName: "--orphan=x" },
    });
    const { result } = await run(makeSpec(scriptJob(["true"]), { dependencies: [repo] }));
    expect(result.status).toBe("error");
    expect(result.reason).toContain("not a revision");
  });

  it("does not clone a gitRepo OUT", async () => {
    const { run } = testRunner(`${dir}/work`);
    const repo = makeDep("repo", "gitRepo", { operation: "OUT", pointer: { sourceName: "acme/app" } });
    const { result, rec } = await run(makeSpec(scriptJob(['ls -A "$REPO_STATE" | wc -l']), { dependencies: [repo] }));
    expect(result.status).toBe("success");
    expect(rec.outputLines).toEqual(["0"]);
  });
});
