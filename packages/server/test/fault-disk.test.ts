import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Engine } from "@causeway/engine";
import type { RunJson } from "@causeway/protocol";
import { createEmbeddedRunner, passthroughEnv } from "@causeway/runner";
import { openSqliteStore } from "@causeway/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, logFeed, startServer, type RunningServer } from "../src/index.js";
import { Fault, faultyBlobs, faultyLogs, faultyStore, faultyWorkspaceFs } from "./faults.js";
import { collectingLogger, tempDir, testAuth, TOKEN, waitFor, yaml } from "./helpers.js";
import { SKIP_SMALL_DISK, SMALL_DISK_UNAVAILABLE, SmallDisk } from "./small-disk.js";

// The fault suite of issue 8 for disks and logs: a full disk in the middle of a run, and a run
// whose log is lost. Every write that fails (the log, a state archive, the workspace, the
// database row of the run's end) ends the run `error` with the reason and the file, frees its
// slot (the next run starts), never takes the server down, and Causeway goes on by itself once
// space is back. A real small file system (tmpfs) where this process may mount one; faults
// injected at the store's and the runner's file interfaces everywhere else.
//
//   writer: waits for its gate, prints ~350 KB, writes ~350 KB of state
//   second: prints one line (one runner slot: it waits while writer runs)
//   hog:    writes 8 MiB of state (more than the small work directory holds)

const FINAL = ["success", "failure", "cancelled", "error", "timeout", "lost", "skipped"];

function line(gate: string): { path: string; text: string }[] {
  return [
    {
      path: "causeway.yml",
      text: yaml`
        jobs:
          - name: writer
            type: runSh
            steps:
              - TASK:
                  script:
                    - while [ ! -f "${gate}" ]; do sleep 0.02; done
                    - seq 1 60000
                    - seq 1 60000 > "$JOB_STATE/big.txt"
          - name: second
            type: runSh
            steps:
              - TASK:
                  script:
                    - echo second ran
          - name: hog
            type: runSh
            steps:
              - TASK:
                  name: fill
                  script:
                    - head -c 8388608 /dev/zero > "$JOB_STATE/huge.bin"
      `,
    },
  ];
}

/** How a test talks to the API: status, headers and body of each answer. */
interface Api {
  call(method: string, path: string, body?: unknown): Promise<Response>;
}

async function json<T>(api: Api, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await api.call(method, path, body);
  return { status: res.status, body: (await res.json()) as T };
}

async function trigger(api: Api, job: string): Promise<RunJson> {
  const { status, body } = await json<RunJson>(api, "POST", `/jobs/${job}/runs`, {});
  expect(status, JSON.stringify(body)).toBe(201);
  return body;
}

async function runOf(api: Api, id: number): Promise<RunJson> {
  return (await json<RunJson>(api, "GET", `/runs/${id}`)).body;
}

async function until(api: Api, id: number, statuses: readonly string[], timeoutMs = 30_000): Promise<RunJson> {
  return waitFor(
    `run ${id} to be ${statuses.join(" or ")}`,
    async () => {
      const run = await runOf(api, id);
      return statuses.includes(run.status) ? run : undefined;
    },
    timeoutMs,
  );
}

const final = (api: Api, id: number): Promise<RunJson> => until(api, id, FINAL);

type ErrorAnswer = { error: { code: string; message: string } };

