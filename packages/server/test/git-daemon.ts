import { spawn, type ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";

/** A real `git daemon` on the loopback serving (and accepting pushes to) `base`'s repositories. */
export interface GitDaemon {
  /** The git:// URL of a repository under the base directory (`app.git`). */
  url(name: string): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Starts `git daemon --export-all --enable=receive-pack` on a free loopback port. */
export async function startGitDaemon(base: string, env: NodeJS.ProcessEnv): Promise<GitDaemon> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    "git",
    [
      "daemon",
      "--export-all",
      "--enable=receive-pack",
      "--reuseaddr",
      "--informative-errors",
      "--listen=127.0.0.1",
      `--port=${port}`,
      `--base-path=${base}`,
      base,
    ],
    { env, stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 10_000;
  let delay = 5;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`git daemon did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  return {
    url: (name) => `git://127.0.0.1:${port}/${name}`,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
