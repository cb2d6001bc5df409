import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ServerInfoSchema, type ServerInfo } from "@causeway/protocol";
import { waitFor } from "./helpers.js";

// The built server process (`packages/server/dist/main.js`), for tests of the real process.

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
export const MAIN = join(REPO, "packages/server/dist/main.js");
const PACKAGES = ["core", "protocol", "store", "engine", "runner", "server"];

/** The newest modification time of the sources the built server is made of. */
function newestSource(): number {
  let newest = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const p of PACKAGES) walk(join(REPO, "packages", p, "src"));
  return newest;
}

/** Builds the server (`tsc -b`) when its build is missing or older than one of its sources. */
export function ensureBuilt(): void {
  if (!existsSync(MAIN) || statSync(MAIN).mtimeMs < newestSource()) {
    execFileSync(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-b", "packages/server"], {
      cwd: REPO,
    });
  }
}

/** A server process of the built `main.js`, with what it printed (`output`: both streams, in order). */
export interface ServerProcess {
  readonly child: ChildProcess;
  output: string;
  stdout: string;
  stderr: string;
}

export function spawnServer(args: readonly string[], env: NodeJS.ProcessEnv = process.env): ServerProcess {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  const proc: ServerProcess = { child, output: "", stdout: "", stderr: "" };
  child.stdout?.on("data", (d: Buffer) => {
    proc.output += d.toString();
    proc.stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    proc.output += d.toString();
    proc.stderr += d.toString();
  });
  return proc;
}

/** The server.json written by this process (a killed server leaves a stale one behind). */
export async function infoOf(proc: ServerProcess, dataDir: string): Promise<ServerInfo> {
  return waitFor(`server.json of pid ${proc.child.pid} (output: ${proc.output})`, async () => {
    if (proc.child.exitCode !== null) throw new Error(`the server exited: ${proc.output}`);
    const text = await readFile(join(dataDir, "server.json"), "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    const info = ServerInfoSchema.parse(JSON.parse(text));
    return info.pid === proc.child.pid ? info : undefined;
  });
}

/** Resolves when the process has exited. */
export function killed(proc: ServerProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) resolve();
    else proc.child.once("exit", () => resolve());
  });
}

/** Kills what is left of `procs` (a test that failed half way) and waits for each to exit. */
export async function killAll(procs: readonly ServerProcess[]): Promise<void> {
  for (const p of procs) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await killed(p);
  }
}