/** The engine, the store and the runner of one data directory, with faults at their file interfaces. */
async function faultyApp() {
  const root = await tempDir("faults");
  const dataDir = join(root, "data");
  const workDir = join(root, "work");
  const gate = join(root, "gate");
  const stores = await openSqliteStore({ dataDir });
  const faults = { store: new Fault(), logs: new Fault(), blobs: new Fault(), workspace: new Fault() };
  const blobs = faultyBlobs(stores.blobs, faults.blobs, join(dataDir, "blobs"));
  const logs = logFeed(faultyLogs(stores.logs, faults.logs, join(dataDir, "logs")));
  const store = faultyStore(stores.store, faults.store);
  const runner = createEmbeddedRunner({
    workDir,
    blobs,
    env: passthroughEnv(process.env),
    cancelGraceMs: 500,
    workspaceFs: faultyWorkspaceFs(faults.workspace),
    // Tasks wait on gate files outside their workspaces: no sandbox (sandbox.test.ts has its own).
    sandbox: "off",
  });
  const engine = new Engine({ store, blobs, logs, runner, options: { slots: 1 } });
  await engine.start();
  const logger = collectingLogger();
  const shutdown = new AbortController();
  const auth = await testAuth(stores.tokens);
  const app = buildApp({ engine, store, logs, blobs, auth, version: "test", logger, signal: shutdown.signal });
  const api: Api = {
    call: async (method, path, body) =>
      app.request(`/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
  };
  const applied = await json<{ ok: boolean }>(api, "POST", "/apply", { files: line(gate) });
  expect(applied.body.ok).toBe(true);
  return {
    api,
    dataDir,
    workDir,
    gate,
    faults,
    logger,
    /** Starts `writer` (it holds the only slot until its gate opens) and queues `second` behind it. */
    async writerThenSecond(): Promise<{ writer: RunJson; second: RunJson }> {
      const writer = await trigger(api, "writer");
      await until(api, writer.id, ["processing"]);
      const second = await trigger(api, "second");
      expect(second.status).toBe("queued");
      return { writer, second };
    },
    async close() {
      writeFileSync(gate, "");
      for (const fault of Object.values(faults)) fault.clear();
      shutdown.abort();
      await engine.stop();
      await runner.idle();
      runner.close();
      await stores.store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

type FaultyApp = Awaited<ReturnType<typeof faultyApp>>;

describe("a full disk, injected at the store's and the runner's file interfaces (ENOSPC, SQLITE_FULL)", () => {
  let t: FaultyApp;
  beforeAll(async () => {
    t = await faultyApp();
  });
  afterAll(() => t.close());

  it("a log that cannot be written ends the run error, naming the file; the slot is freed for the next run", async () => {
    rmSync(t.gate, { force: true });
    const { writer, second } = await t.writerThenSecond();
    t.faults.logs.when = (runId) => runId === String(writer.id);
    writeFileSync(t.gate, "");
    const ended = await final(t.api, writer.id);
    expect(ended.status).toBe("error");
    expect(ended.statusReason).toMatch(
      new RegExp(
        `^log write failed: ENOSPC: no space left on device, write '${join(t.dataDir, "logs", `${writer.id}.log`)}'`,
      ),
    );
    expect((await final(t.api, second.id)).status).toBe("success");
    // What was written before the failure is served, with the run's status.
    const logs = await t.api.call("GET", `/runs/${writer.id}/logs`);
    expect(logs.status).toBe(200);
    expect(logs.headers.get("x-run-status")).toBe("error");
    t.faults.logs.clear();
  });

  it("a state archive that cannot be saved ends the run error, naming the file; the next run works", async () => {
    rmSync(t.gate, { force: true });
    const { writer, second } = await t.writerThenSecond();
    t.faults.blobs.on = true;
    writeFileSync(t.gate, "");
    const ended = await final(t.api, writer.id);
    t.faults.blobs.clear();
    expect(ended.status).toBe("error");
    expect(ended.statusReason).toBe(
      `saving the run's state failed: ENOSPC: no space left on device, write '${join(t.dataDir, "blobs", "00", ".tmp")}'`,
    );
    expect((await final(t.api, second.id)).status).toBe("success");
  });

  it("a workspace that cannot be written ends the run error, naming the file; the next run works", async () => {
    rmSync(t.gate, { force: true });
    const { writer, second } = await t.writerThenSecond();
    t.faults.workspace.when = (path) => path.startsWith(`${t.workDir}/${second.id}-1/`);
    writeFileSync(t.gate, "");
    expect((await final(t.api, writer.id)).status).toBe("success");
    const ended = await final(t.api, second.id);
    expect(ended.status).toBe("error");
    expect(ended.statusReason).toBe(
      `cannot create the workspace: ENOSPC: no space left on device, write '${t.workDir}/${second.id}-1/message.json'`,
    );
    t.faults.workspace.clear();
    expect((await final(t.api, (await trigger(t.api, "second")).id)).status).toBe("success");
  });

  it("a run whose end cannot be committed frees its slot, cancel and triggers answer 507, and it ends error once a write succeeds", async () => {
    rmSync(t.gate, { force: true });
    const { writer, second } = await t.writerThenSecond();
    t.faults.store.on = true;
    writeFileSync(t.gate, "");
    // The first write after the gate opens is the run's end: it fails. Cancel says so.
    await waitFor("the run's end to fail", () => t.faults.store.failures > 0);
    const cancel = await json<ErrorAnswer>(t.api, "POST", `/runs/${writer.id}/cancel`);
    expect(cancel.status).toBe(507);
    expect(cancel.body.error.code).toBe("DISK_FULL");
    expect(cancel.body.error.message).toMatch(
      new RegExp(
        `^run ${writer.id} is over, but its end cannot be recorded yet: cannot write the database .*SQLITE_FULL`,
      ),
    );
    const refused = await json<ErrorAnswer>(t.api, "POST", "/jobs/second/runs", {});
    expect(refused.status).toBe(507);
    expect(refused.body.error.code).toBe("DISK_FULL");
    expect(refused.body.error.message).toBe(
      `cannot write the database ${join(t.dataDir, "causeway.db")}: database or disk is full (SQLITE_FULL)`,
    );
    const apply = await json<ErrorAnswer>(t.api, "POST", "/apply", { files: line(t.gate) });
    expect(apply.status).toBe(507);
    // Reads work: the run is still processing in the store.
    expect((await runOf(t.api, writer.id)).status).toBe("processing");

    // Space is back: no restart, no request needed.
    t.faults.store.clear();
    const ended = await final(t.api, writer.id);
    expect(ended.status).toBe("error");
    expect(ended.statusReason).toMatch(
      /^its end could not be recorded: cannot write the database .*causeway\.db: database or disk is full \(SQLITE_FULL\); the run itself ended success$/,
    );
    expect((await final(t.api, second.id)).status).toBe("success");
    expect((await final(t.api, (await trigger(t.api, "second")).id)).status).toBe("success");
  });
});

