import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Run, RunObserver, RunSpec, RunnerRecord } from "@causeway/core";
import { openSqliteStore, type SqliteStores } from "@causeway/store";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hashSecret, RunnerHub } from "../src/index.js";
import { tempDir } from "./helpers.js";

// The hub's rules on a real store, without HTTP: capacity per pool, claims, cancels, sessions.

let stores: SqliteStores | undefined;
let hub: RunnerHub | undefined;
afterEach(async () => {
  hub?.stop();
  await stores?.store.close();
  stores = undefined;
  hub = undefined;
});

// The garbage collector on call, to see what a hub still holds.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const SETTINGS = { heartbeatMs: 50, leaseMs: 200, claimHoldMs: 100, startTimeoutMs: 150 };
const quiet: RunObserver = { onStarted: () => undefined, onLog: () => undefined };
const SUCCESS = {
  status: "success",
  reason: null,
  exitCode: 0,
  stateSha: null,
  outputs: {},
  outStateShas: {},
} as const;

/** A run stored as `status` (a lease outlives a server only while its run is processing). */
async function storedRun(status: "processing" | "success"): Promise<number> {
  const run = await stores!.store.transaction((tx) =>
    tx.insertRun({
      job: "j",
      status,
      statusReason: null,
      trigger: { kind: "manual", by: "t" },
      flow: "f",
      inputs: [],
      params: {},
      priority: 9999,
      attempt: 1,
      rerunOf: null,
      secretParams: [],
    }),
  );
  return run.id;
}

function spec(runId: number, pool?: string): RunSpec {
  return { run: { id: runId }, job: { name: `j${runId}`, runtime: { nodePool: pool } } } as unknown as RunSpec;
}

async function setUp(settings = SETTINGS): Promise<{
  hub: RunnerHub;
  register: (name: string, pool: string, capacity: number) => Promise<RunnerRecord>;
}> {
  stores = await openSqliteStore({ dataDir: join(await tempDir("hub"), "data") });
  const s = stores;
  hub = new RunnerHub({ store: s.runners, settings });
  await hub.load();
  const h = hub;
  let n = 0;
  const register = async (name: string, pool: string, capacity: number): Promise<RunnerRecord> => {
    const secret = `cwreg_${name}`;
    const now = new Date();
    await s.runners.createRegistration(
      {
        hash: hashSecret(secret),
        pool,
        createdAt: now.toISOString(),
        createdBy: "t",
        expiresAt: new Date(now.getTime() + 60_000).toISOString(),
      },
      { actor: "t", action: "runner-token-create", subject: "runners", detail: {} },
    );
    const record = await s.runners.register(hashSecret(secret), {
      name,
      pool,
      labels: [],
      capacity,
      credentialHash: hashSecret(`cwr_${name}_${n++}`),
      at: now.toISOString(),
    });
    h.updated(record);
    return h.startSession(record, capacity, [], []);
  };
  return { hub: h, register };
}

