import type { ServerResponse } from "node:http";
import type { EventJson, RunJson } from "@causeway/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeStyle } from "../src/code-frame.js";
import { liveLine, RunBoard } from "../src/progress.js";
import { sendJson, startCanned, startSse, type CannedServer } from "./canned-server.js";
import { makeRun, runCausewayCli, type CliOptions, type CliRun } from "./fixtures.js";

// Plain progress lines print local times: pin the zone.
process.env.TZ = "UTC";

const ESC = String.fromCharCode(27);
const FLOW = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const NOW = new Date("2030-01-02T10:05:00.000Z");

let server: CannedServer;
beforeEach(async () => {
  server = await startCanned();
});
afterEach(() => server.close());

function cli(argv: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  return runCausewayCli([...argv, "--server", server.url], { now: () => NOW, ...options });
}

function runEvent(
  id: number,
  at: string,
  run: Pick<RunJson, "id" | "job" | "number" | "status"> & Partial<RunJson>,
): EventJson {
  return {
    id,
    at: `2030-01-02T${at}.000Z`,
    type: "run",
    payload: { statusReason: null, flow: FLOW, ...run },
  };
}

function writeEvents(res: ServerResponse, events: readonly EventJson[]): void {
  for (const e of events) res.write(`id: ${e.id}\ndata: ${JSON.stringify(e)}\n\n`);
}

/**
 * The waited run: `a #1` (run 5), queued when created. Its status as `GET /runs/5` gives it
 * follows `states`, one per call (the last one repeats).
 */
function serveRun5(states: readonly Partial<RunJson>[]): void {
  const base = makeRun({ id: 5, job: "a", number: 1, status: "queued", flow: FLOW, createdAt: NOW.toISOString() });
  let calls = 0;
  server.on("POST /api/v1/jobs/a/runs", (_req, res) => sendJson(res, 201, base));
  server.on("GET /api/v1/runs", (_req, res) => sendJson(res, 200, [base]));
  server.on("GET /api/v1/runs/5", (_req, res) => {
    const state = states[Math.min(calls++, states.length - 1)] ?? {};
    sendJson(res, 200, { ...base, ...state });
  });
}

const DONE: Partial<RunJson> = {
  status: "success",
  startedAt: "2030-01-02T10:05:01.000Z",
  finishedAt: "2030-01-02T10:05:03.000Z",
};

const HAPPY = [
  runEvent(10, "10:05:01", { id: 5, job: "a", number: 1, status: "processing" }),
  runEvent(11, "10:05:02", { id: 6, job: "c", number: 3, status: "processing" }),
  runEvent(12, "10:05:02", { id: 40, job: "zzz", number: 9, status: "failure", flow: "another-flow" }),
  {
    id: 13,
    at: "2030-01-02T10:05:02.500Z",
    type: "version",
    payload: { id: 3, name: "img", versionNumber: 2, versionName: null, createdBy: "run", flow: FLOW },
  } satisfies EventJson,
  runEvent(14, "10:05:03", { id: 5, job: "a", number: 1, status: "success" }),
];

