import { accessSync, constants, existsSync } from "node:fs";
import { appendFile, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { workDirPrefix } from "@causeway/runner";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, killed } from "./built.js";
import { waitFor } from "./helpers.js";
import { RemoteHarness } from "./remote-harness.js";

// Remote runners as real processes against a real server process (issue 11, design §5): pools,
// a runner killed, a runner paused past its lease (fencing), a server killed and restarted, a
// log flood. Intervals in milliseconds: heartbeat 100 ms, lease 1 s (unless said).

const FAST = [
  "--runner-heartbeat",
  "0.1",
  "--runner-lease",
  "1",
  "--runner-claim-hold",
  "1",
  "--runner-start-timeout",
  "2",
];

let harness: RemoteHarness | undefined;
beforeAll(() => ensureBuilt(), 120_000);
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

function job(name: string, pool: string | undefined, script: readonly string[], extra = ""): string {
  return [
    `  - name: ${name}`,
    `    type: runSh`,
    ...(pool === undefined ? [] : [`    runtime: { nodePool: ${pool} }`]),
    ...(extra === "" ? [] : [`    ${extra}`]),
    `    steps:`,
    `      - TASK:`,
    `          script:`,
    ...script.map((line) => `            - ${JSON.stringify(line)}`),
  ].join("\n");
}

