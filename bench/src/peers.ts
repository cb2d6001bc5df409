import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { dagLine } from "./engine-lines.js";
import type { Benchmark } from "./harness.js";

// `npm run bench -- --peers`: the 1,000-job DAG of the engine benchmark run by peers that
// can run here, each in the same run, beside Causeway's own figure. The peers are fetched from
// the npm registry at run time into a cache outside the repository (never a dependency of it):
// wireit and lage (task runners over npm scripts and workspaces), and a minimal Node spawner
// with no persistence, the language's own floor for starting 1,000 processes two at a time.

const run = promisify(execFile);

/** The versions fetched (pinned, so figures stay comparable). */
export const PEER_VERSIONS = { wireit: "0.14.13", lage: "2.17.0" } as const;

/** The cache of fetched peers: `$XDG_CACHE_HOME/causeway-bench-peers` (default `~/.cache/...`). */
export function peersCache(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "causeway-bench-peers");
}

/** Fetches the peers into the cache once (npm install there); returns its node_modules. */
export async function fetchPeers(cache: string): Promise<string> {
  const modules = join(cache, "node_modules");
  const wanted = Object.entries(PEER_VERSIONS).map(([name, version]) => `${name}@${version}`);
  if (!Object.keys(PEER_VERSIONS).every((name) => existsSync(join(modules, name, "package.json")))) {
    await mkdir(cache, { recursive: true });
    await writeFile(join(cache, "package.json"), '{ "private": true }\n');
    await run("npm", ["install", "--no-audit", "--no-fund", "--no-save", "--prefix", cache, ...wanted], {
      maxBuffer: 16 * 1024 * 1024,
    });
  }
  return modules;
}

async function inTemp<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** wireit: one npm script per job, `dependencies` as the DAG, 2 in parallel, no cache. */
async function wireitTime(modules: string, parents: number[][]): Promise<number> {
  return inTemp("causeway-peer-wireit-", async (dir) => {
    const names = parents.map((_, i) => `j${i}`);
    const scripts: Record<string, string> = { all: "wireit" };
    const wireit: Record<string, unknown> = { all: { dependencies: names } };
    parents.forEach((ps, i) => {
      scripts[`j${i}`] = "wireit";
      wireit[`j${i}`] = { command: "bash -c true", dependencies: ps.map((p) => `j${p}`) };
    });
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "dag", private: true, scripts, wireit }));
    await symlink(modules, join(dir, "node_modules"));
    const env = { ...process.env, WIREIT_PARALLEL: "2", WIREIT_CACHE: "none", WIREIT_LOGGER: "quiet-ci" };
    return timed(() => run("npm", ["run", "-s", "all"], { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 }));
  });
}

/** lage: one workspace package per job, its dependencies as the DAG, `build: ["^build"]`, 2 in parallel, no cache. */
async function lageTime(modules: string, parents: number[][]): Promise<number> {
  return inTemp("causeway-peer-lage-", async (dir) => {
    await writeFile(
      join(dir, "package.json"),
      JSON.stringify({ name: "dag", private: true, workspaces: ["packages/*"] }),
    );
    await writeFile(join(dir, "lage.config.js"), 'module.exports = { pipeline: { build: ["^build"] } };\n');
    // lage finds an npm monorepo by its lock file.
    await writeFile(join(dir, "package-lock.json"), JSON.stringify({ name: "dag", lockfileVersion: 3, packages: {} }));
    for (const [i, ps] of parents.entries()) {
      await mkdir(join(dir, "packages", `j${i}`), { recursive: true });
      const dependencies = Object.fromEntries(ps.map((p) => [`j${p}`, "*"]));
      await writeFile(
        join(dir, "packages", `j${i}`, "package.json"),
        JSON.stringify({ name: `j${i}`, version: "1.0.0", scripts: { build: "bash -c true" }, dependencies }),
      );
    }
    await symlink(modules, join(dir, "node_modules"));
    // lage asks git which files changed: a repository with one commit.
    await run("git", ["init", "-q"], { cwd: dir });
    const git = {
      ...process.env,
      GIT_AUTHOR_NAME: "bench",
      GIT_AUTHOR_EMAIL: "b@x",
      GIT_COMMITTER_NAME: "bench",
      GIT_COMMITTER_EMAIL: "b@x",
    };
    await run("git", ["add", "-A"], { cwd: dir, env: git });
    await run("git", ["commit", "-qm", "dag", "--no-gpg-sign"], { cwd: dir, env: git });
    const lage = join(modules, "lage", "dist", "lage.js");
    return timed(() =>
      run(process.execPath, [lage, "build", "--concurrency", "2", "--no-cache", "--reporter", "json"], {
        cwd: dir,
        maxBuffer: 256 * 1024 * 1024,
      }),
    );
  });
}

/** A minimal Node spawner: `bash -c true` per job in dependency order, 2 at a time, nothing persisted. */
export function spawnerTime(parents: number[][]): Promise<number> {
  return timed(
    () =>
      new Promise<void>((resolve, reject) => {
        const waiting = parents.map((ps) => ps.length);
        const children = parents.map(() => [] as number[]);
        parents.forEach((ps, i) => ps.forEach((p) => children[p]?.push(i)));
        const ready = parents.flatMap((ps, i) => (ps.length === 0 ? [i] : []));
        let running = 0;
        let done = 0;
        const next = (): void => {
          while (running < 2 && ready.length > 0) {
            const i = ready.shift() as number;
            running++;
            spawn("bash", ["-c", "true"], { stdio: "ignore" })
              .once("error", reject)
              .once("exit", () => {
                running--;
                done++;
                for (const c of children[i] ?? []) if (--waiting[c]! === 0) ready.push(c);
                if (done === parents.length) resolve();
                else next();
              });
          }
        };
        next();
      }),
  );
}

/**
 * The peers on the 1,000-job DAG (`peer_<name>_dag1000_s`), each once after a warm-up run of
 * its own by the harness. A peer that cannot run here is reported as an error, not skipped.
 */
export function peersBenchmark(jobs = 1000, seed = 1): Benchmark {
  const parents = dagLine(jobs, seed).parents;
  let modules: string | undefined;
  return {
    name: "peers",
    details: { jobs, seed, parallel: 2, versions: PEER_VERSIONS, cache: peersCache() },
    async run() {
      modules ??= await fetchPeers(peersCache());
      return {
        peer_spawner_dag1000_s: await spawnerTime(parents),
        peer_wireit_dag1000_s: await wireitTime(modules, parents),
        peer_lage_dag1000_s: await lageTime(modules, parents),
      };
    },
  };
}