describe("causeway trigger", () => {
  it("sends params, pins and the user, and prints the run it created", async () => {
    serveRun5([{}]);
    const run = await cli(["trigger", "a", "--param", "A=1", "--param", "B=x=y", "--pin", "repo=3"], {
      env: { USER: "alice" },
    });
    expect(run).toEqual({ code: 0, out: "triggered a #1 (id 5, flow 0f1e2d3c)\n", err: "" });
    expect(server.received[0]?.body).toEqual({ params: { A: "1", B: "x=y" }, pins: { repo: 3 }, user: "alice" });
    const json = await cli(["trigger", "a", "--json"]);
    expect(JSON.parse(json.out)).toMatchObject({ id: 5, job: "a", number: 1, status: "queued" });
    expect(server.received[1]?.body).toEqual({});
  });

  it("--wait off a terminal: one plain line per status change of the flow's runs, exit 0 on success", async () => {
    serveRun5([{}, DONE]);
    server.on("GET /api/v1/events", (_req, res) => {
      startSse(res);
      writeEvents(res, HAPPY);
    });
    const run = await cli(["trigger", "a", "--wait"]);
    expect(run.err).toBe("");
    expect(run.out).toBe(
      [
        "triggered a #1 (id 5, flow 0f1e2d3c)",
        "10:05:00 a #1 queued",
        "10:05:01 a #1 processing",
        "10:05:02 c #3 processing",
        "10:05:03 a #1 success",
        "",
      ].join("\n"),
    );
    expect(run.code).toBe(0);
    // The stream is open before the flow's runs are read: no change can fall in between.
    const order = server.received.map((r) => `${r.method} ${r.path}`);
    expect(order.indexOf("GET /api/v1/events")).toBeGreaterThanOrEqual(0);
    expect(order.indexOf("GET /api/v1/events")).toBeLessThan(order.indexOf("GET /api/v1/runs"));
    expect(server.received.find((r) => r.path === "/api/v1/runs")?.query.get("flow")).toBe(FLOW);
  });

  it("--wait exits 1 when the run does not succeed, with the reason", async () => {
    serveRun5([{}, { status: "failure", statusReason: "exit code 1" }]);
    server.on("GET /api/v1/events", (_req, res) => {
      startSse(res);
      writeEvents(res, [
        runEvent(10, "10:05:01", { id: 5, job: "a", number: 1, status: "processing" }),
        runEvent(11, "10:05:03", { id: 5, job: "a", number: 1, status: "failure", statusReason: "exit code 1" }),
      ]);
    });
    const run = await cli(["trigger", "a", "--wait"]);
    expect(run.code).toBe(1);
    expect(run.out).toContain("10:05:03 a #1 failure (exit code 1)\n");
  });

  it("--wait ends at once when the run has already ended", async () => {
    serveRun5([DONE]);
    server.on("GET /api/v1/events", (_req, res) => startSse(res));
    const run = await cli(["trigger", "a", "--wait"]);
    expect(run.code).toBe(0);
    expect(run.out).toBe("triggered a #1 (id 5, flow 0f1e2d3c)\n10:05:00 a #1 success\n");
  });

  it("--wait resumes a dropped event stream with Last-Event-ID", async () => {
    serveRun5([{}, {}, DONE]);
    let connections = 0;
    server.on("GET /api/v1/events", (_req, res) => {
      startSse(res);
      if (connections++ === 0) {
        writeEvents(res, [runEvent(10, "10:05:01", { id: 5, job: "a", number: 1, status: "processing" })]);
        res.end();
      } else writeEvents(res, [runEvent(11, "10:05:03", { id: 5, job: "a", number: 1, status: "success" })]);
    });
    const run = await cli(["trigger", "a", "--wait"]);
    expect(run.code).toBe(0);
    const streams = server.received.filter((r) => r.path === "/api/v1/events");
    expect(streams.map((r) => r.headers["last-event-id"])).toEqual([undefined, "10"]);
    expect(run.out.match(/a #1 processing/g)).toHaveLength(1);
    expect(run.out).toContain("10:05:03 a #1 success\n");
  });

  it("--wait --json prints only the final run", async () => {
    serveRun5([{}, DONE]);
    server.on("GET /api/v1/events", (_req, res) => {
      startSse(res);
      writeEvents(res, HAPPY);
    });
    const run = await cli(["trigger", "a", "--wait", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ id: 5, status: "success" });
  });

  it("--wait on a terminal redraws a compact view in place, one line per run of the flow", async () => {
    serveRun5([{}, DONE]);
    server.on("GET /api/v1/events", (_req, res) => {
      startSse(res);
      writeEvents(res, HAPPY);
    });
    const now = new Date("2030-01-02T10:05:05.000Z");
    const run = await cli(["trigger", "a", "--wait"], { isTTY: true, now: () => now });
    expect(run.code).toBe(0);
    expect(run.out).toContain("\u001b[1A"); // moved up over the previous picture
    const frames = run.out.split(new RegExp(`${ESC}\\[\\d+A`));
    const last = (frames.at(-1) ?? "").split("\r\u001b[2K").join("");
    expect(last).toBe("✔ a  #1    success          2.0s\n⠋ c  #3    processing       3.0s\n");
  });
});

describe("the live view", () => {
  const style = makeStyle(false);

  it.each([
    { status: "waiting", icon: "·", duration: "" },
    { status: "processing", icon: "⠴", duration: "12s" },
    { status: "success", icon: "✔", duration: "2.0s" },
    { status: "failure", icon: "✘", duration: "2.0s" },
    { status: "cancelled", icon: "-", duration: "2.0s" },
  ] as const)("$status", ({ status, icon, duration }) => {
    const board = new RunBoard();
    const at = new Date("2030-01-02T10:00:00.000Z");
    board.apply({ id: 1, job: "build", number: 12, flow: FLOW, status: "waiting", statusReason: null }, at);
    if (status !== "waiting")
      board.apply({ id: 1, job: "build", number: 12, flow: FLOW, status: "processing", statusReason: null }, at);
    if (status === "success" || status === "failure" || status === "cancelled")
      board.apply(
        { id: 1, job: "build", number: 12, flow: FLOW, status, statusReason: null },
        new Date("2030-01-02T10:00:02.000Z"),
      );
    const row = board.get(1);
    expect(row).toBeDefined();
    if (row === undefined) return;
    const line = liveLine(row, 8, new Date("2030-01-02T10:00:12.500Z"), style);
    expect(line).toBe(`${icon} build     #12   ${status.padEnd(16)} ${duration}`.trimEnd());
  });

  it("never moves a run back to an earlier status", () => {
    const board = new RunBoard();
    const at = new Date(0);
    const u = { id: 1, job: "a", number: 1, flow: FLOW, statusReason: null };
    expect(board.apply({ ...u, status: "success" }, at)).toBeDefined();
    expect(board.apply({ ...u, status: "processing" }, at)).toBeUndefined();
    expect(board.apply({ ...u, status: "success" }, at)).toBeUndefined();
    expect(board.get(1)?.status).toBe("success");
  });
});

describe("causeway rerun", () => {
  it("--wait follows the new run", async () => {
    const rerun = makeRun({ id: 7, job: "a", number: 2, status: "queued", flow: FLOW, rerunOf: 5 });
    server.on("POST /api/v1/runs/5/rerun", (_req, res) => sendJson(res, 201, rerun));
    server.on("GET /api/v1/runs", (_req, res) => sendJson(res, 200, [rerun]));
    let calls = 0;
    server.on("GET /api/v1/runs/7", (_req, res) =>
      sendJson(res, 200, calls++ === 0 ? rerun : { ...rerun, status: "failure" }),
    );
    server.on("GET /api/v1/events", (_req, res) => {
      startSse(res);
      writeEvents(res, [runEvent(3, "10:05:04", { id: 7, job: "a", number: 2, status: "failure" })]);
    });
    const run = await cli(["rerun", "5", "--wait"]);
    expect(run.code).toBe(1);
    expect(run.out).toBe("rerun of run 5: a #2 (id 7, flow 0f1e2d3c)\n10:05:00 a #2 queued\n10:05:04 a #2 failure\n");
  });

  it("without --wait prints the new run and exits 0", async () => {
    server.on("POST /api/v1/runs/5/rerun", (_req, res) => sendJson(res, 201, makeRun({ id: 8, job: "a", number: 3 })));
    const run = await cli(["rerun", "5", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ id: 8, number: 3 });
  });
});

describe("causeway logs --follow", () => {
  it("streams until the run ends, resumes after a drop, and exits by the run's status", async () => {
    // The offset each connection asked for, asserted below: an expect in the handler would
    // throw in the canned server, not in this test.
    const offsets: (string | null)[] = [];
    server.on("GET /api/v1/runs/9/logs/stream", (req, res) => {
      startSse(res);
      offsets.push(req.query.get("offset"));
      if (offsets.length === 1) {
        res.write(`event: log\nid: 4\ndata: ${JSON.stringify({ offset: 0, text: "hé\n" })}\n\n`);
        res.end();
        return;
      }
      res.write(`event: log\nid: 9\ndata: ${JSON.stringify({ offset: 4, text: "done\n" })}\n\n`);
      res.end(`event: end\ndata: ${JSON.stringify(makeRun({ id: 9, status: "failure" }))}\n\n`);
    });
    const run = await cli(["logs", "9", "--follow"]);
    expect(run).toEqual({ code: 1, out: "hé\ndone\n", err: "" });
    expect(offsets).toEqual(["0", "4"]);
  });

  it("--json prints one JSON object per line, the final run last", async () => {
    server.on("GET /api/v1/runs/9/logs/stream", (_req, res) => {
      startSse(res);
      res.write(`event: log\ndata: ${JSON.stringify({ offset: 0, text: "ok\n" })}\n\n`);
      res.end(`event: end\ndata: ${JSON.stringify(makeRun({ id: 9, status: "success" }))}\n\n`);
    });
    const run = await cli(["logs", "9", "-f", "--json"]);
    expect(run.code).toBe(0);
    const lines = run.out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as unknown);
    expect(lines[0]).toEqual({ kind: "log", offset: 0, text: "ok\n" });
    expect(lines[1]).toMatchObject({ kind: "end", run: { id: 9, status: "success" } });
  });
});
