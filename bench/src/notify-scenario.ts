import { createServer } from "node:http";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { passthroughEnv } from "@causeway/runner";
import { silentLogger, startServer } from "@causeway/server";
import { benchSandbox } from "./harness.js";

// The notification scenario in its own process: a real server (store, engine, embedded runner,
// outbox worker) and a webhook receiver (node:http) on the loopback. Prints one JSON object.
//
//   node bench/dist/src/notify-scenario.js N     N runs, one after another
//
// For each run of a job whose on_success notifies the receiver: the time from the run's end
// being committed (the engine publishes its final `run` event right after the commit of
// finishRun) to the receiver getting the notification's request.

const count = Number(process.argv[2] ?? "50");
const dir = await mkdtemp(join(tmpdir(), "causeway-bench-notify-"));
const received: number[] = [];
let onRequest: (() => void) | undefined;
const receiver = createServer((req, res) => {
  received.push(performance.now());
  req.resume();
  req.on("end", () => {
    res.writeHead(200).end();
    onRequest?.();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const address = receiver.address();
const port = typeof address === "object" && address !== null ? address.port : 0;
try {
  await mkdir(join(dir, "line"));
  await writeFile(
    join(dir, "line", "causeway.yml"),
    `resources:
  - name: hook
    type: notification
    versionTemplate:
      method: webhook
      recipients: ["http://127.0.0.1:${port}/notify"]
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
  const server = await startServer({
    dir: join(dir, "line"),
    dataDir: join(dir, "data"),
    port: 0,
    watch: false,
    env: passthroughEnv(process.env),
    sandbox: benchSandbox(process.env.BENCH_SANDBOX),
    logger: silentLogger,
  });
  const ended: number[] = [];
  const off = server.engine.subscribe((event) => {
    if (event.type === "run" && event.payload.status === "success") ended.push(performance.now());
  });
  try {
    for (let i = 0; i < count; i++) {
      const got = new Promise<void>((resolve) => (onRequest = resolve));
      await server.engine.trigger("ping", { user: "bench" });
      await got;
      await server.engine.idle();
    }
  } finally {
    off();
    await server.stop();
  }
  if (ended.length !== count || received.length !== count)
    throw new Error(`expected ${count} ends and requests, got ${ended.length} and ${received.length}`);
  const latencies = received.map((t, i) => t - (ended[i] ?? Number.NaN));
  process.stdout.write(`${JSON.stringify({ runs: count, latencies_ms: latencies })}\n`);
} finally {
  receiver.close();
  await rm(dir, { recursive: true, force: true });
}
