import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { passthroughEnv } from "@causeway/runner";
import { silentLogger, startServer } from "@causeway/server";
import { timestampLines } from "./engine-lines.js";
import { benchSandbox } from "./harness.js";

// The webhook scenario in its own process: a real server (store, engine, embedded runner, HTTP)
// on the loopback, and deliveries POSTed to it one after another. Prints one JSON object.
//
//   node bench/dist/src/webhook-scenario.js N     N deliveries
//
// The sender is a process of its own (this script with --sender), so that reading an answer
// does not wait for the server's event loop. For each delivery: the time from its answer (200,
// the version recorded) reaching the sender to the first script line of the job it triggers
// ($EPOCHREALTIME: the same wall clock), and from the request being sent to that line. The run
// is launched right after the version's commit, before the answer is written, so the first
// figure may be below zero: the job ran its first line before the sender read the answer.

const KEY = "bench-key";
if (process.argv[2] === "--sender") {
  // Reads `URL NAME` lines; answers `sentAt answeredAt status` for each, epoch milliseconds.
  const auth = `Basic ${Buffer.from(`hook:${KEY}`).toString("base64")}`;
  for await (const line of createInterface({ input: process.stdin })) {
    const [url = "", delivery = ""] = line.split(" ");
    const sent = performance.timeOrigin + performance.now();
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json", "x-github-delivery": delivery },
      body: JSON.stringify({ delivery }),
    });
    await res.arrayBuffer();
    const answered = performance.timeOrigin + performance.now();
    process.stdout.write(`${sent} ${answered} ${res.status}\n`);
  }
  process.exit(0);
}

const count = Number(process.argv[2] ?? "50");
const dir = await mkdtemp(join(tmpdir(), "causeway-bench-webhook-"));
try {
  await mkdir(join(dir, "line"));
  await writeFile(
    join(dir, "line", "causeway.yml"),
    `resources:
  - name: hook
    type: webhook
    versionTemplate:
      webhookKey: ${KEY}
jobs:
  - name: on_hook
    type: runSh
    steps:
      - IN: hook
      - TASK:
          script:
            - echo "first $EPOCHREALTIME"
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
  const sender = spawn(process.execPath, [fileURLToPath(import.meta.url), "--sender"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  // Each reply line, in order; `next` waits for the following one.
  const waiting: ((line: string) => void)[] = [];
  const ready: string[] = [];
  createInterface({ input: sender.stdout }).on("line", (line) => {
    const take = waiting.shift();
    if (take === undefined) ready.push(line);
    else take(line);
  });
  const next = (): Promise<string> =>
    new Promise((resolve) => {
      const line = ready.shift();
      if (line === undefined) waiting.push(resolve);
      else resolve(line);
    });
  const sent: number[] = [];
  const answered: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      sender.stdin.write(`${server.url}/hooks/hook bench-${i}\n`);
      const [s0 = "", a0 = "", status = ""] = (await next()).split(" ");
      if (status !== "200") throw new Error(`delivery ${i}: ${status || "no answer"}`);
      sent.push(Number(s0));
      answered.push(Number(a0));
      // One delivery at a time: the next is sent when the run it triggered is over.
      await server.engine.idle();
    }
  } finally {
    sender.stdin.end();
    await server.stop();
  }
  // The first lines' times, from the run logs (runs in delivery order).
  const firstLines = (await timestampLines(join(dir, "data", "logs"), /^first \d+[.,]\d+$/)).map(
    (l) => Number(l.slice("first ".length).replace(",", ".")) * 1000,
  );
  if (firstLines.length !== count) throw new Error(`expected ${count} runs, got ${firstLines.length} first lines`);
  const latencies = firstLines.map((t, i) => t - (answered[i] ?? Number.NaN));
  const fromSent = firstLines.map((t, i) => t - (sent[i] ?? Number.NaN));
  process.stdout.write(`${JSON.stringify({ deliveries: count, latencies_ms: latencies, sent_ms: fromSent })}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