describe("remote runners", () => {
  it("run only the jobs of their pool; a pool with no live runner keeps its runs queued, and why says so", async () => {
    const line = [
      "jobs:",
      job("on-a", "a", ["echo ran in $PWD"]),
      job("on-b", "b", ["echo ran in $PWD"]),
      job("on-c", "c", ["true"]),
    ];
    harness = await RemoteHarness.start(line.join("\n") + "\n", FAST);
    const a = await harness.startRunner("runner-a", "a");
    const b = await harness.startRunner("runner-b", "b");
    const ra = await harness.trigger("on-a");
    const rb = await harness.trigger("on-b");
    const rc = await harness.trigger("on-c");
    expect((await harness.finished(ra.id)).status).toBe("success");
    expect((await harness.finished(rb.id)).status).toBe("success");
    expect(await harness.log(ra.id)).toContain(`ran in ${a.workspaces}/`);
    expect(await harness.log(rb.id)).toContain(`ran in ${b.workspaces}/`);
    // Workspaces on tmpfs where it can be written, as the server's; else under the runner's directory.
    const onShm =
      existsSync("/dev/shm") &&
      (() => {
        try {
          accessSync("/dev/shm", constants.W_OK);
          return true;
        } catch {
          return false;
        }
      })();
    expect(a.workspaces.startsWith(onShm ? `/dev/shm/${workDirPrefix(a.workDir)}-` : join(a.workDir, "work"))).toBe(
      true,
    );
    const why = await harness.api<{ pending: { reason: string | null }[] }>("GET", "/api/v1/jobs/on-c/why");
    expect(why.pending.map((p) => p.reason)).toEqual(["waiting: no live runner in pool c"]);
    expect((await harness.run(rc.id)).status).toBe("queued");
    const listed = await harness.api<{ runners: { name: string; pool: string; state: string }[] }>(
      "GET",
      "/api/v1/runners",
    );
    expect(listed.runners.map((r) => [r.name, r.pool, r.state])).toEqual([
      ["runner-a", "a", "active"],
      ["runner-b", "b", "active"],
    ]);
  }, 60_000);

  it("mark the attempt of a runner killed mid-job lost, and its retry runs on another runner", async () => {
    const line = [
      "jobs:",
      job("slow", "p", ["echo started in $PWD", "sleep 2", "echo finished"], "retries: { max: 1, on: [lost] }"),
    ];
    harness = await RemoteHarness.start(line.join("\n") + "\n", FAST);
    const one = await harness.startRunner("one", "p");
    const two = await harness.startRunner("two", "p");
    const first = await harness.trigger("slow");
    const holder = await holderOf(harness, first.id);
    // Started: a claim its runner never started is offered again, not lost.
    await waitFor("the job to start", async () => (await harness!.log(first.id)).includes("started in"));
    const [victim, other] = holder === "one" ? [one, two] : [two, one];
    victim.child.kill("SIGKILL");
    const lost = await harness.finished(first.id);
    expect(lost.status).toBe("lost");
    expect(lost.statusReason).toMatch(new RegExp(`runner ${victim.name} stopped reporting`));
    const retry = await waitFor("the retry", async () => (await harness!.runs("slow")).find((r) => r.id !== first.id));
    expect((await harness.finished(retry.id)).status).toBe("success");
    expect(await harness.log(retry.id)).toContain(`started in ${other.workspaces}/`);
  }, 60_000);

  it("fence a runner paused past its lease: its job is killed, its late reports refused, and the job completes once elsewhere", async () => {
    const line = (root: string): string =>
      [
        "jobs:",
        job("once", "p", ["echo begun", "sleep 4", `echo done >> ${root}/marks`], "retries: { max: 1, on: [lost] }"),
      ].join("\n") + "\n";
    harness = await RemoteHarness.start(line, FAST);
    // No sandbox: the job counts its completions in a file outside its workspace.
    const one = await harness.startRunner("one", "p", ["--sandbox", "off"]);
    const two = await harness.startRunner("two", "p", ["--sandbox", "off"]);
    const first = await harness.trigger("once");
    const holder = await holderOf(harness, first.id);
    await waitFor("the job to start", async () => (await harness!.log(first.id)).includes("begun"));
    const [paused] = holder === "one" ? [one, two] : [two, one];
    paused.child.kill("SIGSTOP");
    const lost = await harness.finished(first.id);
    expect(lost.status).toBe("lost");
    const retry = await waitFor("the retry", async () => (await harness!.runs("once")).find((r) => r.id !== first.id));
    await waitFor("the retry processing", async () => (await harness!.run(retry.id)).status === "processing");
    paused.child.kill("SIGCONT");
    expect((await harness.finished(retry.id)).status).toBe("success");
    await waitFor(`the paused runner to say it stopped the job (output: ${paused.output})`, () =>
      /run \d+: .*(lease|fenced|stale|over).*; its job is stopped/.test(paused.output),
    );
    // Long enough for the paused runner's job to have finished, had it not been killed.
    await new Promise((r) => setTimeout(r, 4_500));
    expect((await readFile(join(harness.root, "marks"), "utf8")).trim().split("\n")).toEqual(["done"]);
    expect((await harness.run(first.id)).status).toBe("lost");
  }, 60_000);

  /**
   * A job printing `lines` lines on a remote runner, with a lease long enough to outlast a
   * restart; the server is SIGKILLed once the log holds line-5, `meanwhile` runs, and the server
   * starts again. Returns the run's final status and log.
   */
  async function killServerMidRun(
    lines: number,
    meanwhile: (runId: number) => Promise<void> = () => Promise.resolve(),
  ) {
    const script = [`for i in $(seq 1 ${lines}); do echo line-$i; sleep 0.05; done`];
    harness = await RemoteHarness.start(["jobs:", job("long", "p", script)].join("\n") + "\n", [
      "--runner-heartbeat",
      "0.1",
      "--runner-lease",
      "15",
      "--runner-claim-hold",
      "1",
    ]);
    await harness.startRunner("steady", "p");
    const run = await harness.trigger("long");
    await waitFor("some lines", async () => (await harness!.log(run.id)).includes("line-5"));
    harness.server.child.kill("SIGKILL");
    await killed(harness.server);
    await meanwhile(run.id);
    await harness.startServer();
    const done = await harness.finished(run.id);
    return { status: done.status, log: await harness.log(run.id) };
  }

  const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line-${i + 1}`);

  it("finish a run whose server was killed and restarted meanwhile, with its whole log", async () => {
    const { status, log } = await killServerMidRun(40);
    expect(status).toBe("success");
    expect(log.split("\n").filter((l) => /^line-\d+$/.test(l))).toEqual(numbered(40));
  }, 60_000);

  it("keep each byte once when the server died between appending an upload and recording its offset", async () => {
    // What a kill between the append of an upload and the commit of its offset leaves: bytes in
    // the log past the length recorded with the lease. The runner uploads them again.
    const { status, log } = await killServerMidRun(30, (runId) =>
      appendFile(join(harness!.dataDir, "logs", `${runId}.log`), "appended-but-not-recorded\n"),
    );
    expect(status).toBe("success");
    expect(log).not.toContain("appended-but-not-recorded");
    expect(log.split("\n").filter((l) => l.startsWith("line-"))).toEqual(numbered(30));
  }, 60_000);

  it("cap a log flood of 100 MB with a marker, while the server keeps answering and its memory stays bounded", async () => {
    const line = [
      "jobs:",
      job("flood", "p", ["yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 100000000", "echo after"]),
    ];
    harness = await RemoteHarness.start(line.join("\n") + "\n", ["--runner-heartbeat", "0.2", "--runner-lease", "10"]);
    await harness.startRunner("flooded", "p");
    const run = await harness.trigger("flood");
    let slowest = 0;
    let peakKb = 0;
    const pid = harness.server.child.pid as number;
    for (;;) {
      const started = Date.now();
      await harness.api("GET", "/api/v1/health");
      slowest = Math.max(slowest, Date.now() - started);
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const current = await harness.run(run.id);
      if (!["queued", "processing"].includes(current.status)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await harness.run(run.id)).status).toBe("success");
    const size = (await stat(join(harness.dataDir, "logs", `${run.id}.log`))).size;
    expect(size).toBeLessThan(65 * 1024 * 1024);
    expect(size).toBeGreaterThan(60 * 1024 * 1024);
    const tail = await fetch(`${harness.url}/api/v1/runs/${run.id}/logs?offset=${size - 400}`, {
      headers: { Authorization: `Bearer ${harness.token}` },
    }).then((r) => r.text());
    expect(tail).toContain("this log reached its limit");
    expect(slowest).toBeLessThan(2_000);
    expect(peakKb).toBeLessThan(400 * 1024);
  }, 120_000);
});

/** The runner whose `runs` holds the run, once it has claimed it. */
async function holderOf(h: RemoteHarness, runId: number): Promise<string> {
  return waitFor(`a runner to hold run ${runId}`, async () => {
    const { runners } = await h.api<{ runners: { name: string; runs: number[] }[] }>("GET", "/api/v1/runners");
    const holder = runners.find((r) => r.runs.includes(runId));
    return holder === undefined || (await h.run(runId)).status !== "processing" ? undefined : holder.name;
  });
}

describe("work given to remote runners", () => {
  it("carries a cancel on the heartbeat's answer, and the runner stops the job", async () => {
    const line = ["jobs:", job("long", "p", ["echo begun", "sleep 30", "echo never"])];
    harness = await RemoteHarness.start(line.join("\n") + "\n", FAST);
    await harness.startRunner("one", "p");
    const run = await harness.trigger("long");
    await waitFor("the job to begin", async () => (await harness!.log(run.id)).includes("begun"));
    await harness.api("POST", `/api/v1/runs/${run.id}/cancel`, {});
    const done = await harness.finished(run.id, 10_000);
    expect(done.status).toBe("cancelled");
    expect(await harness.log(run.id)).not.toContain("never");
  }, 60_000);

  it("gives a drained runner no work until it is activated, and drains on SIGTERM after its running job", async () => {
    const line = ["jobs:", job("quick", "p", ["echo quick"]), job("slowish", "p", ["sleep 1", "echo slowish done"])];
    harness = await RemoteHarness.start(line.join("\n") + "\n", FAST);
    const runner = await harness.startRunner("one", "p");
    await harness.api("POST", "/api/v1/runners/one/drain", {});
    const waiting = await harness.trigger("quick");
    await waitFor("why to say the pool has no live runner", async () => {
      const why = await harness!.api<{ pending: { reason: string | null }[] }>("GET", "/api/v1/jobs/quick/why");
      return why.pending[0]?.reason === "waiting: no live runner in pool p";
    });
    expect((await harness.run(waiting.id)).status).toBe("queued");
    await harness.api("POST", "/api/v1/runners/one/activate", {});
    expect((await harness.finished(waiting.id)).status).toBe("success");

    const slow = await harness.trigger("slowish");
    await waitFor("the slow job to run", async () => (await harness!.run(slow.id)).status === "processing");
    const exited = new Promise<number | null>((resolve) => runner.child.once("exit", (code) => resolve(code)));
    runner.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(runner.output).toContain("draining");
    // Its workspaces directory goes with it, once its runs are over.
    expect(existsSync(runner.workspaces)).toBe(false);
    const done = await harness.run(slow.id);
    expect(done.status).toBe("success");
    expect(await harness.log(slow.id)).toContain("slowish done");
  }, 60_000);

  it("carries state files between runs of different runners through the server", async () => {
    const line = [
      "jobs:",
      job("make", "a", ["echo made-here > $JOB_STATE/made.txt"]),
      [
        "  - name: use",
        "    type: runSh",
        "    runtime: { nodePool: b }",
        "    steps:",
        "      - IN: make",
        "      - TASK:",
        "          script:",
        '            - "cat $(shipctl get_resource_state make)/made.txt"',
      ].join("\n"),
    ];
    harness = await RemoteHarness.start(line.join("\n") + "\n", FAST);
    await harness.startRunner("ra", "a");
    await harness.startRunner("rb", "b");
    const made = await harness.trigger("make");
    expect((await harness.finished(made.id)).status).toBe("success");
    const used = await waitFor("the downstream run", async () => (await harness!.runs("use"))[0]);
    const done = await harness.finished(used.id);
    expect(done.status).toBe("success");
    expect(await harness.log(used.id)).toContain("made-here");
  }, 60_000);

  it("offers a claimed run again when its runner does not start it in time", async () => {
    const line = ["jobs:", job("once", "p", ["echo ran in $PWD"])];
    harness = await RemoteHarness.start(line.join("\n") + "\n", [...FAST, "--runner-start-timeout", "0.5"]);
    const h = harness;
    const token = await h.registrationToken("p");
    const post = async (path: string, bearer: string, body: unknown): Promise<Response> =>
      fetch(`${h.url}/api/runner/v1${path}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    const { credential } = (await (await post("/register", "", { token, name: "silent", pool: "p" })).json()) as {
      credential: string;
    };
    const { session } = (await (await post("/sessions", credential, { capacity: 1 })).json()) as { session: string };
    const run = await h.trigger("once");
    const claimed = (await (await post("/claim", credential, { session, free: 1 })).json()) as {
      runId: number;
      epoch: number;
      jobToken: string;
    };
    expect(claimed.runId).toBe(run.id);
    // The silent runner never starts it: another runner gets it, with the next epoch.
    const other = await h.startRunner("other", "p");
    expect((await h.finished(run.id)).status).toBe("success");
    expect(await h.log(run.id)).toContain(`ran in ${other.workspaces}/`);
    const late = await post(`/attempts/${run.id}/start`, claimed.jobToken, { epoch: claimed.epoch });
    expect(late.status).toBe(409);
  }, 60_000);
});

