import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NotificationsSchema, RunSchema, type ServerInfo } from "@causeway/protocol";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, infoOf, killAll, killed, spawnServer, type ServerProcess } from "./built.js";
import { tempDir, waitFor, yaml } from "./helpers.js";
import { startReceiver, type Receiver } from "./notify-harness.js";

// At least once across a crash (docs/semantics.md "Notifications"): the built server process is
// SIGKILLed while a notification's request is at the receiver, before the server could record
// the answer. At the next start the delivery is pending and is sent again, with the same
// X-Causeway-Delivery header, so the receiver can tell it is a repeat.

const procs: ServerProcess[] = [];
let root = "";
let rx: Receiver | undefined;

beforeAll(() => {
  ensureBuilt();
}, 180_000);

afterEach(async () => {
  await killAll(procs.splice(0));
  await rx?.stop();
  await rm(root, { recursive: true, force: true });
});

async function start(dir: string, dataDir: string): Promise<ServerInfo> {
  const proc = spawnServer([dir, "--port", "0", "--data", dataDir]);
  procs.push(proc);
  return infoOf(proc, dataDir);
}

async function api(info: ServerInfo, method: string, path: string): Promise<unknown> {
  const res = await fetch(`${info.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${info.token}`, "content-type": "application/json" },
    ...(method === "POST" ? { body: "{}" } : {}),
  });
  return res.json();
}

describe("a notification across a crash of the server (fault suite)", () => {
  it("killed while the receiver holds the request: sent again at the next start, named by the same delivery id", async () => {
    rx = await startReceiver(() => "hang");
    root = await tempDir("notify-crash");
    const dir = join(root, "line");
    const dataDir = join(root, "data");
    await mkdir(dir);
    await writeFile(
      join(dir, "causeway.yml"),
      yaml`
        resources:
          - name: hook
            type: notification
            versionTemplate:
              recipients: ["${rx.url}/h"]
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
    const first = await start(dir, dataDir);
    const run = RunSchema.parse(await api(first, "POST", "/jobs/ping/runs"));
    await waitFor("the notification at the receiver", () => rx?.requests.length === 1);
    const proc = procs[procs.length - 1] as ServerProcess;
    proc.child.kill("SIGKILL");
    await killed(proc);

    rx.answer = () => 200;
    const second = await start(dir, dataDir);
    const [delivery] = await waitFor("the delivery to be delivered", async () => {
      const { notifications } = NotificationsSchema.parse(await api(second, "GET", "/notifications"));
      return notifications.every((n) => n.state === "delivered") && notifications.length > 0
        ? notifications
        : undefined;
    });
    expect(delivery).toMatchObject({ runId: run.id, event: "success", attempts: 2 });
    expect(rx.requests.map((r) => r.headers["x-causeway-delivery"])).toEqual([
      String(delivery?.id),
      String(delivery?.id),
    ]);
    expect(rx.requests.map((r) => r.body)).toEqual([rx.requests[0]?.body, rx.requests[0]?.body]);
  }, 60_000);
});