describe("a lost log", () => {
  let t: FaultyApp;
  beforeAll(async () => {
    t = await faultyApp();
  });
  afterAll(() => t.close());

  it.each([
    ["deleted", (path: string) => rmSync(path), "was deleted while the run wrote it", "does not exist"],
    [
      "replaced by a directory",
      (path: string) => {
        rmSync(path);
        mkdirSync(path);
      },
      "was replaced by a directory",
      "is a directory, not a file",
    ],
  ])(
    "a log %s while the run runs ends the run error, and GET /logs answers 410 LOG_NOT_FOUND",
    async (_what, lose, reason, answer) => {
      rmSync(t.gate, { force: true });
      const writer = await trigger(t.api, "writer");
      await until(t.api, writer.id, ["processing"]);
      const path = join(t.dataDir, "logs", `${writer.id}.log`);
      await waitFor("the log to have the Setup group", () => existsSync(path));
      lose(path);
      writeFileSync(t.gate, "");
      const ended = await final(t.api, writer.id);
      expect(ended.status).toBe("error");
      expect(ended.statusReason).toBe(`log lost: the log ${path} ${reason}; the run itself ended success`);

      const logs = await json<ErrorAnswer>(t.api, "GET", `/runs/${writer.id}/logs`);
      expect(logs.status).toBe(410);
      expect(logs.body.error).toMatchObject({
        code: "LOG_NOT_FOUND",
        message: `the console log of run ${writer.id} is lost: ${path} ${answer}`,
      });
      const stream = await t.api.call("GET", `/runs/${writer.id}/logs/stream`);
      expect(stream.status).toBe(410);
      expect(((await stream.json()) as ErrorAnswer).error.code).toBe("LOG_NOT_FOUND");
      rmSync(path, { recursive: true, force: true });
    },
  );

  it("a log that cannot be created (a directory in its place) ends the run error before it runs", async () => {
    rmSync(t.gate, { force: true });
    const { writer, second } = await t.writerThenSecond();
    const path = join(t.dataDir, "logs", `${second.id}.log`);
    mkdirSync(path);
    writeFileSync(t.gate, "");
    expect((await final(t.api, writer.id)).status).toBe("success");
    const ended = await final(t.api, second.id);
    expect(ended.status).toBe("error");
    expect(ended.statusReason).toBe(`log write failed: EISDIR: illegal operation on a directory, open '${path}'`);
    const logs = await json<ErrorAnswer>(t.api, "GET", `/runs/${second.id}/logs`);
    expect(logs.status).toBe(410);
    expect(logs.body.error.code).toBe("LOG_NOT_FOUND");
    rmSync(path, { recursive: true });
    expect((await final(t.api, (await trigger(t.api, "second")).id)).status).toBe("success");
  });

  it("a run that never ran has no log: 200 and an empty body, told apart from a lost one", async () => {
    rmSync(t.gate, { force: true });
    const { writer, second } = await t.writerThenSecond();
    expect((await json<RunJson>(t.api, "POST", `/runs/${second.id}/cancel`)).body.status).toBe("cancelled");
    const logs = await t.api.call("GET", `/runs/${second.id}/logs`);
    expect(logs.status).toBe(200);
    expect(logs.headers.get("x-run-status")).toBe("cancelled");
    expect(await logs.text()).toBe("");
    writeFileSync(t.gate, "");
    expect((await final(t.api, writer.id)).status).toBe("success");
  });
});