describe("the runner hub", () => {
  it("counts a pool's slots from its live active runners; a drained one keeps only the runs it holds", async () => {
    const { hub: h, register } = await setUp();
    expect(h.capacity().get("macs") ?? 0).toBe(0);
    const mac = await register("mac", "macs", 3);
    expect(h.capacity().get("macs")).toBe(3);
    const execution = h.execute(spec(1, "macs"), quiet);
    const claimed = await h.claim(mac, mac.session as string, new AbortController().signal);
    expect(claimed?.runId).toBe(1);
    h.updated({ ...mac, state: "draining" });
    expect(h.capacity().get("macs")).toBe(1);
    execution.cancel("stop");
    // Gone: no call within a lease.
    await new Promise((r) => setTimeout(r, SETTINGS.leaseMs * 2));
    expect(await execution.done).toMatchObject({ status: "cancelled" });
    expect(h.capacity().get("macs") ?? 0).toBe(0);
  });

  it("hands a pending run to the first claim of its pool only, and a cancel ends a pending run at once", async () => {
    const { hub: h, register } = await setUp();
    const linux = await register("linux", "linux", 1);
    const mac = await register("mac2", "macs", 1);
    const forMac = h.execute(spec(7, "macs"), quiet);
    expect(await h.claim(linux, linux.session as string, new AbortController().signal)).toBeUndefined();
    const pending = h.execute(spec(8, "linux"), quiet);
    pending.cancel("no longer needed");
    expect(await pending.done).toMatchObject({ status: "cancelled", reason: "no longer needed" });
    const claimed = await h.claim(mac, mac.session as string, new AbortController().signal);
    expect(claimed?.runId).toBe(7);
    forMac.cancel("done");
  });

  it("refuses the claims of an older session, and ends the runs a restarted runner no longer holds", async () => {
    const { hub: h, register } = await setUp();
    const one = await register("one", "p", 2);
    const oldSession = one.session as string;
    const execution = h.execute(spec(3, "p"), quiet);
    const claimed = await h.claim(one, oldSession, new AbortController().signal);
    expect(claimed?.runId).toBe(3);
    h.start(h.attempt(claimed!.jobToken, 3, claimed!.epoch));
    const renewed = await h.startSession(one, 2, [], []);
    await expect(h.claim(renewed, oldSession, new AbortController().signal)).rejects.toMatchObject({
      code: "RUNNER_SESSION_REPLACED",
    });
    expect(await execution.done).toMatchObject({
      status: "lost",
      reason: "runner one restarted while it ran this run",
    });
    expect(() => h.attempt(claimed!.jobToken, 3, claimed!.epoch)).toThrow(/lease is over/);
  });

  it("marks a started run lost when its lease passes without a heartbeat", async () => {
    const { hub: h, register } = await setUp();
    const one = await register("silent", "p", 1);
    const execution = h.execute(spec(4, "p"), quiet);
    const claimed = await h.claim(one, one.session as string, new AbortController().signal);
    h.start(h.attempt(claimed!.jobToken, 4, claimed!.epoch));
    const result = await execution.done;
    expect(result.status).toBe("lost");
    expect(result.reason).toMatch(/runner silent stopped reporting: no heartbeat for 0.2 s/);
  });

  it("lets go of a finished run's observer and cancel listener, and still answers its late reports for a lease", async () => {
    const { hub: h, register } = await setUp({ ...SETTINGS, leaseMs: 60_000 });
    const one = await register("finisher", "p", 1);
    let observer: RunObserver | undefined = { onStarted: () => undefined, onLog: () => undefined };
    let listener: ((reason: string) => void) | undefined = () => undefined;
    const observed = new WeakRef(observer);
    const listening = new WeakRef(listener);
    const execution = h.execute(spec(5, "p"), observer);
    const claimed = await h.claim(one, one.session as string, new AbortController().signal);
    h.onCancel(claimed!.jobToken, listener);
    observer = undefined;
    listener = undefined;
    const attempt = h.attempt(claimed!.jobToken, 5, claimed!.epoch);
    h.start(attempt);
    await h.finish(attempt, 0, SUCCESS);
    expect(await execution.done).toMatchObject({ status: "success" });
    // The hub forgets the run once its end has been taken (a turn later).
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(observed.deref()).toBeUndefined();
    expect(listening.deref()).toBeUndefined();
    // Within the lease: a repeated finish (its answer lost) is answered again, any other report fenced.
    await expect(h.finish(h.attempt(claimed!.jobToken, 5, claimed!.epoch, true), 0, SUCCESS)).resolves.toBeUndefined();
    expect(() => h.attempt(claimed!.jobToken, 5, claimed!.epoch)).toThrow(/lease is over/);
  });

  it("lists an in-process runner (the embedded one) as a live runner of the default pool, never stored", async () => {
    const { hub: h } = await setUp();
    h.embed("embedded", 2);
    expect(h.capacity().get("default")).toBe(2);
    expect((await h.list()).map((r) => [r.name, r.pool, r.capacity, r.state])).toEqual([
      ["embedded", "default", 2, "active"],
    ]);
    expect(await stores!.runners.listRunners()).toEqual([]);
  });

  it("records an upload's offset, less what the log holds back, with the log's length; the next server cuts back to it", async () => {
    const { hub: h, register } = await setUp();
    const one = await register("uploader", "p", 1);
    let length = 0;
    const rewound: number[] = [];
    const observer: RunObserver = {
      onStarted: () => undefined,
      onLog: (chunk) => void (length += chunk.byteLength),
      // The redactor holds the last 2 bytes back.
      logged: () => Promise.resolve({ length: length - 2, held: 2 }),
      rewind: (to) => {
        rewound.push(to);
        length = to;
        return Promise.resolve();
      },
    };
    const id = await storedRun("processing");
    h.execute(spec(id, "p"), observer);
    const claimed = await h.claim(one, one.session as string, new AbortController().signal);
    const attempt = h.attempt(claimed!.jobToken, id, claimed!.epoch);
    expect(await h.log(attempt, 0, new TextEncoder().encode("hello\n"))).toBe(6);
    expect(await stores!.runners.listLeases()).toMatchObject([{ runId: id, logOffset: 4, logLength: 4 }]);
    h.stop();

    // A new server process on the same store.
    const next = new RunnerHub({ store: stores!.runners, settings: SETTINGS });
    hub = next;
    await next.load();
    expect(next.adopt({ id } as Run, observer)).toBeDefined();
    const again = next.attempt(claimed!.jobToken, id, claimed!.epoch);
    // The runner uploads from what it was acknowledged: a gap, to be filled from offset 4.
    await expect(next.log(again, 6, new TextEncoder().encode("more\n"))).rejects.toMatchObject({
      code: "LOG_OFFSET_GAP",
    });
    expect(rewound).toEqual([4]);
    expect(await next.log(again, 4, new TextEncoder().encode("o\nmore\n"))).toBe(11);
    expect(length).toBe(4 + 7);
  });

  it("deletes the leases of ended runs in one batch, and a next server those it finds of runs no longer processing", async () => {
    // Leases long enough that none expires while the test waits for the batch.
    const { hub: h, register } = await setUp({ ...SETTINGS, leaseMs: 60_000 });
    const one = await register("batcher", "p", 3);
    const ids = [await storedRun("processing"), await storedRun("processing"), await storedRun("processing")];
    const executions = ids.map((id) => h.execute(spec(id, "p"), quiet));
    const attempts = [];
    for (const id of ids) {
      const claimed = await h.claim(one, one.session as string, new AbortController().signal);
      expect(claimed?.runId).toBe(id);
      const attempt = h.attempt(claimed!.jobToken, id, claimed!.epoch);
      h.start(attempt);
      attempts.push(attempt);
    }
    const leased = async (): Promise<number[]> => (await stores!.runners.listLeases()).map((l) => l.runId);
    expect(await leased()).toEqual(ids);
    // Two end; their leases go together, a moment later.
    for (const a of attempts.slice(0, 2)) await h.finish(a, 0, SUCCESS);
    await Promise.all(executions.slice(0, 2).map((e) => e.done));
    expect(await leased()).toEqual(ids);
    await vi.waitFor(async () => expect(await leased()).toEqual([ids[2]]), { timeout: 2000 });
    // The last ends and the server stops before its lease is deleted; its run is recorded over.
    await h.finish(attempts[2]!, 0, SUCCESS);
    await executions[2]!.done;
    h.stop();
    await stores!.store.transaction((tx) => tx.updateRun(ids[2]!, { status: "success" }));
    expect(await leased()).toEqual([ids[2]]);
    const next = new RunnerHub({ store: stores!.runners, settings: SETTINGS });
    hub = next;
    await next.load();
    expect(await leased()).toEqual([]);
    expect(next.adopt({ id: ids[2] } as Run, quiet)).toBeUndefined();
  });
});
