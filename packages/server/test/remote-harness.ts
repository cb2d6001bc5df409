import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import type { RunJson } from "@causeway/protocol";
import { infoOf, killAll, REPO, spawnServer, type ServerProcess } from "./built.js";
import { tempDir, waitFor } from "./helpers.js";

// Real server and runner processes for the remote runner tests: the built server's main with
// no embedded runner, and the built runner agent (`packages/runner/dist/agent/main.js`).

export const AGENT = join(REPO, "packages/runner/dist/agent/main.js");

/** A runner process with what it printed. */
export interface RunnerProcess {
  readonly child: ChildProcess;
  readonly name: string;
  readonly workDir: string;
  /** Where its runs' workspaces are (as it says at start: on tmpfs, else under its directory). */
  workspaces: string;
  output: string;
}

/** A free TCP port (a restarted server must come back on the same one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** A line, a data directory, a server process and the runners started against it. */
export class RemoteHarness {
  readonly root: string;
  readonly servers: ServerProcess[] = [];
  readonly runners: RunnerProcess[] = [];
  url = "";
  token = "";
  port = 0;
  readonly #serverArgs: readonly string[];

  private constructor(root: string, serverArgs: readonly string[]) {
    this.root = root;
    this.#serverArgs = serverArgs;
  }

  /** Writes the line and starts the server with the runner protocol's intervals given. */
  static async start(
    lineYaml: string | ((root: string) => string),
    serverArgs: readonly string[],
  ): Promise<RemoteHarness> {
    const root = await tempDir("cw-remote-");
    await mkdir(join(root, "line"));
    await writeFile(join(root, "line", "shippable.yml"), typeof lineYaml === "string" ? lineYaml : lineYaml(root));
    const harness = new RemoteHarness(root, serverArgs);
    harness.port = await freePort();
    await harness.startServer();
    return harness;
  }

  get dataDir(): string {
    return join(this.root, "data");
  }

  get server(): ServerProcess {
    return this.servers[this.servers.length - 1] as ServerProcess;
  }

  async startServer(): Promise<void> {
    const proc = spawnServer([
      join(this.root, "line"),
      "--data",
      this.dataDir,
      "--port",
      String(this.port),
      "--no-embedded-runner",
      "--no-watch",
      ...this.#serverArgs,
    ]);
    this.servers.push(proc);
    const info = await infoOf(proc, this.dataDir);
    this.url = info.url;
    this.token = info.token;
  }

  /** A call of the API with the admin token; the parsed body, or throws with the status. */
  async api<T>(method: string, path: string, body?: unknown, bearer = this.token): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok)
      throw Object.assign(new Error(`${method} ${path}: ${response.status} ${text}`), {
        status: response.status,
        text,
      });
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  async registrationToken(pool?: string): Promise<string> {
    const made = await this.api<{ token: string }>("POST", "/api/v1/runner-tokens", pool === undefined ? {} : { pool });
    return made.token;
  }

  /** Starts a runner process (registering it with a new token on its first start). */
  async startRunner(name: string, pool: string | undefined, extra: readonly string[] = []): Promise<RunnerProcess> {
    const workDir = join(this.root, `runner-${name}`);
    const token = await this.registrationToken(pool);
    const child = spawn(
      process.execPath,
      [
        AGENT,
        "--server",
        this.url,
        "--token",
        token,
        "--work-dir",
        workDir,
        "--name",
        name,
        "--log-flush-ms",
        "50",
        ...(pool === undefined ? [] : ["--pool", pool]),
        ...extra,
      ],
      { cwd: this.root, stdio: ["ignore", "pipe", "pipe"] },
    );
    const runner: RunnerProcess = { child, name, workDir, workspaces: "", output: "" };
    child.stdout?.on("data", (d: Buffer) => (runner.output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (runner.output += d.toString()));
    this.runners.push(runner);
    await waitFor(`runner ${name} connected (output: ${runner.output})`, () => runner.output.includes("connected"));
    runner.workspaces = /workspaces in (\S+)/.exec(runner.output)?.[1] ?? "(not said)";
    return runner;
  }

  async trigger(job: string): Promise<RunJson> {
    return this.api<RunJson>("POST", `/api/v1/jobs/${job}/runs`, {});
  }

  async runs(job: string): Promise<RunJson[]> {
    const answer = await this.api<RunJson[] | { runs: RunJson[] }>("GET", `/api/v1/runs?job=${job}`);
    return Array.isArray(answer) ? answer : answer.runs;
  }

  async run(id: number): Promise<RunJson> {
    return this.api<RunJson>("GET", `/api/v1/runs/${id}`);
  }

  async log(id: number): Promise<string> {
    const response = await fetch(`${this.url}/api/v1/runs/${id}/logs`, {
      headers: { Authorization: `Bearer ${this.token}` },
    });
    return response.text();
  }

  /** Waits for a run to reach a final status. */
  async finished(id: number, timeoutMs = 30_000): Promise<RunJson> {
    return waitFor(
      `run ${id} to finish`,
      async () => {
        const run = await this.run(id);
        return ["waiting", "queued", "processing", "waiting_approval"].includes(run.status) ? undefined : run;
      },
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    for (const runner of this.runners) {
      if (runner.child.exitCode === null && runner.child.signalCode === null) runner.child.kill("SIGKILL");
    }
    await Promise.all(
      this.runners.map(
        (r) =>
          new Promise<void>((resolve) =>
            r.child.exitCode !== null || r.child.signalCode !== null
              ? resolve()
              : r.child.once("exit", () => resolve()),
          ),
      ),
    );
    // A killed runner leaves its workspaces directory (on tmpfs: memory) to its next start.
    for (const r of this.runners)
      if (r.workspaces.startsWith("/")) await rm(r.workspaces, { recursive: true, force: true });
    await killAll(this.servers);
  }
}
