import { CausewayError } from "@causeway/core";
import { describe, expect, it } from "vitest";
import { createLogger, type LogFormat } from "../src/logger.js";

const AT = new Date(2026, 10, 27, 9, 5, 7);

function capture(format: LogFormat, color = false) {
  const out: string[] = [];
  const err: string[] = [];
  const logger = createLogger({
    format,
    color,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    now: () => AT,
  });
  return { logger, out, err };
}

describe("the text format", () => {
  it("writes one line per event with a HH:MM:SS prefix: events on stdout, problems on stderr", () => {
    const { logger, out, err } = capture("text");
    logger.info("build #3 succeeded in 1.4s", { event: "run.finished", status: "success", runId: 12 });
    logger.info("  causeway.yml:3:7 PIPELINE_SCHEMA bad key");
    logger.warn("app_repo: cannot poll /srv/app: not a git repository");
    expect(out).toEqual([
      "09:05:07 build #3 succeeded in 1.4s\n",
      "09:05:07   causeway.yml:3:7 PIPELINE_SCHEMA bad key\n",
    ]);
    expect(err).toEqual(["09:05:07 app_repo: cannot poll /srv/app: not a git repository\n"]);
  });

  it("colours only when asked (a terminal): the time dim, an ended run by its outcome", () => {
    const plain = capture("text");
    plain.logger.info("build #3 failed in 86ms", { event: "run.finished", status: "failure" });
    expect(plain.out.join("")).not.toContain("\x1b[");
    const coloured = capture("text", true);
    coloured.logger.info("build #3 failed in 86ms", { event: "run.finished", status: "failure" });
    coloured.logger.info("build #4 succeeded in 1.4s", { event: "run.finished", status: "success" });
    coloured.logger.info("build #5 started", { event: "run.started", status: "processing" });
    expect(coloured.out).toEqual([
      "\x1b[2m09:05:07\x1b[0m \x1b[31mbuild #3 failed in 86ms\x1b[0m\n",
      "\x1b[2m09:05:07\x1b[0m \x1b[32mbuild #4 succeeded in 1.4s\x1b[0m\n",
      "\x1b[2m09:05:07\x1b[0m build #5 started\n",
    ]);
  });

  it("shows an expected error by its code and message, any other error with its stack", () => {
    const { logger, err } = capture("text");
    logger.error("cannot apply", new CausewayError("DATA_DIR_LOCKED", "in use by process 42"));
    expect(err).toEqual(["09:05:07 cannot apply: DATA_DIR_LOCKED: in use by process 42\n"]);
    err.length = 0;
    logger.error("request r1 GET /api/v1/jobs failed", new TypeError("x is undefined"));
    expect(err.join("")).toMatch(/^09:05:07 request r1 GET \/api\/v1\/jobs failed\nTypeError: x is undefined\n\s+at /);
  });
});

describe("the json format (pino)", () => {
  const parsed = (out: string[]) =>
    out
      .join("")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it("writes one JSON object per line with level, time, msg and the fields", () => {
    const { logger, out, err } = capture("json");
    logger.info("build #3 succeeded in 1.4s", {
      event: "run.finished",
      runId: 12,
      job: "build",
      number: 3,
      status: "success",
      durationMs: 1432,
      reason: undefined,
    });
    logger.info("  causeway.yml:3:7 PIPELINE_SCHEMA bad key", { event: "diagnostic", code: "PIPELINE_SCHEMA" });
    logger.warn("no pipeline file found");
    expect(err).toEqual([]);
    const [finished, diagnostic, warning] = parsed(out);
    expect(finished).toEqual({
      level: "info",
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      msg: "build #3 succeeded in 1.4s",
      event: "run.finished",
      runId: 12,
      job: "build",
      number: 3,
      status: "success",
      durationMs: 1432,
    });
    // A detail's indent is for the eye only.
    expect(diagnostic).toMatchObject({ msg: "causeway.yml:3:7 PIPELINE_SCHEMA bad key", code: "PIPELINE_SCHEMA" });
    expect(warning).toMatchObject({ level: "warn", msg: "no pipeline file found" });
  });

  it("has an expected error's code and message, and an unexpected one's stack", () => {
    const { logger, out } = capture("json");
    logger.error("cannot apply", new CausewayError("DATA_DIR_LOCKED", "in use by process 42"), { dir: "/srv" });
    logger.error("request failed", new TypeError("x is undefined"));
    const [expected, bug] = parsed(out);
    expect(expected).toMatchObject({
      level: "error",
      msg: "cannot apply",
      code: "DATA_DIR_LOCKED",
      error: "DATA_DIR_LOCKED: in use by process 42",
      dir: "/srv",
    });
    expect(expected).not.toHaveProperty("err");
    expect(bug).toMatchObject({ level: "error", err: { type: "TypeError", message: "x is undefined" } });
    expect((bug?.err as { stack: string }).stack).toContain("\n    at ");
  });
});
