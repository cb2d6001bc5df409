import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NotificationsSchema } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, infoOf, killAll, killed, spawnServer, type ServerProcess } from "./built.js";
import { tempDir, waitFor } from "./helpers.js";

// The notification outbox's settings of the server process (docs/api.md "Starting the server"):
// flags and environment variables of the real built server, checked at boot.

describe("the outbox's settings", () => {
  let root: string;
  const procs: ServerProcess[] = [];
  const spawn = (args: string[], env: NodeJS.ProcessEnv = {}): ServerProcess => {
    const proc = spawnServer(args, { ...process.env, NO_COLOR: "1", ...env });
    procs.push(proc);
    return proc;
  };

  beforeAll(async () => {
    ensureBuilt();
    root = await tempDir("notify-settings");
  }, 180_000);

  afterAll(async () => {
    await killAll(procs);
    await rm(root, { recursive: true, force: true });
  });

  it("lists every bad setting at once, naming the flag or the environment variable given", async () => {
    const proc = spawn(
      [join(root, "none"), "--notify-timeout", "0", "--notify-retry", "5", "--notify-retry-max", "2"],
      { CAUSEWAY_NOTIFY_ATTEMPTS: "many", CAUSEWAY_NOTIFY_CONCURRENCY: "300" },
    );
    await killed(proc);
    expect(proc.child.exitCode).toBe(2);
    for (const problem of [
      'causeway-server: --notify-timeout must be an integer from 1 to 600, got "0"\n',
      'causeway-server: CAUSEWAY_NOTIFY_ATTEMPTS must be an integer from 1 to 1000, got "many"\n',
      'causeway-server: CAUSEWAY_NOTIFY_CONCURRENCY must be an integer from 1 to 256, got "300"\n',
      "causeway-server: --notify-retry-max must not be less than --notify-retry (5 s), got 2 s\n",
    ])
      expect(proc.stderr).toContain(problem);
    expect(proc.stderr).toContain("usage: causeway-server");
  });

  describe("given, they decide how the outbox sends", () => {
    // A receiver that never answers, counting the requests it holds at once.
    let receiver: Server;
    let url = "";
    let open = 0;
    let mostOpen = 0;
    const sockets = new Set<Socket>();

    beforeAll(async () => {
      receiver = createServer((req) => {
        open++;
        mostOpen = Math.max(mostOpen, open);
        req.resume();
        req.on("close", () => open--);
      });
      receiver.on("connection", (s: Socket) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
      });
      await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
      const address = receiver.address();
      url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
    });

    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    });

    it("one at a time, each within its timeout, retried after the wait, failed after the attempts", async () => {
      const dir = join(root, "line");
      const data = join(root, "data");
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, "causeway.yml"),
        `
resources:
  - name: hook
    type: notification
    versionTemplate:
      recipients: ["${url}/a", "${url}/b"]
jobs:
  - name: ping
    type: runSh
    steps:
      - TASK:
          script: [true]
    on_success:
      NOTIFY: hook
`,
      );
      const proc = spawn(
        [
          dir,
          "--port",
          "0",
          "--data",
          data,
          "--notify-attempts",
          "2",
          "--notify-retry",
          "3",
          "--notify-retry-max",
          "3",
        ],
        {
          CAUSEWAY_NOTIFY_TIMEOUT: "1",
          CAUSEWAY_NOTIFY_CONCURRENCY: "1",
        },
      );
      const { url: server, token } = await infoOf(proc, data);
      const api = async (method: string, path: string): Promise<unknown> => {
        const res = await fetch(`${server}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}` } });
        return res.json();
      };
      await api("POST", "/jobs/ping/runs");
      // After a failed attempt the next waits --notify-retry, jittered down to half: 1.5 to 3 s
      // (the default would be at most 1 s).
      const waiting = await waitFor("a first attempt to fail", async () => {
        const { notifications } = NotificationsSchema.parse(await api("GET", "/notifications?state=pending"));
        return notifications.find((n) => n.attempts === 1 && n.lastError !== null && n.nextAttemptAt !== null);
      });
      expect(Date.parse(waiting.nextAttemptAt ?? "") - Date.now()).toBeGreaterThan(1200);
      const failed = await waitFor(
        "both deliveries to fail",
        async () => {
          const { notifications } = NotificationsSchema.parse(await api("GET", "/notifications?state=failed"));
          return notifications.length === 2 ? notifications : undefined;
        },
        30_000,
      );
      for (const n of failed) {
        expect(n).toMatchObject({ state: "failed", attempts: 2 });
        expect(n.lastError).toMatch(/^no answer from 127\.0\.0\.1:\d+ within 1000 ms$/);
      }
      // Concurrency 1: never two requests at once (the default, 4, sends both together).
      expect(mostOpen).toBe(1);
      proc.child.kill("SIGTERM");
      await killed(proc);
    }, 60_000);
  });
});
