import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CausewayError, type JobDef } from "@causeway/core";
import { chooseSandbox, sandboxArgs, SHIPCTL_DIR } from "../src/index.js";
import { scrubExceptions } from "../src/sandbox.js";
import {
  SANDBOX,
  SANDBOX_SKIP,
  makeDep,
  jobOf,
  makeSpec,
  processesWith,
  Recorder,
  scriptJob,
  tempDir,
  testRunner,
  uniqueSleep,
  waitFor,
} from "./helpers.js";

// Tasks in a bubblewrap sandbox (docs/semantics.md "What a task can see"): real bwrap, real
// task workers, a data directory laid out as the server's. Each case that shows a file is
// hidden also shows that the same task reads it without the sandbox, so no case passes because
// of a wrong path.

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

/** A data directory as the server's, its workspaces inside it (the fallback without /dev/shm). */
async function dataDir(): Promise<{ data: string; work: string }> {
  const data = `${dir}/data`;
  await mkdir(`${data}/workspaces`, { recursive: true, mode: 0o700 });
  await writeFile(`${data}/server.json`, '{"token":"admin-token-value"}\n', { mode: 0o600 });
  await writeFile(`${data}/causeway.db`, "SQLite format 3\0 every run's parameters\n", { mode: 0o600 });
  return { data, work: `${data}/workspaces` };
}

/** A runSh job of several TASK steps, each with its script lines. */
function tasksJob(tasks: readonly (readonly string[])[]): JobDef {
  const steps = tasks.map(
    (lines) => `      - TASK:\n          script:\n${lines.map((l) => `            - ${JSON.stringify(l)}`).join("\n")}`,
  );
  return jobOf(["jobs:\n  - name: job\n    type: runSh\n    steps:", ...steps].join("\n"));
}

