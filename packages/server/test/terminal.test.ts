import { existsSync, readdirSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { RunSchema } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workDirPrefix } from "@causeway/runner";
import { ensureBuilt, infoOf, killAll, killed, spawnServer, type ServerProcess } from "./built.js";
import { tempDir, waitFor, yaml } from "./helpers.js";

// What a person (text) or a machine (json) reads on the terminal of a real server process.

const LINE = yaml`
  jobs:
    - name: hello
      type: runSh
      steps:
        - TASK:
            script:
              - echo hi
    - name: broken
      type: runSh
      steps:
        - TASK:
            name: test
            script:
              - echo testing
              - (exit 2)
              - echo never
      on_failure:
        script:
          - echo cleaning up
`;

async function exited(proc: ServerProcess): Promise<number | null> {
  await killed(proc);
  return proc.child.exitCode;
}

/** Listens on a free port of 127.0.0.1, as another program would. */
async function occupyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { port: address.port, server };
}

describe("the server's terminal", () => {
  let root: string;
  let dir: string;
  const procs: ServerProcess[] = [];
  const spawn = (args: string[], env: NodeJS.ProcessEnv = process.env): ServerProcess => {
    const proc = spawnServer(args, { ...env, NO_COLOR: "1" });
    procs.push(proc);
    return proc;
  };
  const trigger = async (url: string, token: string, job: string): Promise<number> => {
    const res = await fetch(`${url}/api/v1/jobs/${job}/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(201);
    return RunSchema.parse(await res.json()).id;
  };

  beforeAll(async () => {
    ensureBuilt();
    root = await tempDir("terminal");
    dir = join(root, "line");
    await mkdir(dir);
    await writeFile(join(dir, "causeway.yml"), LINE);
  }, 180_000);

  afterAll(async () => {
    await killAll(procs);
    await rm(root, { recursive: true, force: true });
  });

  it("text: the apply, then each run created, started and ended, with its duration and failing command", async () => {
    const data = join(root, "data-text");
    const proc = spawn([dir, "--port", "0", "--data", data]);
    const info = await infoOf(proc, data);
    const hello = await trigger(info.url, info.token, "hello");
    await waitFor(`hello's end (output: ${proc.output})`, () => proc.stdout.includes("hello #1 succeeded"));
    const broken = await trigger(info.url, info.token, "broken");
    await waitFor(`broken's end (output: ${proc.output})`, () => proc.stdout.includes("broken #1 failed"));
    proc.child.kill("SIGINT");
    expect(await exited(proc)).toBe(0);

    const lines = proc.stdout.split("\n");
    const at = (pattern: RegExp): number => lines.findIndex((l) => pattern.test(l));
    const time = String.raw`\d\d:\d\d:\d\d`;
    const duration = String.raw`(\d+ms|\d\.\ds)`;
    const expected = [
      new RegExp(
        `^${time} applied ${dir}: 0 resources, 2 jobs \\(2 added, 0 changed, 0 removed\\); 0 errors, 0 warnings$`,
      ),
      new RegExp(`^${time} hello #1 queued: manual run by admin$`),
      new RegExp(`^${time} hello #1 started$`),
      new RegExp(`^${time} hello #1 succeeded in ${duration}$`),
      new RegExp(`^${time} broken #1 queued: manual run by admin$`),
      new RegExp(`^${time} broken #1 started$`),
      // The command that stopped the task, not the on_failure hook after it; and the run's id,
      // which is what the person types next.
      new RegExp(
        `^${time} broken #1 failed in ${duration}: exit 2 in "\\(exit 2\\)" \\(see causeway logs ${broken}\\)$`,
      ),
    ];
    const found = expected.map(at);
    expect(
      found.filter((i) => i < 0),
      proc.stdout,
    ).toEqual([]);
    // In this order.
    expect(found).toEqual([...found].sort((a, b) => a - b));
    expect(hello).not.toBe(broken);
    expect(proc.stderr).toBe("");
  });

  it("outlives its terminal: with nobody reading its output it runs on, then stops cleanly", async () => {
    const data = join(root, "data-gone");
    const proc = spawn([dir, "--port", "0", "--data", data]);
    const info = await infoOf(proc, data);
    // The reader goes away (a closed terminal window, \`| head\`): the next writes fail with EPIPE.
    proc.child.stdout?.destroy();
    proc.child.stderr?.destroy();
    const first = await trigger(info.url, info.token, "hello");
    const second = await trigger(info.url, info.token, "hello");
    const ended = await waitFor("both runs to end", async () => {
      const res = await fetch(`${info.url}/api/v1/runs/${second}`, {
        headers: { authorization: `Bearer ${info.token}` },
      });
      const run = RunSchema.parse(await res.json());
      return run.status === "success" ? run : undefined;
    });
    expect(ended.id).toBeGreaterThan(first);
    proc.child.kill("SIGTERM");
    expect(await exited(proc)).toBe(0);
    // A graceful stop: it keeps its server.json, which holds the admin token.
    expect(existsSync(join(data, "server.json"))).toBe(true);
  });

  it("json (--log-format json): one parseable object per line, with the fields of each event", async () => {
    const data = join(root, "data-json");
    const proc = spawn([dir, "--port", "0", "--data", data, "--log-format", "json"]);
    const info = await infoOf(proc, data);
    const id = await trigger(info.url, info.token, "broken");
    await waitFor(`broken's end (output: ${proc.output})`, () => proc.stdout.includes('"event":"run.finished"'));
    proc.child.kill("SIGTERM");
    expect(await exited(proc)).toBe(0);

    expect(proc.stderr).toBe("");
    const objects = proc.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const o of objects) {
      expect(o).toMatchObject({ level: expect.any(String), time: expect.any(String), msg: expect.any(String) });
    }
    const event = (name: string) => objects.find((o) => o.event === name);
    expect(event("apply")).toMatchObject({
      level: "info",
      dir,
      jobs: 2,
      added: 2,
      changed: 0,
      removed: 0,
      errors: 0,
      warnings: 0,
    });
    expect(event("listening")).toMatchObject({ url: info.url, dataDir: data });
    const run = { runId: id, job: "broken", number: 1 };
    expect(event("run.created")).toMatchObject({ ...run, status: "queued", trigger: "manual", triggeredBy: "admin" });
    expect(event("run.started")).toMatchObject({ ...run, status: "processing", flow: expect.any(String) });
    expect(event("run.finished")).toMatchObject({
      ...run,
      status: "failure",
      durationMs: expect.any(Number),
      exitCode: 2,
      failingCommand: "(exit 2)",
      task: "test",
      msg: expect.stringMatching(/^broken #1 failed in /),
    });
    expect(objects.at(-1)).toMatchObject({ event: "stopped" });
  });

  describe("on a port in use", () => {
    let busy: { port: number; server: Server };
    beforeAll(async () => {
      busy = await occupyPort();
    });
    afterAll(() => new Promise<void>((resolve) => busy.server.close(() => resolve())));

    it("says so in one line, exits 1, and writes nothing: no data directory, no workspace", async () => {
      const data = join(root, "data-busy");
      const proc = spawn([dir, "--port", String(busy.port), "--data", data]);
      expect(await exited(proc)).toBe(1);
      expect(proc.stdout).toBe("");
      expect(proc.stderr).toBe(
        `causeway-server: error CANNOT_LISTEN: cannot listen on 127.0.0.1:${busy.port}: the port is in use` +
          ` (another Causeway? use --port N or stop it)\n`,
      );
      expect(existsSync(data)).toBe(false);
      expect(readdirSync("/dev/shm").filter((name) => name.startsWith(workDirPrefix(data)))).toEqual([]);
    });

    it("says so in one JSON line with its code in the json format (CAUSEWAY_LOG_FORMAT)", async () => {
      const data = join(root, "data-busy-json");
      const proc = spawn([dir, "--port", String(busy.port), "--data", data], {
        ...process.env,
        CAUSEWAY_LOG_FORMAT: "json",
      });
      expect(await exited(proc)).toBe(1);
      expect(proc.stderr).toBe("");
      const lines = proc.stdout.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] ?? "")).toMatchObject({
        level: "error",
        event: "exit",
        code: "CANNOT_LISTEN",
        msg: `cannot start: cannot listen on 127.0.0.1:${busy.port}: the port is in use (another Causeway? use --port N or stop it)`,
      });
      expect(existsSync(data)).toBe(false);
    });
  });

  it("lists every problem of the options at once, with the usage, and exits 2", async () => {
    const proc = spawn([dir, "--port", "x", "--slots", "0", "--log-format", "yaml"]);
    expect(await exited(proc)).toBe(2);
    expect(proc.stderr).toContain('causeway-server: --port must be an integer from 0 to 65535, got "x"\n');
    expect(proc.stderr).toContain('causeway-server: --slots must be an integer from 1 to 1024, got "0"\n');
    expect(proc.stderr).toContain('causeway-server: --log-format: must be "text" or "json", got "yaml"\n');
    expect(proc.stderr).toContain("usage: causeway-server");
    expect(proc.stderr).not.toMatch(/\n\s+at /);
  });
});
