import { spawn, type ChildProcess } from "node:child_process";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createAdaptorServer } from "@hono/node-server";
import { REGISTRATION_PREFIX } from "@causeway/core";
import type { Engine } from "@causeway/engine";
import { buildApp, hashSecret, newSecret, RunnerHub, TokenAuth } from "@causeway/server";
import type { SqliteStores } from "@causeway/store";

const AGENT = fileURLToPath(new URL("../../../packages/runner/dist/agent/main.js", import.meta.url));

/** A remote runner for the engine scenarios: the hub, the runner protocol on the loopback, one agent process. */
export interface RemoteRunner {
  readonly hub: RunnerHub;
  /** Serves the protocol (once the engine exists) and starts the agent; resolves when it is connected. */
  connect(engine: Engine): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The runner of a scenario in a separate process (BENCH_REMOTE=1): the server's RunnerHub with no
 * embedded runner, its routes on 127.0.0.1, and `causeway runner` (the built agent) with
 * `slots` slots and its work directory in `dir`. What the network hop costs is this against the
 * embedded runner.
 */
export function remoteRunner(stores: SqliteStores, dir: string, slots: number): RemoteRunner {
  const hub = new RunnerHub({ store: stores.runners });
  let server: Server | undefined;
  let agent: ChildProcess | undefined;
  return {
    hub,
    async connect(engine) {
      const app = buildApp({
        engine,
        store: stores.store,
        logs: stores.logs,
        blobs: stores.blobs,
        auth: new TokenAuth(stores.tokens),
        version: "bench",
        runners: { hub, store: stores.runners },
      });
      server = createAdaptorServer({ fetch: app.fetch, hostname: "127.0.0.1" }) as Server;
      await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const token = newSecret(REGISTRATION_PREFIX);
      const now = new Date();
      await stores.runners.createRegistration(
        {
          hash: hashSecret(token),
          pool: null,
          createdAt: now.toISOString(),
          createdBy: "bench",
          expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
        },
        { actor: "bench", action: "runner-token-create", subject: "runners", detail: {} },
      );
      const child = spawn(
        process.execPath,
        [
          AGENT,
          "--server",
          url,
          "--token",
          token,
          "--work-dir",
          join(dir, "runner"),
          "--capacity",
          String(slots),
          "--name",
          "bench",
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      agent = child;
      let said = "";
      await new Promise<void>((resolve, reject) => {
        child.stderr?.on("data", (d: Buffer) => {
          said += d.toString();
          if (said.includes("connected")) resolve();
        });
        child.once("exit", (code) => reject(new Error(`the runner exited (${code}): ${said}`)));
      });
    },
    async stop() {
      if (agent !== undefined && agent.exitCode === null) {
        const exited = new Promise((resolve) => agent?.once("exit", resolve));
        agent.kill("SIGTERM");
        await exited;
      }
      hub.stop();
      await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    },
  };
}
