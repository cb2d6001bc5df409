import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunSchema, type RunJson } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { silentLogger, startServer, type RunningServer } from "@causeway/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { buildCli, runInPty, runPiped, startInPty } from "./pty.js";

// `causeway logs` and `causeway run` as a person sees them: the built binary on a real
// pseudo-terminal (colours, folding, the live view) and through a pipe (plain text, --raw,
// --json), against the real server (SQLite, engine, embedded runner running bash) started
// in-process on a free port; the binary finds it by the data directory's server.json.

const ESC = "\u001b";
const ANSI = new RegExp(`${ESC}\\[[0-9;]*[A-Za-z]`, "g");
const plain = (s: string): string => s.replace(ANSI, "");

let root = "";
let dataDir = "";
let gate = "";
let server: RunningServer;
let greet: RunJson;
let broken: RunJson;

const line = (gatePath: string): string => `jobs:
  - name: greet
    type: runSh
    steps:
      - TASK:
          name: hello
          script:
            - echo "hello from $JOB_NAME"
            - |
              for i in 1 2; do
                echo "line $i"
              done
            - seq 1 3000
  - name: broken
    type: runSh
    steps:
      - TASK:
          name: check
          script:
            - echo checking
            - ls /nope-causeway
            - echo never
    on_failure:
      script:
        - echo "check failed"
  - name: gated
    type: runSh
    steps:
      - TASK:
          name: wait
          script:
            - echo "before the gate"
            - for i in $(seq 600); do [ -e ${gatePath} ] && break; sleep 0.05; done
            - echo "after the gate"
`;

beforeAll(async () => {
  buildCli();
  root = await mkdtemp(join(tmpdir(), "causeway-cli-console-"));
  dataDir = join(root, "data");
  gate = join(root, "gate");
  await mkdir(join(root, "line"));
  await writeFile(join(root, "line", "causeway.yml"), line(gate));
  server = await startServer({
    port: 0,
    dataDir,
    dir: join(root, "line"),
    watch: false,
    env: passthroughEnv(process.env),
    cancelGraceMs: 500,
    logger: silentLogger,
    // A job waits on a gate file outside its workspace: no sandbox (it hides the file).
    sandbox: "off",
  });
  greet = await ran("greet");
  broken = await ran("broken");
  expect([greet.status, broken.status]).toEqual(["success", "failure"]);
}, 180_000);

afterAll(async () => {
  await server.stop();
  await rm(root, { recursive: true, force: true });
});

const cmd = (...argv: string[]): string[] => [...argv, "--data", dataDir];

/** Triggers `job` and waits for its end through the binary; returns the final run. */
async function ran(job: string): Promise<RunJson> {
  const run = await runPiped(cmd("trigger", job, "--wait", "--json"));
  expect(run.err).toBe("");
  return RunSchema.parse(JSON.parse(run.out));
}

