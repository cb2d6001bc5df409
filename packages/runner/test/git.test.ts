import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UNSUPPORTED_REPOSITORY } from "../src/index.js";
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

  it.each([["acme/app"], ["https://github.com/acme/app.git"], ["git@github.com:acme/app.git"], [undefined]])(
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
