import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CausewayError, displayUrl, redactUrls } from "@causeway/core";
import type { GitFetch, LocalSource } from "./line-sources.js";

/** Temporary clones of git sources for one command; `cleanup` removes them all. */
export interface TempClones {
  readonly fetch: GitFetch;
  cleanup(): Promise<void>;
}

/**
 * Git sources of `validate`, `plan` and `apply`: each cloned (shallow, the branch asked for or
 * the remote's default) into a temporary directory that `cleanup` removes. A clone that fails
 * is `GIT_FAILED` with git's own message.
 */
export function tempClones(): TempClones {
  const dirs: string[] = [];
  return {
    async fetch(source): Promise<LocalSource> {
      const dir = await mkdtemp(join(tmpdir(), "causeway-source-"));
      dirs.push(dir);
      const branch = source.branch === undefined ? [] : ["--branch", source.branch];
      await git(["clone", "--quiet", "--depth", "1", ...branch, "--", source.url, join(dir, "checkout")], dir);
      const commit = (await git(["rev-parse", "HEAD"], join(dir, "checkout"))).trim();
      return {
        name: source.name,
        dir: join(dir, "checkout"),
        git: { url: displayUrl(source.url), ...(source.branch === undefined ? {} : { branch: source.branch }), commit },
      };
    },
    async cleanup() {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

function git(args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("git", args, { cwd, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error === null) return resolve(stdout);
      // git's messages may repeat a URL with its credentials: never printed.
      const why = redactUrls(stderr.trim().split("\n").pop() ?? error.message);
      reject(new CausewayError("GIT_FAILED", `git ${args[0] ?? ""} failed: ${why}`));
    });
  });
}