describe("runner credentials and job tokens", () => {
  it("open nothing beyond their scope, and a registration token registers once", async () => {
    const line = ["jobs:", job("one", "p", ["sleep 1"]), job("two", "p", ["sleep 1"])];
    harness = await RemoteHarness.start(line.join("\n") + "\n", FAST);
    const h = harness;
    const call = async (
      method: string,
      path: string,
      bearer: string,
      body?: unknown,
    ): Promise<{ status: number; json: unknown }> => {
      const response = await fetch(`${h.url}${path}`, {
        method,
        headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, json: text === "" ? undefined : (JSON.parse(text) as unknown) };
    };
    const code = (answer: { json: unknown }): unknown => (answer.json as { error?: { code?: string } }).error?.code;

    const token = await h.registrationToken("p");
    const registered = await call("POST", "/api/runner/v1/register", "", {
      token,
      name: "hand",
      pool: "p",
      capacity: 2,
    });
    expect(registered.status).toBe(201);
    const credential = (registered.json as { credential: string }).credential;
    const again = await call("POST", "/api/runner/v1/register", "", { token, name: "hand2", pool: "p" });
    expect([again.status, code(again)]).toEqual([401, "RUNNER_REGISTRATION_INVALID"]);
    const otherPool = await call("POST", "/api/runner/v1/register", "", {
      token: await h.registrationToken("p"),
      name: "hand3",
      pool: "q",
    });
    expect([otherPool.status, code(otherPool)]).toEqual([401, "RUNNER_REGISTRATION_INVALID"]);

    // The credential is no API token, and an API token is no credential.
    expect((await call("GET", "/api/v1/runs", credential)).status).toBe(401);
    expect((await call("POST", "/api/runner/v1/sessions", h.token, { capacity: 1 })).status).toBe(401);

    const session = (await call("POST", "/api/runner/v1/sessions", credential, { capacity: 2 })).json as {
      session: string;
    };
    const [r1, r2] = [await h.trigger("one"), await h.trigger("two")];
    const claim = async (): Promise<{ runId: number; epoch: number; jobToken: string }> =>
      (await call("POST", "/api/runner/v1/claim", credential, { session: session.session, free: 1 })).json as {
        runId: number;
        epoch: number;
        jobToken: string;
      };
    const a = await claim();
    const b = await claim();
    expect([a.runId, b.runId].sort()).toEqual([r1.id, r2.id].sort());

    // A job token acts on its own run, with its epoch, and nowhere else.
    expect(
      (await call("POST", `/api/runner/v1/attempts/${a.runId}/start`, a.jobToken, { epoch: a.epoch })).status,
    ).toBe(200);
    const crossed = await call("POST", `/api/runner/v1/attempts/${b.runId}/heartbeat`, a.jobToken, { epoch: b.epoch });
    expect([crossed.status, code(crossed)]).toEqual([403, "FORBIDDEN_ROLE"]);
    const stale = await call("POST", `/api/runner/v1/attempts/${a.runId}/heartbeat`, a.jobToken, {
      epoch: a.epoch + 1,
    });
    expect([stale.status, code(stale)]).toEqual([409, "RUNNER_FENCED"]);
    expect((await call("GET", "/api/v1/runs", a.jobToken)).status).toBe(401);
    expect((await call("POST", "/api/runner/v1/claim", a.jobToken, { session: session.session, free: 1 })).status).toBe(
      401,
    );
    const notInput = await fetch(
      `${h.url}/api/runner/v1/attempts/${a.runId}/blobs/${"0".repeat(64)}?epoch=${a.epoch}`,
      {
        headers: { Authorization: `Bearer ${a.jobToken}` },
      },
    );
    expect(notInput.status).toBe(403);

    // A gap in the console is refused with the offset to upload from; an overlap is skipped.
    const put = (offset: number, text: string): Promise<Response> =>
      fetch(`${h.url}/api/runner/v1/attempts/${a.runId}/log?offset=${offset}&epoch=${a.epoch}`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${a.jobToken}` },
        body: text,
      });
    expect(await (await put(0, "hello ")).json()).toEqual({ offset: 6 });
    const gap = await put(10, "x");
    expect(gap.status).toBe(416);
    expect(((await gap.json()) as { error: { details: unknown } }).error.details).toEqual({ offset: 6 });
    expect(await (await put(3, "lo world\n")).json()).toEqual({ offset: 12 });
    const finish = {
      epoch: a.epoch,
      logBytes: 12,
      result: { status: "success", reason: null, exitCode: 0, stateSha: null, outputs: {}, outStateShas: {} },
    };
    expect((await call("POST", `/api/runner/v1/attempts/${a.runId}/finish`, a.jobToken, finish)).status).toBe(200);
    expect((await h.finished(a.runId)).status).toBe("success");
    // Idempotent: the same finish again (its answer was lost) is answered the same, recorded once.
    expect((await call("POST", `/api/runner/v1/attempts/${a.runId}/finish`, a.jobToken, finish)).status).toBe(200);
    expect(await h.log(a.runId)).toBe("hello world\n");
    // Reported once: a late report of the same attempt is refused as fenced.
    const late = await call("POST", `/api/runner/v1/attempts/${a.runId}/heartbeat`, a.jobToken, { epoch: a.epoch });
    expect([late.status, code(late)]).toEqual([409, "RUNNER_FENCED"]);
  }, 60_000);
});