describe.skipIf(SANDBOX_SKIP !== undefined)("a task in the sandbox", () => {
  it("is available here (bwrap works): CI installs bubblewrap, so there this must hold", () => {
    expect(SANDBOX).toMatchObject({ kind: "bwrap" });
  });

  it("cannot read server.json or the database, though its workspace is inside the data directory", async () => {
    const { data, work } = await dataDir();
    const lines = [`cat ${data}/server.json`, `cat ${data}/causeway.db`];
    const outside = testRunner(work, { sandbox: "off", sandboxHidden: [data] });
    const plain = await outside.run(makeSpec(scriptJob(lines)));
    expect(plain.result.status).toBe("success");
    expect(plain.rec.outputLines).toContain('{"token":"admin-token-value"}');

    const { run } = testRunner(work, { sandbox: "required", sandboxHidden: [data] });
    for (const line of lines) {
      const { result, rec } = await run(makeSpec(scriptJob([line])));
      expect(result.status).toBe("failure");
      expect(rec.text).toMatch(/No such file or directory/);
      expect(rec.text).not.toContain("admin-token-value");
    }
    // Nothing of the data directory is there but the path down to this run's workspace, in
    // the run's slot (with the link /build goes through).
    const spec = makeSpec(scriptJob([`ls -A ${data}`, `ls -A ${work}`, `ls -A ${work}/slot-0`]));
    const listing = await run(spec);
    expect(listing.result.status).toBe("success");
    expect(listing.rec.outputLines).toEqual(["workspaces", "slot-0", ".build", `${spec.run.id}-1`]);
  });

  it("cannot read another run's workspace", async () => {
    const { run } = testRunner(dir, { sandbox: "required", keepWorkspaces: true });
    const first = makeSpec(scriptJob(['echo "mine only" > "$SHARED_DIR/note"']));
    expect((await run(first)).result.status).toBe("success");
    const note = `${dir}/${first.run.id}-1/shared/note`;
    const { result, rec } = await run(makeSpec(scriptJob([`cat ${note}`])));
    expect(result.status).toBe("failure");
    expect(rec.text).toMatch(/No such file or directory/);
    // The same read without the sandbox works: the path is right.
    const plain = await testRunner(dir, { sandbox: "off" }).run(makeSpec(scriptJob([`cat ${note}`])));
    expect(plain.rec.outputLines).toContain("mine only");
  });

  it("cannot see the workspace of a run running at the same time in another slot", async () => {
    const { runner } = testRunner(dir, { sandbox: "required" });
    // B (slot 0) writes a note in its workspace and waits for the test to let it end.
    const b = makeSpec(
      scriptJob(['echo "b only" > "$SHARED_DIR/note"', 'until [ -e "$SHARED_DIR/go" ]; do sleep 0.02; done']),
    );
    const bDone = runner.execute(b, new Recorder()).done;
    const bShared = `${dir}/slot-0/${b.run.id}-1/shared`;
    await waitFor(() => existsSync(`${bShared}/note`), 10_000, "run B's note");
    // The path is right: outside the sandbox the note is there.
    expect(readFileSync(`${bShared}/note`, "utf8")).toBe("b only\n");
    // A, at the same time, in slot 1: B's workspace is not there, nor is slot 0.
    const a = makeSpec(
      scriptJob([
        `cat ${bShared}/note 2>/dev/null || echo unseen`,
        `ls -A ${dir}`,
        'ls -A "$(dirname "$JOB_PATH")"',
        '[ /build -ef "$JOB_PATH" ] && echo build-is-mine',
      ]),
    );
    const rec = new Recorder();
    const aResult = await runner.execute(a, rec).done;
    expect(aResult.status).toBe("success");
    expect(rec.outputLines).toEqual(["unseen", "slot-1", ".build", `${a.run.id}-1`, "build-is-mine"]);
    await writeFile(`${bShared}/go`, "");
    expect((await bDone).status).toBe("success");
  });

  it("runs the next run of a slot with /build at its own workspace, nothing of the last run left", async () => {
    // A work directory under /tmp: the slot is a mount inside the sandbox's private /tmp, and
    // the directories on the way to it (this one) are the sandbox's, emptied but for that way.
    const work = await mkdtemp("/tmp/causeway-slots-");
    try {
      const { run } = testRunner(work, { sandbox: "required" });
      const first = makeSpec(
        scriptJob([
          "echo one > /build/shared/mark",
          "echo tmp > /tmp/left",
          'echo home > "$HOME/left"',
          `echo way > ${work}/left`,
        ]),
      );
      expect((await run(first)).result.status).toBe("success");
      const second = makeSpec(
        scriptJob([
          '[ /build -ef "$JOB_PATH" ] && echo build-is-mine',
          "ls -A /build/shared",
          'ls -A "$(dirname "$JOB_PATH")"',
          `ls -A /tmp "$HOME" ${work} | grep -c left || true`,
          `ls -A ${work}`,
        ]),
      );
      const { result, rec } = await run(second);
      expect(result.status).toBe("success");
      expect(rec.outputLines).toEqual(["build-is-mine", ".build", `${second.run.id}-1`, "0", "slot-0"]);
      expect(`${work}/slot-0/${second.run.id}-1`).toBe(rec.text.match(/workspace: (\S+)/)?.[1]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it("ends what a run left running outside its task's group when the run ends", async () => {
    const { run } = testRunner(dir, { sandbox: "required" });
    const sleep = uniqueSleep();
    // setsid: out of the task's process group, so no leftover SIGTERM or SIGKILL reaches it; the
    // task ends once it escaped (else the task's end may SIGTERM it before it does).
    const first = await run(
      makeSpec(
        scriptJob([
          `setsid bash -c ': > /tmp/escaped; exec sleep ${sleep}' > /dev/null 2>&1 < /dev/null &`,
          "until [ -e /tmp/escaped ]; do sleep 0.01; done",
          `pgrep -f ${sleep} > /dev/null && echo running`,
        ]),
      ),
    );
    expect(first.result.status).toBe("success");
    expect(first.rec.outputLines).toEqual(["running"]);
    await waitFor(() => processesWith(sleep).length === 0, 5_000, "the escaped sleep to be killed");
    // The next run of the slot (slot 0 again) finds nothing of it.
    const { result, rec } = await run(
      makeSpec(scriptJob([`pgrep -f ${sleep} || echo none`, "test -e /tmp/escaped || echo clean"])),
    );
    expect(result.status).toBe("success");
    expect(rec.outputLines).toEqual(["none", "clean"]);
  });

  it("ends what a run left running when its last task never ran (an earlier one failed)", async () => {
    const { run } = testRunner(dir, { sandbox: "required" });
    const sleep = uniqueSleep();
    // The worker scrubs the sandbox after the run's last task (an L before its request); here
    // that task never starts, and the run's end asks for the scrub (R) itself.
    const job = tasksJob([
      [
        `setsid bash -c ': > /tmp/escaped; exec sleep ${sleep}' > /dev/null 2>&1 < /dev/null &`,
        "until [ -e /tmp/escaped ]; do sleep 0.01; done",
        "exit 3",
      ],
      ["echo never"],
    ]);
    const { result, rec } = await run(makeSpec(job));
    expect(result.status).toBe("failure");
    expect(rec.text).not.toContain("never\n");
    await waitFor(() => processesWith(sleep).length === 0, 5_000, "the escaped sleep to be killed");
  });

  it("reads its IN files at /build/IN/<res>/ (Shippable's path) and under $JOB_PATH, and writes its state", async () => {
    const { run } = testRunner(dir, { sandbox: "required" });
    const conf = makeDep("conf", "params", { version: { versionName: "v7", propertyBag: { params: { A: "1" } } } });
    const { result, rec } = await run(
      makeSpec(
        scriptJob([
          "jq -r .version.versionName /build/IN/conf/version.json",
          'jq -r .version.versionName "$JOB_PATH/IN/conf/version.json"',
          '[ /build -ef "$JOB_PATH" ] && echo same-dir',
          "shipctl get_resource_version_name conf",
          'echo done > "$JOB_STATE/out.txt"',
        ]),
        { dependencies: [conf] },
      ),
    );
    expect(rec.outputLines).toEqual(["v7", "v7", "same-dir", "v7"]);
    expect(result.status).toBe("success");
    expect(result.stateSha).not.toBeNull();
  });

  it("runs the tools a line needs (bash, coreutils, git, jq) with a HOME and /tmp of its own", async () => {
    const { run } = testRunner(dir, { sandbox: "required" });
    const { result, rec } = await run(
      makeSpec(
        scriptJob([
          "git init -q /tmp/r && git -C /tmp/r -c user.name=t -c user.email=t@e commit -q --allow-empty -m x",
          "git -C /tmp/r log --format=%s",
          `echo '{"a":[1,2]}' | jq -c '.a | length'`,
          "sort -r <<< $'a\\nb' | head -n 1 | tr a-z A-Z",
          'touch "$HOME/x" /tmp/y && ls "$HOME/x" /tmp/y | wc -l',
        ]),
      ),
    );
    expect(result.status).toBe("success");
    expect(rec.outputLines).toEqual(["x", "2", "B", "2"]);
  });

  it("sees none of the server's processes", async () => {
    const { run } = testRunner(dir, { sandbox: "required" });
    const { result, rec } = await run(
      makeSpec(
        scriptJob([
          `test -e /proc/${process.pid} && echo server-seen || echo server-unseen`,
          "ls /proc | grep -c '^[0-9]'",
        ]),
      ),
    );
    expect(result.status).toBe("success");
    expect(rec.outputLines[0]).toBe("server-unseen");
    // bwrap's init, the task's bash, ls and grep: the sandbox's own PID namespace.
    expect(Number(rec.outputLines[1])).toBeLessThan(8);
  });

  it("gets its secret parameters in its environment, as outside a sandbox", async () => {
    const { run } = testRunner(dir, { sandbox: "required" });
    const job = scriptJob(['test "$TOKEN" = "s3cr3t value" && echo secret-ok']);
    const spec = makeSpec(job, { params: { TOKEN: "s3cr3t value" } });
    const { result, rec } = await run({ ...spec, run: { ...spec.run, secretParams: ["TOKEN"] } });
    expect(result.status).toBe("success");
    expect(rec.outputLines).toEqual(["secret-ok"]);
  });

  it("runs without task workers too (launcher: false)", async () => {
    const { data, work } = await dataDir();
    const { run } = testRunner(work, { sandbox: "required", launcher: false, sandboxHidden: [data] });
    const { result, rec } = await run(makeSpec(scriptJob(["ls /build", `cat ${data}/server.json || echo hidden`])));
    expect(result.status).toBe("success");
    expect(rec.outputLines).toContain("hidden");
    expect(rec.outputLines).toContain("scripts");
  });
});

describe.skipIf(SANDBOX_SKIP !== undefined)("a task worker in a slot's sandbox", () => {
  it("sends what a task left behind SIGTERM, then has the worker SIGKILL it after the grace", async () => {
    const { run } = testRunner(dir, { sandbox: "required", cancelGraceMs: 300 });
    const sleep = uniqueSleep();
    // A leftover of the first task that ignores SIGTERM (it is ready before the task ends, else
    // the worker's SIGTERM may come first): only the SIGKILL after the grace ends it, and the
    // runner cannot signal its group (its id is of the sandbox's PID namespace): the worker
    // does, while the second task waits for it to be gone.
    const job = tasksJob([
      [`(trap '' TERM; : > /tmp/ignoring; exec sleep ${sleep}) &`, "until [ -e /tmp/ignoring ]; do sleep 0.01; done"],
      [
        `pgrep -f ${sleep} > /dev/null && echo still-there`,
        `for i in $(seq 100); do pgrep -f ${sleep} > /dev/null || break; sleep 0.05; done`,
        `pgrep -f ${sleep} > /dev/null || echo gone`,
      ],
    ]);
    const { result, rec } = await run(makeSpec(job));
    expect(result.status).toBe("success");
    expect(rec.outputLines).toEqual(["still-there", "gone"]);
  });
});

describe("choosing the sandbox", () => {
  it("is off when asked, and says so", () => {
    expect(chooseSandbox({ mode: "off", env: {}, shipctlDir: SHIPCTL_DIR, hidden: [] })).toEqual({
      kind: "none",
      reason: "the sandbox is off (--sandbox off)",
    });
  });

  it("runs tasks without one when bwrap is not on the PATH (auto), and refuses to (required)", () => {
    const env = { PATH: `${dir}/no-bin` };
    expect(chooseSandbox({ mode: "auto", env, shipctlDir: SHIPCTL_DIR, hidden: [] })).toEqual({
      kind: "none",
      reason: "bwrap not found (apt-get install bubblewrap)",
    });
    let error: unknown;
    try {
      chooseSandbox({ mode: "required", env, shipctlDir: SHIPCTL_DIR, hidden: [] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CausewayError);
    expect((error as CausewayError).code).toBe("RUNNER_SANDBOX_UNAVAILABLE");
    expect(() => testRunner(dir, { sandbox: "required", env })).toThrow(/bwrap not found/);
  });

  it("keeps the mounts inside the private directories at a run's end, and the way to them, emptied", () => {
    const args = [
      "--tmpfs",
      "/tmp",
      "--tmpfs",
      "/root",
      "--ro-bind",
      "/root/.cargo/bin",
      "/root/.cargo/bin",
      "--ro-bind",
      "/usr",
      "/usr",
      "--bind",
      "/tmp/w/slot-0",
      "/tmp/w/slot-0",
      "--symlink",
      "/tmp/w/slot-0/.build",
      "/build",
      "--ro-bind",
      "/root/.local/lib/x/bin",
      "/root/.local/lib/x/bin",
    ];
    expect(scrubExceptions(["/tmp", "/root"], args)).toEqual([
      "/root/.cargo/bin",
      "/tmp/w/slot-0",
      "/root/.local/lib/x/bin",
      "+/root/.cargo",
      "+/tmp/w",
      "+/root/.local/lib/x",
      "+/root/.local/lib",
      "+/root/.local",
    ]);
    // Mounts outside them, and the private directories themselves, are not the scrub's.
    expect(scrubExceptions(["/home/ci"], args)).toEqual([]);
  });

  it("shows shared directories read-write, last (over the tmpfs of /tmp), never a hidden or a missing one", () => {
    const dirs: Record<string, { type: "dir" }> = {
      "/tmp/deploys": { type: "dir" },
      "/srv/causeway/data": { type: "dir" },
    };
    const args = sandboxArgs(
      { PATH: "" },
      "/app/shipctl",
      ["/srv/causeway"],
      { kind: (p) => dirs[p], realpath: () => undefined },
      ["/tmp/deploys", "/srv/causeway/data", "/nowhere"],
    );
    expect(args.slice(-6)).toEqual([
      "--ro-bind",
      "/app/shipctl",
      "/app/shipctl",
      "--bind",
      "/tmp/deploys",
      "/tmp/deploys",
    ]);
    expect(args.indexOf("--tmpfs")).toBeLessThan(args.indexOf("--bind"));
  });

  it("shows system directories and links as they are, PATH's other directories read-only, never a hidden one", () => {
    const dirs: Record<string, { type: "dir" } | { type: "link"; target: string }> = {
      "/usr": { type: "dir" },
      "/bin": { type: "link", target: "usr/bin" },
      "/etc": { type: "dir" },
      "/opt": { type: "dir" },
      "/srv/tools/bin": { type: "dir" },
      "/srv/causeway/bin": { type: "dir" },
    };
    const args = sandboxArgs(
      { PATH: "/usr/bin:/srv/tools/bin:/srv/causeway/bin:relative", HOME: "/home/ci", TMPDIR: "/tmp/x" },
      "/app/shipctl",
      ["/srv/causeway", "/opt/causeway-data"],
      { kind: (p) => dirs[p], realpath: (p) => (p === "/etc/resolv.conf" ? "/run/resolve/resolv.conf" : p) },
    );
    expect(args).toEqual([
      "--unshare-all",
      "--share-net",
      "--die-with-parent",
      "--ro-bind",
      "/usr",
      "/usr",
      "--symlink",
      "usr/bin",
      "/bin",
      "--ro-bind",
      "/etc",
      "/etc",
      // /opt holds a hidden directory: not shown.
      "--ro-bind",
      "/run/resolve",
      "/run/resolve",
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      "--tmpfs",
      "/tmp",
      "--tmpfs",
      "/home/ci",
      "--ro-bind",
      "/srv/tools/bin",
      "/srv/tools/bin",
      "--ro-bind",
      "/app/shipctl",
      "/app/shipctl",
    ]);
  });
});
