import { spawn } from "node:child_process";
import { readFile, rm, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ApplyRecordSchema,
  ApplyResultSchema,
  ObjectSummarySchema,
  RunSchema,
  type ApplyRecordJson,
  type ObjectSummaryJson,
  type RunJson,
  type ServerInfo,
} from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startServer } from "../src/index.js";
import { ensureBuilt, infoOf, killAll, killed, spawnServer, type ServerProcess } from "./built.js";
import { collectingLogger, tempDir, waitFor, yaml } from "./helpers.js";

// The jobs here wait on gate files outside their workspaces: no sandbox (it hides them; its
// own tests are sandbox.test.ts).
const NO_SANDBOX = ["--sandbox", "off"];

// The fault suite of a broken file (issue 8, docs/semantics.md "A broken file"): a file that
// cannot be read as YAML, or breaks a limit, leaves the objects it defined as they were; its
// queued runs are not cancelled; the apply history has the refusal with its position; fixing
// the file applies normally. Real server processes, real files, a real watcher, real writers.

/** A request to a server, parsed with `schema`; throws on an error status. */
function client(info: ServerInfo) {
  return async <T>(schema: z.ZodType<T>, method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${info.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${info.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return schema.parse(await res.json());
  };
}
type Api = ReturnType<typeof client>;

const Applies = z.array(ApplyRecordSchema);
const Objects = z.array(ObjectSummarySchema);

// The line: keep.causeway.yml holds sleeper, which takes the only runner slot for the whole
// test; shippable.yml is the file that breaks. Its job ship gets a run that stays queued
// behind sleeper: it must never be cancelled by a broken file.
//
//   keep.causeway.yml: sleeper            shippable.yml: knob ──> ship ──> verify
function keepFile(pidFile: string): string {
  return yaml`
    jobs:
      - name: sleeper
        type: runSh
        steps:
          - TASK:
              script:
                - echo $$ > "${pidFile}"
                - sleep 120
  `;
}

function shipFile(n: number): string {
  return yaml`
    resources:
      - name: knob
        type: params
        versionTemplate:
          params:
            N: "1"
    jobs:
      - name: ship
        type: runSh
        steps:
          - IN: knob
          - TASK:
              script:
                - echo "ship v${n}"
      - name: verify
        type: runSh
        steps:
          - IN: ship
          - TASK:
              script:
                - echo verify
  `;
}
const SHIP_OBJECTS = ["knob", "ship", "verify"];

/** Nine anchors of nine aliases each: 9^9 nodes once expanded (a few hundred bytes of text). */
const ALIAS_BOMB = [
  `a: &a [${Array.from({ length: 9 }, () => '"lol"').join(", ")}]`,
  ..."bcdefghi"
    .split("")
    .map((c, i) => `${c}: &${c} [${Array.from({ length: 9 }, () => `*${"abcdefghi"[i] ?? "a"}`).join(", ")}]`),
  "jobs:",
  "  - name: boom",
  "    type: runSh",
  "    steps:",
  "      - TASK:",
  "          script: *i",
  "",
].join("\n");

/** A file over the 4 MiB cap: a valid line padded with a comment. */
const OVER_THE_CAP = `${shipFile(99)}#${"x".repeat(4 * 1024 * 1024 + 16)}\n`;

/** What the apply history says about the objects of shippable.yml: kept, not touched. */
function expectKept(entry: ApplyRecordJson, code: string, line: number, col: number): void {
  expect(entry.files).toContainEqual({
    path: "shippable.yml",
    status: "refused",
    reason: expect.objectContaining({ code, file: "shippable.yml", line, col }) as unknown,
  });
  expect(entry.kept).toEqual(SHIP_OBJECTS);
  for (const list of [entry.added, entry.changed, entry.removed])
    expect(list.filter((n) => SHIP_OBJECTS.includes(n))).toEqual([]);
  expect(entry.problems).toContainEqual(expect.objectContaining({ code, file: "shippable.yml", line, col }));
}

/** The summaries of the objects of shippable.yml (definition state, latest version and run). */
async function shipSummaries(api: Api): Promise<ObjectSummaryJson[]> {
  const all = [...(await api(Objects, "GET", "/resources")), ...(await api(Objects, "GET", "/jobs"))];
  return all.filter((o) => SHIP_OBJECTS.includes(o.name));
}

/** The first apply newer than `afterId` that `match` accepts (polled, with a deadline). */
async function nextApply(
  api: Api,
  afterId: number,
  what: string,
  match: (a: ApplyRecordJson) => boolean = () => true,
): Promise<ApplyRecordJson> {
  return waitFor(what, async () =>
    (await api(Applies, "GET", "/applies?limit=50")).reverse().find((a) => a.id > afterId && match(a)),
  );
}

async function latestApplyId(api: Api): Promise<number> {
  return (await api(Applies, "GET", "/applies?limit=1"))[0]?.id ?? 0;
}

/** Kills the process group of a job whose script wrote its pid (a job outlives a killed server). */
async function killJob(pidFile: string): Promise<void> {
  const pid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
  if (pid > 0) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

describe("a broken file in the watched directory of a running server (real process, real watcher)", () => {
  let root = "";
  let dir = "";
  let dataDir = "";
  let pidFile = "";
  let server: ServerProcess;
  let api: Api;
  let queued: RunJson;
  let version = 1;
  const procs: ServerProcess[] = [];

  beforeAll(async () => {
    ensureBuilt();
    root = await tempDir("fault-apply");
    dir = join(root, "line");
    dataDir = join(root, "data");
    pidFile = join(root, "sleeper.pid");
    await mkdir(dir);
    await writeFile(join(dir, "keep.causeway.yml"), keepFile(pidFile));
    await writeFile(join(dir, "shippable.yml"), shipFile(version));
    server = spawnServer([dir, "--port", "0", "--data", dataDir, "--slots", "1", ...NO_SANDBOX]);
    procs.push(server);
    api = client(await infoOf(server, dataDir));
    const sleeper = await api(RunSchema, "POST", "/jobs/sleeper/runs", {});
    await waitFor("sleeper to hold the only slot", async () => {
      return (await api(RunSchema, "GET", `/runs/${sleeper.id}`)).status === "processing";
    });
    queued = await api(RunSchema, "POST", "/jobs/ship/runs", {});
    expect(queued.status).toBe("queued");
  }, 240_000);

  afterAll(async () => {
    await killAll(procs);
    await killJob(pidFile);
    if (root !== "") await rm(root, { recursive: true, force: true });
  });

  /**
   * Writes `broken` over shippable.yml, checks that the objects it defined and ship's queued run
   * are untouched and that the apply history has the refusal at `line`:`col`, then fixes the
   * file and checks that the fix applies normally.
   */
  async function breakAndFix(broken: string, code: string, line: number, col: number): Promise<void> {
    const before = await shipSummaries(api);
    const since = await latestApplyId(api);
    await writeFile(join(dir, "shippable.yml"), broken);
    const refused = await nextApply(api, since, `the apply that refuses shippable.yml (${code})`, (a) =>
      a.files.some((f) => f.status === "refused"),
    );
    expect(refused.source).toBe("watcher");
    expectKept(refused, code, line, col);
    expect(await shipSummaries(api)).toEqual(before);
    expect((await api(RunSchema, "GET", `/runs/${queued.id}`)).status).toBe("queued");
    // The server's terminal says which file was refused, where, and that its objects are kept.
    await waitFor("the refusal on the server's terminal", () =>
      server.output.includes(`refused shippable.yml: shippable.yml:${line}:${col} ${code}`),
    );

    version += 1;
    await writeFile(join(dir, "shippable.yml"), shipFile(version));
    const fixed = await nextApply(api, refused.id, "the apply of the fixed file", (a) => a.changed.includes("ship"));
    expect(fixed).toMatchObject({ kept: [], removed: [], errors: 0 });
    expect(fixed.files.every((f) => f.status === "loaded")).toBe(true);
    expect((await api(RunSchema, "GET", `/runs/${queued.id}`)).status).toBe("queued");
  }

  it("`jobs: [` written into the file: its objects and queued run are kept; fixing it applies", async () => {
    await breakAndFix("jobs: [\n", "PIPELINE_YAML_SYNTAX", 2, 1);
  });

  it("an alias bomb: refused at the alias, nothing of the file changes", async () => {
    const since = await latestApplyId(api);
    await breakAndFix(ALIAS_BOMB, "PIPELINE_YAML_ALIAS_LIMIT", 6, 8);
    const [bomb] = (await api(Applies, "GET", "/applies?limit=50")).filter(
      (a) => a.id > since && a.files.some((f) => f.reason?.code === "PIPELINE_YAML_ALIAS_LIMIT"),
    );
    expect(bomb?.problems[0]?.message).toMatch(/aliases expand to more than 100000 nodes/);
    // The watcher keeps the lines the file had around the problem: the UI's code frame.
    expect(bomb?.problems[0]?.excerpt).toEqual({ firstLine: 4, lines: ALIAS_BOMB.split("\n").slice(3, 8) });
  });

  it("a file over the size cap: refused without being read, nothing of it changes", async () => {
    await breakAndFix(OVER_THE_CAP, "PIPELINE_FILE_TOO_LARGE", 1, 1);
  });

  it("a file deleted: its objects are removed and its queued run cancelled (the one way a file removes)", async () => {
    const since = await latestApplyId(api);
    await rm(join(dir, "shippable.yml"));
    const gone = await nextApply(api, since, "the apply without shippable.yml", (a) => a.removed.length > 0);
    expect(gone).toMatchObject({ removed: SHIP_OBJECTS, kept: [] });
    await waitFor("ship's queued run to be cancelled", async () => {
      const run = await api(RunSchema, "GET", `/runs/${queued.id}`);
      return run.status === "cancelled" && run.statusReason === "the job was removed from the line";
    });
  });

  it("the apply history survives a restart (SIGTERM, then a new process)", async () => {
    const before = await api(Applies, "GET", "/applies?limit=1000");
    server.child.kill("SIGTERM");
    await killed(server);
    expect(server.child.exitCode).toBe(0);
    server = spawnServer([dir, "--port", "0", "--data", dataDir, "--slots", "1", ...NO_SANDBOX]);
    procs.push(server);
    api = client(await infoOf(server, dataDir));
    const after = await api(Applies, "GET", "/applies?limit=1000");
    // The restart applied the directory once more, recorded as the newest entry.
    expect(after.slice(-before.length)).toEqual(before);
    expect(after[0]).toMatchObject({ source: "watcher", added: [], removed: [] });
  });
});

describe("POST /apply with a broken file (real server process)", () => {
  let root = "";
  let pidFile = "";
  let server: ServerProcess;
  let api: Api;
  const procs: ServerProcess[] = [];

  beforeAll(async () => {
    ensureBuilt();
    root = await tempDir("fault-post");
    pidFile = join(root, "sleeper.pid");
    // An empty directory, not watched: this line comes only through POST /apply.
    await mkdir(join(root, "empty"));
    server = spawnServer([
      join(root, "empty"),
      "--port",
      "0",
      "--data",
      join(root, "data"),
      "--slots",
      "1",
      "--no-watch",
      // Its jobs wait on gate files outside their workspaces: no sandbox.
      "--sandbox",
      "off",
    ]);
    procs.push(server);
    api = client(await infoOf(server, join(root, "data")));
  }, 240_000);

  afterAll(async () => {
    await killAll(procs);
    await killJob(pidFile);
    if (root !== "") await rm(root, { recursive: true, force: true });
  });

  it.each([
    ["a YAML syntax error", "jobs: [\n", "PIPELINE_YAML_SYNTAX", 2, 1],
    ["an alias bomb", ALIAS_BOMB, "PIPELINE_YAML_ALIAS_LIMIT", 6, 8],
    ["a file over the size cap", OVER_THE_CAP, "PIPELINE_FILE_TOO_LARGE", 1, 1],
  ])(
    "%s: the answer says refused and kept; objects and queued run untouched; fixing applies",
    async (_what, broken, code, line, col) => {
      const apply = (ship: string) =>
        api(ApplyResultSchema, "POST", "/apply", {
          files: [
            { path: "keep.causeway.yml", text: keepFile(pidFile) },
            { path: "shippable.yml", text: ship },
          ],
        });
      await apply(shipFile(1));
      // sleeper holds the slot (started once, for every case), so ship's run stays queued.
      if ((await api(z.array(RunSchema), "GET", "/runs?job=sleeper")).length === 0) {
        const sleeper = await api(RunSchema, "POST", "/jobs/sleeper/runs", {});
        await waitFor("sleeper to hold the only slot", async () => {
          return (await api(RunSchema, "GET", `/runs/${sleeper.id}`)).status === "processing";
        });
      }
      const queued = await api(RunSchema, "POST", "/jobs/ship/runs", {});
      const before = await shipSummaries(api);

      const result = await apply(broken);
      expect(result).toMatchObject({ ok: false, applied: true, removed: [], kept: SHIP_OBJECTS });
      expect(result.files).toContainEqual({
        path: "shippable.yml",
        status: "refused",
        reason: expect.objectContaining({ code, file: "shippable.yml", line, col }) as unknown,
      });
      expect(await shipSummaries(api)).toEqual(before);
      expect((await api(RunSchema, "GET", `/runs/${queued.id}`)).status).toBe("queued");
      const [entry] = await api(Applies, "GET", "/applies?limit=1");
      expect(entry?.id).toBe(result.applyId);
      expect(entry?.source).toBe("api");
      if (entry !== undefined) expectKept(entry, code, line, col);

      const fixed = await apply(shipFile(2));
      expect(fixed).toMatchObject({ ok: true, changed: ["ship"], removed: [], kept: [] });
      expect((await api(RunSchema, "GET", `/runs/${queued.id}`)).status).toBe("queued");
      await api(RunSchema, "POST", `/runs/${queued.id}/cancel`);
    },
  );
});

describe("a file half written while the watcher reads it (in-process server, real watcher, a real writer process)", () => {
  let root = "";
  let pidFile = "";
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await killJob(pidFile);
    if (root !== "") await rm(root, { recursive: true, force: true });
  });

  /**
   * A writer process that writes shippable.yml in two steps with a pause between them, as an
   * editor or a slow `cp` does: `first` (a shell command writing the first part), then `rest`.
   */
  function writer(first: string, rest: string): Promise<number | null> {
    return new Promise((resolve, reject) => {
      const child = spawn("bash", ["-c", `set -e; ${first}; sleep 0.3; ${rest}`], { stdio: "ignore" });
      child.on("error", reject);
      child.on("exit", (code) => resolve(code));
    });
  }

  it.each([
    ["emptied, then written whole", (f: string, full: string) => [`: > "${f}"`, `cat "${full}" > "${f}"`]],
    [
      "cut in the middle of a line, then finished",
      (f: string, full: string) => [`head -c 150 "${full}" > "${f}"`, `tail -c +151 "${full}" >> "${f}"`],
    ],
  ])("%s: nothing is removed, the whole file is applied", async (_what, steps) => {
    root = await tempDir("fault-half");
    const dir = join(root, "line");
    pidFile = join(root, "sleeper.pid");
    await mkdir(dir);
    await writeFile(join(dir, "keep.causeway.yml"), keepFile(pidFile));
    await writeFile(join(dir, "shippable.yml"), shipFile(1));
    const logger = collectingLogger();
    // A debounce shorter than the writer's pause, so the half-written file is read; a settle
    // time longer than it, so the second read finds the whole file.
    const running = await startServer({
      dir,
      dataDir: join(root, "data"),
      port: 0,
      slots: 1,
      watchDebounceMs: 50,
      watchSettleMs: 1500,
      env: passthroughEnv(process.env),
      logger,
      cancelGraceMs: 500,
      sandbox: "off",
    });
    stops.push(() => running.stop());
    const local = client({ url: running.url, token: running.token, pid: process.pid });
    const sleeper = await local(RunSchema, "POST", "/jobs/sleeper/runs", {});
    await waitFor("sleeper to hold the only slot", async () => {
      return (await local(RunSchema, "GET", `/runs/${sleeper.id}`)).status === "processing";
    });
    const queued = await local(RunSchema, "POST", "/jobs/ship/runs", {});
    const since = await latestApplyId(local);

    const full = join(root, "full.yml");
    await writeFile(full, shipFile(2));
    const [first = "", rest = ""] = steps(join(dir, "shippable.yml"), full);
    expect(await writer(first, rest)).toBe(0);

    const applied = await nextApply(local, since, "the apply of the whole file", (a) => a.changed.includes("ship"));
    expect(applied).toMatchObject({ removed: [], kept: [] });
    const after = (await local(Applies, "GET", "/applies?limit=50")).filter((a) => a.id > since);
    for (const a of after) expect(a.removed).toEqual([]);
    expect((await local(RunSchema, "GET", `/runs/${queued.id}`)).status).toBe("queued");
  });
});
