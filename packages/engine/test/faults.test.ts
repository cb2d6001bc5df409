import { existsSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPipeline, type LogStore, type Run, type Store } from "@causeway/core";
import { createEmbeddedRunner, passthroughEnv } from "@causeway/runner";
import { fileError, openSqliteStore, type SqliteStores } from "@causeway/store";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../src/index.js";
import { eventually } from "./harness.js";

// Writes that fail in the middle of a run (a full disk), injected at the ports the engine is
// given: the store's commit fails the way SQLite's COMMIT does on a full disk, and log appends
// fail with the kernel's ENOSPC. Each must end the run `error` with the reason, free its slot,
// and let the engine go on by itself once writes succeed again.

/** Switches a fault on and off, and counts the failures it caused. */
class Fault {
  on = false;
  failures = 0;
}

/** A store whose commits fail while `fault` is on: SQLite's own error, thrown where COMMIT fails. */
function committingFails(inner: Store, fault: Fault): Store {
  return {
    read: inner.read,
    eventsSince: (afterId, limit) => inner.eventsSince(afterId, limit),
    close: () => inner.close(),
    transaction: (fn) =>
      inner.transaction(async (tx) => {
        const result = await fn(tx);
        if (fault.on) {
          fault.failures++;
          throw new BetterSqlite3.SqliteError("database or disk is full", "SQLITE_FULL");
        }
        return result;
      }),
  };
}

/** The kernel's ENOSPC, as a write to a full device gives it. */
function enospc(): Error {
  try {
    writeFileSync("/dev/full", "x");
  } catch (error) {
    return error as Error;
  }
  return Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", syscall: "write" });
}

/** Logs whose appends fail while `fault` is on, as the file log store reports it. */
function appendsFail(inner: LogStore, fault: Fault, root: string): LogStore {
  return {
    create: (runId) => inner.create(runId),
    append: (runId, chunk) => {
      if (!fault.on) return inner.append(runId, chunk);
      fault.failures++;
      return Promise.reject(fileError(enospc(), join(root, `${runId}.log`)));
    },
    read: (runId, offset, options) => inner.read(runId, offset, options),
    size: (runId) => inner.size(runId),
    truncate: (runId, length) => inner.truncate(runId, length),
    close: (runId, written) => inner.close(runId, written),
  };
}

interface Rig {
  readonly dir: string;
  readonly engine: Engine;
  readonly stores: SqliteStores;
  readonly storeFault: Fault;
  readonly logFault: Fault;
  run(id: number): Promise<Run>;
}

let rig: Rig | undefined;
afterEach(async () => {
  if (rig === undefined) return;
  rig.storeFault.on = false;
  rig.logFault.on = false;
  await rig.engine.stop();
  await rig.stores.store.close();
  await rm(rig.dir, { recursive: true, force: true });
  rig = undefined;
});

async function makeRig(yaml: string): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), "causeway-engine-faults-"));
  const stores = await openSqliteStore({ dataDir: join(dir, "data") });
  const storeFault = new Fault();
  const logFault = new Fault();
  const runner = createEmbeddedRunner({
    workDir: join(dir, "work"),
    blobs: stores.blobs,
    env: passthroughEnv(process.env),
    cancelGraceMs: 200,
    // Tasks of these tests wait on gate files outside their workspaces: no sandbox (it hides
    // them; its own tests are in packages/runner and packages/server).
    sandbox: "off",
  });
  const engine = new Engine({
    store: committingFails(stores.store, storeFault),
    blobs: stores.blobs,
    logs: appendsFail(stores.logs, logFault, join(dir, "data", "logs")),
    runner,
    options: { slots: 1 },
  });
  await engine.start();
  const result = loadPipeline([{ path: "causeway.yml", text: yaml }]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  await engine.apply(result.pipeline);
  const made: Rig = {
    dir,
    engine,
    stores,
    storeFault,
    logFault,
    run: async (id) => (await stores.store.read.getRun(id)) as Run,
  };
  rig = made;
  return made;
}

const final = async (r: Rig, id: number): Promise<Run> =>
  eventually(async () => {
    const run = await r.run(id);
    return ["queued", "processing", "waiting"].includes(run.status) ? undefined : run;
  }, 30_000);

describe("a finish that cannot be committed (a full disk)", () => {
  it("frees the run's slot, says why on cancel, and records the run error by itself once writes succeed", async () => {
    const gate = join(tmpdir(), `causeway-gate-${process.pid}-${Date.now()}`);
    const r = await makeRig(`
jobs:
  - name: gated
    type: runSh
    steps:
      - TASK:
          script:
            - while [ ! -f "${gate}" ]; do sleep 0.02; done
            - echo done
  - name: next
    type: runSh
    steps:
      - TASK:
          script:
            - echo next ran
`);
    try {
      const gated = await r.engine.trigger("gated");
      await eventually(async () => ((await r.run(gated.id)).status === "processing" ? true : undefined));
      // One slot: the next run waits for it.
      const next = await r.engine.trigger("next");
      expect((await r.run(next.id)).status).toBe("queued");

      r.storeFault.on = true;
      writeFileSync(gate, "");
      // The run's end is the first write after the gate opens: it fails.
      await eventually(() => (r.storeFault.failures > 0 ? true : undefined));
      await expect(r.engine.cancel(gated.id)).rejects.toMatchObject({
        code: "DISK_FULL",
        message: expect.stringMatching(
          new RegExp(
            `^run ${gated.id} is over, but its end cannot be recorded yet: cannot write the database .*SQLITE_FULL`,
          ),
        ) as unknown,
      });
      await expect(r.engine.trigger("next")).rejects.toMatchObject({ code: "DISK_FULL" });
      expect((await r.run(gated.id)).status).toBe("processing");

      // Space comes back: nobody calls the engine, its retry records the end and starts the next run.
      r.storeFault.on = false;
      const ended = await final(r, gated.id);
      expect(ended.status).toBe("error");
      expect(ended.statusReason).toMatch(
        /^its end could not be recorded: cannot write the database .*causeway\.db: database or disk is full \(SQLITE_FULL\); the run itself ended success$/,
      );
      expect((await final(r, next.id)).status).toBe("success");
      expect(await r.stores.store.read.listRuns({ statuses: ["processing"] })).toEqual([]);
    } finally {
      if (existsSync(gate)) await rm(gate);
    }
  });
});

describe("a log that cannot be written", () => {
  it("stops the run, which ends error with the failed write as its reason; the next run works", async () => {
    const r = await makeRig(`
jobs:
  - name: chatty
    type: runSh
    steps:
      - TASK:
          script:
            - for i in $(seq 1 "\${LINES_TO_PRINT:-600}"); do echo "line $i"; sleep 0.05; done
`);
    const run = await r.engine.trigger("chatty");
    await eventually(async () => ((await r.run(run.id)).status === "processing" ? true : undefined));
    r.logFault.on = true;
    const ended = await final(r, run.id);
    expect(ended.status).toBe("error");
    // No "the run itself ended ...": the failure stopped the run, it did not run to its end.
    expect(ended.statusReason).toBe(
      `log write failed: ENOSPC: no space left on device, write '${join(r.dir, "data", "logs", `${run.id}.log`)}'`,
    );
    r.logFault.on = false;
    const again = await r.engine.trigger("chatty", { params: { LINES_TO_PRINT: "3" } });
    expect((await final(r, again.id)).status).toBe("success");
    expect(new TextDecoder().decode(await r.stores.logs.read(again.id))).toContain("line 3\n");
  });
});