describe("causeway logs on a terminal", () => {
  it("shows one header per group and each command once, with exit codes and durations, in colour, without markers", async () => {
    const { code, out } = await runInPty(cmd("logs", String(broken.id)));
    expect(code).toBe(0);
    expect(out).toContain(`${ESC}[`);
    expect(out).not.toContain("__SH__");
    const text = plain(out);
    expect(text).toMatch(/^▸ Setup {2}✔ exit 0 · \d+ms {2}\(\d+ lines? folded\)$/m);
    expect(text).toMatch(/^▾ Executing task: check {2}✘ exit 2 · \d+ms$/m);
    expect(text).toMatch(/^\$ echo checking {2}✔ exit 0 · \d+ms\nchecking\n/m);
    expect(text).toMatch(/^\$ ls \/nope-causeway {2}✘ exit 2 · \d+ms\nls: .*nope-causeway.*\n/m);
    expect(text).toMatch(/^\$ echo "check failed" {2}✔ exit 0 · \d+ms\ncheck failed\n/m);
    expect(text).toMatch(/^▸ Cleanup {2}✔ exit 0 · \d+ms {2}\(\d+ lines folded\)$/m);
    expect(text.match(/echo checking/g)).toHaveLength(1);
    expect(text).not.toContain("echo never");
    // The failing command and its group are red; the passing ones are not.
    expect(out).toMatch(new RegExp(`${ESC}\\[31m${ESC}\\[1m\\$ ls /nope-causeway`));
    expect(out).toMatch(new RegExp(`${ESC}\\[31m${ESC}\\[1mExecuting task: check`));
    expect(out).not.toMatch(new RegExp(`${ESC}\\[31m${ESC}\\[1m\\$ echo checking`));
  });

  it("keeps long output whole, and a block command as one prompt", async () => {
    const { code, out } = await runInPty(cmd("logs", String(greet.id)));
    expect(code).toBe(0);
    const text = plain(out);
    expect(text).toMatch(/^\$ for i in 1 2; do\n> {3}echo "line \$i"\n> done {2}✔ exit 0 · \d+ms\nline 1\nline 2\n/m);
    const numbers = Array.from({ length: 3000 }, (_, i) => String(i + 1)).join("\n");
    expect(text).toMatch(/^\$ seq 1 3000 {2}✔ exit 0 · \d+(ms|\.\ds)\n/m);
    expect(text).toContain(`\n${numbers}\n`);
  });

  it("--follow renders the run live, as it goes, and exits by its status", async () => {
    const started = RunSchema.parse(JSON.parse((await runPiped(cmd("trigger", "gated", "--json"))).out));
    const follow = startInPty(cmd("logs", String(started.id), "--follow"));
    try {
      // The run is held at the gate: what was printed so far came live, not after the end.
      const before = plain(await follow.waitFor(/before the gate\n/));
      expect(before).toMatch(/^▾ Executing task: wait\n\$ echo "before the gate"\nbefore the gate\n/m);
      expect(before).not.toContain("▴ Executing task: wait");
      const now = await runPiped(cmd("run", String(started.id), "--json"));
      expect(RunSchema.parse(JSON.parse(now.out)).status).toBe("processing");
      await writeFile(gate, "");
      expect(await follow.exited).toBe(0);
    } finally {
      follow.kill();
    }
    const text = plain(follow.output());
    expect(follow.output()).toContain(`${ESC}[`);
    expect(text).not.toContain("__SH__");
    // Printed once: nothing is repeated when the stream goes on after the first lines.
    expect(text.match(/^before the gate$/gm)).toHaveLength(1);
    expect(text).toMatch(/^\$ echo "after the gate"\nafter the gate\n {2}✔ exit 0 · \d+ms$/m);
    expect(text).toMatch(/^▴ Executing task: wait {2}✔ exit 0 · \d+(ms|\.\ds)$/m);
    // Setup and Cleanup: a transient title while they run, then their folded header.
    expect(text).toMatch(/▸ Setup …\r▸ Setup {2}✔ exit 0 · \d+ms {2}\(\d+ lines? folded\)\n/);
    expect(text).toMatch(/▸ Cleanup {2}✔ exit 0 · \d+ms {2}\(\d+ lines folded\)\n$/);
  });

  it("--raw prints the stored log, markers included", async () => {
    const { code, out } = await runInPty(cmd("logs", String(broken.id), "--raw"));
    expect(code).toBe(0);
    expect(out).toContain("__SH__CMD__START__");
    expect(out).not.toContain(`${ESC}[3`);
  });

  it("run shows the steps: groups and commands with exit code and duration", async () => {
    const { code, out } = await runInPty(cmd("run", String(broken.id)));
    expect(code).toBe(0);
    const text = plain(out);
    expect(text).toMatch(new RegExp(`^broken #1  failure  \\(id ${broken.id}\\)$`, "m"));
    expect(text).toMatch(/^steps:\n {5}EXIT {2}DURATION {2}STEP\n {2}✔ {2}0 +\d+ms +Setup\n/m);
    expect(text).toMatch(/^ {2}✘ {2}2 +\d+ms +Executing task: check$/m);
    expect(text).toMatch(/^ {2}✘ {2}2 +\d+ms +\$ ls \/nope-causeway$/m);
    expect(out).toMatch(new RegExp(`${ESC}\\[31m✘`));
  });
});