describe.skipIf(SKIP_SMALL_DISK)(
  `a full disk on a real small file system (tmpfs)${SKIP_SMALL_DISK ? `: skipped, ${SMALL_DISK_UNAVAILABLE}` : ""}`,
  () => {
    let root: string;
    let dataDisk: SmallDisk | undefined;
    let workDisk: SmallDisk | undefined;
    let server: RunningServer | undefined;
    let gate: string;
    let api: Api;

    beforeAll(async () => {
      root = await tempDir("small-disk");
      gate = join(root, "gate");
      dataDisk = SmallDisk.mount(16);
      workDisk = SmallDisk.mount(4);
      server = await startServer({
        dataDir: join(dataDisk.dir, "data"),
        workDir: join(workDisk.dir, "work"),
        port: 0,
        slots: 1,
        watch: false,
        env: passthroughEnv(process.env),
        cancelGraceMs: 500,
        logger: collectingLogger(),
        // Tasks wait on a gate file outside their workspaces: no sandbox.
        sandbox: "off",
      });
      const { url, token } = server;
      api = {
        call: (method, path, body) =>
          fetch(`${url}/api/v1${path}`, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              ...(body === undefined ? {} : { "content-type": "application/json" }),
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          }),
      };
      expect((await json<{ ok: boolean }>(api, "POST", "/apply", { files: line(gate) })).body.ok).toBe(true);
    }, 60_000);

    afterAll(async () => {
      if (existsSync(root)) writeFileSync(gate, "");
      dataDisk?.free();
      workDisk?.free();
      await server?.stop();
      dataDisk?.unmount();
      workDisk?.unmount();
      await rm(root, { recursive: true, force: true });
    });

    it("a data directory that fills during a run: the run ends error naming the file, triggers answer 507, and all goes on once space is back", async () => {
      const disk = dataDisk as SmallDisk;
      const dataDir = join(disk.dir, "data");
      const writer = await trigger(api, "writer");
      await until(api, writer.id, ["processing"]);
      const second = await trigger(api, "second");
      expect(second.status).toBe("queued");

      disk.fill();
      const refused = await json<ErrorAnswer>(api, "POST", "/jobs/second/runs", {});
      expect(refused.status).toBe(507);
      expect(refused.body.error).toMatchObject({
        code: "DISK_FULL",
        message: `cannot write the database ${join(dataDir, "causeway.db")}: database or disk is full (SQLITE_FULL)`,
      });

      // The writer prints and writes state on a full disk: its log fails, it is stopped, and its
      // end cannot be recorded either.
      writeFileSync(gate, "");
      // Once its execution is over (its workspace is removed), cancel says why it is not ended.
      const workDir = join((workDisk as SmallDisk).dir, "work");
      const ownWorkspace = (entry: string): boolean =>
        entry === `${writer.id}-1` || entry.startsWith(`${writer.id}-1-`);
      await waitFor("the writer's execution to end", () => !readdirSync(workDir).some(ownWorkspace));
      const cancel = await waitFor("cancel to say the end cannot be recorded", async () => {
        const answer = await json<ErrorAnswer>(api, "POST", `/runs/${writer.id}/cancel`);
        return answer.status === 507 ? answer.body : undefined;
      });
      expect(cancel.error.message).toContain(`run ${writer.id} is over, but its end cannot be recorded yet`);
      expect((await runOf(api, writer.id)).status).toBe("processing");

      disk.free();
      const ended = await final(api, writer.id);
      expect(ended.status).toBe("error");
      expect(ended.statusReason).toContain("(SQLITE_FULL)");
      expect(ended.statusReason).toContain(
        `log write failed: ENOSPC: no space left on device, write '${join(dataDir, "logs", `${writer.id}.log`)}'`,
      );
      // The slot is free: the run queued behind it runs, and so does a new one.
      expect((await final(api, second.id)).status).toBe("success");
      expect((await final(api, (await trigger(api, "second")).id)).status).toBe("success");
    });

    it("a work directory that is full: the run ends error naming the workspace file; the next run works once space is back", async () => {
      const disk = workDisk as SmallDisk;
      disk.fill();
      const run = await trigger(api, "second");
      const ended = await final(api, run.id);
      expect(ended.status).toBe("error");
      expect(ended.statusReason).toMatch(
        new RegExp(
          `^cannot create the workspace: ENOSPC: no space left on device, (write|mkdir|open) '${join(disk.dir, "work")}/${run.id}-1`,
        ),
      );
      disk.free();
      expect((await final(api, (await trigger(api, "second")).id)).status).toBe("success");
    });

    it("a task that fills the work directory: the run ends error saying so, keeps the previous state, and the next run works", async () => {
      const workDir = join((workDisk as SmallDisk).dir, "work");
      const run = await trigger(api, "hog");
      const ended = await final(api, run.id);
      expect(ended.status).toBe("error");
      expect(ended.statusReason).toMatch(
        new RegExp(
          `^task "fill" failed with exit code 1; the work directory ${workDir} is full \\(\\d+ bytes left\\): the task's files and console may be incomplete$`,
        ),
      );
      const state = await json<{ stateSha: string | null }>(api, "GET", "/jobs/hog/state");
      expect(state.body.stateSha).toBeNull();
      expect((await final(api, (await trigger(api, "second")).id)).status).toBe("success");
    });

    it("a log directory on a read-only file system: the run ends error, GET /logs answers 410; a writable one works again", async () => {
      const logsDir = join((dataDisk as SmallDisk).dir, "data", "logs");
      const readOnly = SmallDisk.mountReadOnly(logsDir);
      let run: RunJson;
      try {
        run = await trigger(api, "second");
        const ended = await final(api, run.id);
        expect(ended.status).toBe("error");
        expect(ended.statusReason).toBe(
          `log write failed: EROFS: read-only file system, open '${join(logsDir, `${run.id}.log`)}'`,
        );
        const logs = await json<ErrorAnswer>(api, "GET", `/runs/${run.id}/logs`);
        expect(logs.status).toBe(410);
        expect(logs.body.error.code).toBe("LOG_NOT_FOUND");
      } finally {
        readOnly.unmount(false);
      }
      expect(readdirSync(logsDir).length).toBeGreaterThan(0);
      expect((await final(api, (await trigger(api, "second")).id)).status).toBe("success");
    });
  },
);