describe("causeway logs through a pipe", () => {
  it("prints the same view without colours, every group unfolded", async () => {
    const run = await runPiped(cmd("logs", String(broken.id)));
    expect(run).toMatchObject({ code: 0, err: "" });
    expect(run.out).not.toContain(ESC);
    expect(run.out).not.toContain("__SH__");
    expect(run.out).toMatch(/^▾ Setup {2}✔ exit 0 · \d+ms\nworkspace: /m);
    expect(run.out).toMatch(/^\$ ls \/nope-causeway {2}✘ exit 2 · \d+ms$/m);
    expect(run.out).toMatch(/^▾ Cleanup {2}✔ exit 0 · \d+ms\n(.*\n)*status: failure \(.*exit code 2\)\n$/m);
  });

  it("--raw is the stored log, byte for byte, with and without --follow", async () => {
    const stored = await readFile(join(dataDir, "logs", `${broken.id}.log`));
    const raw = await runPiped(cmd("logs", String(broken.id), "--raw"));
    expect(raw.code).toBe(0);
    expect(raw.bytes.equals(stored)).toBe(true);
    const follow = await runPiped(cmd("logs", String(broken.id), "--raw", "--follow"));
    expect(follow.code).toBe(1);
    expect(follow.bytes.equals(stored)).toBe(true);
  });

  it("--json is the protocol's shape, the stored text in it", async () => {
    const stored = await readFile(join(dataDir, "logs", `${broken.id}.log`), "utf8");
    const run = await runPiped(cmd("logs", String(broken.id), "--json"));
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual({
      run: broken.id,
      status: "failure",
      nextOffset: Buffer.byteLength(stored),
      text: stored,
    });
    const follow = await runPiped(cmd("logs", String(broken.id), "--json", "--follow"));
    const lines = follow.out
      .trimEnd()
      .split("\n")
      .map((l) => z.object({ kind: z.string() }).passthrough().parse(JSON.parse(l)));
    expect(lines.at(-1)).toMatchObject({ kind: "end", run: { id: broken.id, status: "failure" } });
    expect(lines.filter((l) => l.kind === "log").map((l) => l.text as string)).toEqual([stored]);
  });

  it("run prints the steps without colours", async () => {
    const run = await runPiped(cmd("run", String(greet.id)));
    expect(run.code).toBe(0);
    expect(run.out).not.toContain(ESC);
    expect(run.out).toMatch(/^ {2}✔ {2}0 +\S+ +\$ for i in 1 2; do …$/m);
  });
});

describe("the other tables and messages, on a terminal and through a pipe", () => {
  it("runs: statuses in colour on a terminal, plain through a pipe; durations with their unit", async () => {
    const pty = await runInPty(cmd("runs"));
    expect(pty.code).toBe(0);
    expect(pty.out).toContain(`${ESC}[32msuccess${ESC}[39m`);
    expect(pty.out).toContain(`${ESC}[31mfailure${ESC}[39m`);
    const piped = await runPiped(cmd("runs"));
    expect(piped.out).not.toContain(ESC);
    // The same table but for the colours (and the ages, which move on between the two).
    const ages = (t: string): string =>
      t
        .trimEnd()
        .replace(/\d+[smhd] ago/g, "_ ago")
        .replace(/ +/g, " ");
    expect(ages(plain(pty.out))).toBe(ages(piped.out));
    expect(piped.out).toMatch(
      new RegExp(
        `^${broken.id} +broken +1 +failure +manual \\S+ +[0-9a-f]{8} +\\d+s ago +(\\d+ms|\\d\\.\\ds|\\d+s)$`,
        "m",
      ),
    );
  });

  it("why: runs named as job #n, outcomes coloured on a terminal", async () => {
    const pty = await runInPty(cmd("why", "broken"));
    expect(pty.code).toBe(0);
    expect(pty.out).toContain(`${ESC}[32mcreated${ESC}[39m`);
    expect(plain(pty.out)).toMatch(
      /^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}created {2}broken #1 {2}manual run by \S+$/m,
    );
    expect(plain(pty.out)).not.toMatch(/\(run \d+\)/);
  });

  it("a typo: the error in red on the terminal, the nearest name as a hint, exit 1; the same words piped", async () => {
    const pty = await runInPty(cmd("trigger", "grete"));
    expect(pty.code).toBe(1);
    expect(pty.out).toContain(`${ESC}[31merror JOB_NOT_FOUND${ESC}[39m: no job named grete`);
    const piped = await runPiped(cmd("trigger", "grete"));
    expect([piped.code, piped.out, piped.err]).toEqual([
      1,
      "",
      'error JOB_NOT_FOUND: no job named grete\n  hint: did you mean "greet"?\n',
    ]);
  });
});
