import {
  ApplyRecordSchema,
  ApplyResultSchema,
  ErrorBodySchema,
  EventSchema,
  ObjectSummarySchema,
  RunSchema,
  StateSchema,
  TraceSchema,
  VersionSchema,
  WhySchema,
  type RunJson,
} from "@causeway/protocol";
import { loadPipeline } from "@causeway/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { readSse, testApp, TOKEN, waitFor, yaml } from "./helpers.js";

// The line of these tests:
//
//   cfg ──> build ──> deploy <── ext
//   slow (sleeps; cancelled)        broken (IN of a resource that does not exist)
const LINE = yaml`
  resources:
    - name: cfg
      type: params
      versionTemplate:
        params:
          GREETING: hello
    - name: ext
      type: params
      versionTemplate:
        params:
          LEVEL: "1"
  jobs:
    - name: build
      type: runSh
      steps:
        - IN: cfg
        - TASK:
            script:
              - echo "$GREETING world"
              - echo built > $JOB_STATE/out.txt
              - mkdir -p $JOB_STATE/dir && printf 'caf\\303\\251\\n' > $JOB_STATE/dir/u.txt
    - name: deploy
      type: runSh
      steps:
        - IN: build
        - IN: ext
        - TASK:
            script:
              - echo "deploying at level $LEVEL"
    - name: slow
      type: runSh
      steps:
        - TASK:
            script:
              - sleep 30
    - name: broken
      type: runSh
      steps:
        - IN: nowhere
        - TASK:
            script:
              - echo never
`;

type Harness = Awaited<ReturnType<typeof testApp>>;

async function expectError(res: Response, status: number, code: string): Promise<z.infer<typeof ErrorBodySchema>> {
  expect(res.status).toBe(status);
  const body = ErrorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(res.headers.get("x-request-id")).toBe(body.error.requestId);
  return body;
}

async function finished(h: Harness, id: number): Promise<RunJson> {
  return waitFor(`run ${id} to finish`, async () => {
    const { body } = await h.json<RunJson>("GET", `/runs/${id}`);
    return ["success", "failure", "cancelled", "error", "timeout", "lost", "skipped"].includes(body.status)
      ? body
      : undefined;
  });
}

describe("HTTP API (in-process)", () => {
  let h: Harness;
  let buildRun: RunJson;

  beforeAll(async () => {
    h = await testApp({ heartbeatMs: 50 });
    const { status, body } = await h.json("POST", "/apply", { files: [{ path: "causeway.yml", text: LINE }] });
    expect(status).toBe(200);
    expect(ApplyResultSchema.parse(body).applied).toBe(true);
  });
  afterAll(async () => {
    await h.close();
  });

  describe("auth", () => {
    it("serves GET /health without a token", async () => {
      const res = await h.app.request("/api/v1/health");
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, version: "9.9.9-test" });
    });

    it.each([
      ["no header", {}],
      ["a wrong token", { authorization: "Bearer nope" }],
      ["a token prefix", { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
      ["another scheme", { authorization: `Basic ${TOKEN}` }],
    ])("answers 401 UNAUTHORIZED with %s", async (_what, headers: Record<string, string>) => {
      const res = await h.app.request("/api/v1/jobs", { headers });
      await expectError(res, 401, "UNAUTHORIZED");
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    });

    it("guards every route, streams included", async () => {
      for (const path of ["/runs", "/runs/1/logs", "/runs/1/logs/stream", "/events", "/jobs/build/state"]) {
        await expectError(await h.app.request(`/api/v1${path}`), 401, "UNAUTHORIZED");
      }
      await expectError(await h.app.request("/api/v1/apply", { method: "POST", body: "{}" }), 401, "UNAUTHORIZED");
    });
  });

  describe("errors", () => {
    it("answers NOT_FOUND for unknown routes, inside and outside /api/v1", async () => {
      await expectError(await h.call("GET", "/no/such/route"), 404, "NOT_FOUND");
      await expectError(await h.app.request("/elsewhere"), 404, "NOT_FOUND");
    });

    it("answers INTERNAL without a stack, and logs the stack with the request id", async () => {
      const boom = await testApp({
        loadFiles: () => {
          throw new Error("secret detail at /internal/path");
        },
      });
      try {
        const res = await boom.call("POST", "/apply", { files: [{ path: "a.causeway.yml", text: "jobs: []" }] });
        const text = await res.text();
        expect(res.status).toBe(500);
        const body = ErrorBodySchema.parse(JSON.parse(text));
        expect(body.error.code).toBe("INTERNAL");
        expect(text).not.toContain("secret detail");
        expect(text).not.toMatch(/\bat .*\.ts:\d+/);
        expect(text).not.toContain("stack");
        const logged = boom.logger.errors.find((e) => e.line.includes(body.error.requestId));
        expect((logged?.error as Error).stack).toContain("secret detail");
      } finally {
        await boom.close();
      }
    });
  });

  describe("POST /apply", () => {
    it("applies a line with a broken object: ok false, applied true, the object inconsistent", async () => {
      const res = await h.json("POST", "/apply", { files: [{ path: "causeway.yml", text: LINE }] });
      const result = ApplyResultSchema.parse(res.body);
      expect(result).toMatchObject({ ok: false, applied: true, added: [], removed: [] });
      expect(result.diagnostics.some((d) => d.code === "PIPELINE_UNKNOWN_REFERENCE" && d.severity === "error")).toBe(
        true,
      );
      const jobs = z.array(ObjectSummarySchema).parse((await h.json("GET", "/jobs")).body);
      expect(jobs.find((j) => j.name === "broken")?.consistent).toBe(false);
      expect(jobs.find((j) => j.name === "build")?.consistent).toBe(true);
    });

    it("reports added, changed and versioned objects", async () => {
      const extra = yaml`
        resources:
          - name: extra
            type: params
            versionTemplate:
              params: { X: "1" }
      `;
      const files = [
        { path: "causeway.yml", text: LINE },
        { path: "more/extra.causeway.yml", text: extra },
      ];
      const added = ApplyResultSchema.parse((await h.json("POST", "/apply", { files })).body);
      expect(added.added).toEqual(["extra"]);
      expect(added.versioned).toEqual(["extra"]);
      const removed = ApplyResultSchema.parse(
        (await h.json("POST", "/apply", { files: [{ path: "causeway.yml", text: LINE }] })).body,
      );
      expect(removed.removed).toEqual(["extra"]);
    });

    it("resolves relative gitRepo sources against baseDir, an absolute path", async () => {
      const repo = yaml`
        resources:
          - name: local_repo
            type: gitRepo
            versionTemplate:
              sourceName: ./app-repo
              branch: main
      `;
      const files = [
        { path: "causeway.yml", text: LINE },
        { path: "repo.causeway.yml", text: repo },
      ];
      await expectError(await h.call("POST", "/apply", { files, baseDir: "line" }), 400, "BAD_REQUEST");
      const added = ApplyResultSchema.parse((await h.json("POST", "/apply", { files, baseDir: "/srv/line" })).body);
      expect(added.added).toEqual(["local_repo"]);
      // The stored definition, and the version made from it, hold the absolute path.
      const versions = z.array(VersionSchema).parse((await h.json("GET", "/objects/local_repo/versions")).body);
      expect(versions.map((v) => v.propertyBag)).toEqual([{ sourceName: "/srv/line/app-repo", branch: "main" }]);
      const removed = ApplyResultSchema.parse(
        (await h.json("POST", "/apply", { files: [{ path: "causeway.yml", text: LINE }] })).body,
      );
      expect(removed.removed).toEqual(["local_repo"]);
    });

    it.each([
      ["not JSON", "{nope", undefined],
      ["a missing files key", {}, ["files"]],
      ["a file without text", { files: [{ path: "a.yml" }] }, ["files", 0, "text"]],
      ["an unknown key", { files: [], extra: 1 }, []],
    ])("answers 400 BAD_REQUEST for %s, with the zod issues", async (_what, body, path) => {
      const res = await h.call("POST", "/apply", body);
      const error = await expectError(res, 400, "BAD_REQUEST");
      if (path !== undefined) {
        const issues = (error.error.details as { issues: { path: unknown[] }[] }).issues;
        expect(issues.map((i) => i.path)).toContainEqual(path);
      }
    });

    it("refuses an empty set of files (it would remove every object)", async () => {
      await expectError(await h.call("POST", "/apply", { files: [] }), 400, "BAD_REQUEST");
      expect((await h.json("GET", "/jobs")).body).toHaveLength(4);
    });

    it("refuses a body over the route's limit", async () => {
      const big = "x".repeat(97 * 1024 * 1024);
      const res = await h.call("POST", "/apply", { files: [{ path: "causeway.yml", text: big }] });
      await expectError(res, 400, "BAD_REQUEST");
      const pin = await h.call("PUT", "/jobs/deploy/pins/ext", { versionNumber: 1, pad: "y".repeat(70_000) });
      await expectError(pin, 400, "BAD_REQUEST");
    });
  });

  describe("objects", () => {
    it("lists jobs and resources sorted by name, with their latest version and run", async () => {
      const jobs = z.array(ObjectSummarySchema).parse((await h.json("GET", "/jobs")).body);
      expect(jobs.map((j) => j.name)).toEqual(["broken", "build", "deploy", "slow"]);
      expect(jobs.every((j) => j.kind === "job" && j.type === "runSh")).toBe(true);
      const resources = z.array(ObjectSummarySchema).parse((await h.json("GET", "/resources")).body);
      expect(resources.map((r) => [r.name, r.kind, r.latestVersion, r.latestRun])).toEqual([
        ["cfg", "resource", 1, null],
        ["ext", "resource", 1, null],
      ]);
    });
  });

  describe("runs", () => {
    it("POST /jobs/:job/runs creates a manual run (201) that runs", async () => {
      const res = await h.call("POST", "/jobs/build/runs", { user: "ana" });
      expect(res.status).toBe(201);
      const run = RunSchema.parse(await res.json());
      expect(run).toMatchObject({ job: "build", number: 1, trigger: { kind: "manual", by: "ana" }, attempt: 1 });
      expect(run.inputs).toEqual([
        {
          name: "cfg",
          kind: "resource",
          type: "params",
          versionId: expect.any(Number),
          versionNumber: 1,
          versionName: "",
          pinned: false,
        },
      ]);
      buildRun = await finished(h, run.id);
      expect(buildRun.status).toBe("success");
      expect(buildRun.exitCode).toBe(0);
    });

    it("a manual run needs no body", async () => {
      const res = await h.app.request("/api/v1/jobs/build/runs", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.status).toBe(201);
      const run = RunSchema.parse(await res.json());
      // No X-Causeway-User: the holder of the admin token.
      expect(run.trigger.by).toBe("admin");
      expect((await finished(h, run.id)).status).toBe("success");
    });

    it("answers JOB_NOT_FOUND, BAD_REQUEST, INVALID_PARAM, NOT_AN_INPUT for bad manual runs", async () => {
      await expectError(await h.call("POST", "/jobs/nope/runs", {}), 404, "JOB_NOT_FOUND");
      await expectError(await h.call("POST", "/jobs/build/runs", { params: { A: 1 } }), 400, "BAD_REQUEST");
      await expectError(await h.call("POST", "/jobs/build/runs", { params: { "not-env": "x" } }), 400, "INVALID_PARAM");
      await expectError(await h.call("POST", "/jobs/build/runs", { pins: { ext: 1 } }), 400, "NOT_AN_INPUT");
      await expectError(await h.call("POST", "/jobs/build/runs", { pins: { cfg: 9 } }), 404, "VERSION_NOT_FOUND");
    });

    it("GET /runs lists newest first, filtered by job, flow and status, with a limit", async () => {
      await h.engine.idle();
      const all = z.array(RunSchema).parse((await h.json("GET", "/runs")).body);
      expect(all.length).toBeGreaterThanOrEqual(3);
      expect(all.map((r) => r.id)).toEqual([...all.map((r) => r.id)].sort((a, b) => b - a));
      const builds = z.array(RunSchema).parse((await h.json("GET", "/runs?job=build")).body);
      expect(builds.every((r) => r.job === "build")).toBe(true);
      const flow = z.array(RunSchema).parse((await h.json("GET", `/runs?flow=${buildRun.flow}`)).body);
      expect(flow.map((r) => r.job).sort()).toEqual(["build", "deploy"]);
      // A unique prefix names the flow, as the 8 characters that tables show.
      const prefix = z.array(RunSchema).parse((await h.json("GET", `/runs?flow=${buildRun.flow.slice(0, 8)}`)).body);
      expect(prefix).toEqual(flow);
      const unknown = await expectError(await h.call("GET", "/runs?flow=zzzz"), 404, "FLOW_NOT_FOUND");
      expect(unknown.error.hint).toMatch(/FLOW column of `causeway runs`/);
      const ok = z.array(RunSchema).parse((await h.json("GET", "/runs?status=success,failure")).body);
      expect(ok.length).toBe(all.filter((r) => r.status === "success" || r.status === "failure").length);
      expect((await h.json("GET", "/runs?limit=1")).body).toHaveLength(1);
    });

    it.each([
      "/runs?limit=0",
      "/runs?limit=1001",
      "/runs?limit=x",
      "/runs?status=done",
      "/runs/abc",
      "/runs/1/logs?offset=-1",
    ])("answers 400 BAD_REQUEST for %s", async (path) => {
      await expectError(await h.call("GET", path), 400, "BAD_REQUEST");
    });

    it("answers RUN_NOT_FOUND for a run that does not exist", async () => {
      for (const [method, path] of [
        ["GET", "/runs/99999"],
        ["GET", "/runs/99999/logs"],
        ["GET", "/runs/99999/logs/stream"],
        ["POST", "/runs/99999/cancel"],
        ["POST", "/runs/99999/rerun"],
      ] as const) {
        await expectError(await h.call(method, path), 404, "RUN_NOT_FOUND");
      }
    });

    it("GET /runs/:id gives the run", async () => {
      const { status, body } = await h.json("GET", `/runs/${buildRun.id}`);
      expect(status).toBe(200);
      expect(RunSchema.parse(body)).toEqual(buildRun);
    });

    it("GET /runs/:id/logs gives text from an offset with X-Next-Offset and X-Run-Status", async () => {
      const res = await h.call("GET", `/runs/${buildRun.id}/logs`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toContain("hello world");
      const size = Buffer.byteLength(text);
      expect(res.headers.get("x-next-offset")).toBe(String(size));
      expect(res.headers.get("x-run-status")).toBe("success");
      const tail = await h.call("GET", `/runs/${buildRun.id}/logs?offset=${size - 10}`);
      expect(await tail.text()).toBe(
        Buffer.from(text)
          .subarray(size - 10)
          .toString(),
      );
      const end = await h.call("GET", `/runs/${buildRun.id}/logs?offset=${size + 100}`);
      expect(await end.text()).toBe("");
      expect(end.headers.get("x-next-offset")).toBe(String(size + 100));
    });

    it("GET /runs/:id/logs/stream sends the log then the final run, for a finished run", async () => {
      const full = await (await h.call("GET", `/runs/${buildRun.id}/logs`)).text();
      const res = await h.call("GET", `/runs/${buildRun.id}/logs/stream?offset=5`);
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const { messages, ended } = await readSse(res, () => false);
      expect(ended).toBe(true);
      const logs = messages
        .filter((m) => m.event === "log")
        .map((m) => JSON.parse(m.data) as { offset: number; text: string });
      expect(logs[0]?.offset).toBe(5);
      expect(logs.map((l) => l.text).join("")).toBe(Buffer.from(full).subarray(5).toString());
      const end = messages.at(-1)!;
      expect(end.event).toBe("end");
      expect(RunSchema.parse(JSON.parse(end.data))).toEqual(buildRun);
    });

    it("streams a live log as it is written, then ends with the final run", async () => {
      await h.json("POST", "/apply", {
        files: [
          { path: "causeway.yml", text: LINE },
          {
            path: "live.causeway.yml",
            text: yaml`
              jobs:
                - name: live
                  type: runSh
                  steps:
                    - TASK:
                        script:
                          - echo first
                          - while [ ! -f "${h.dir}/go" ]; do sleep 0.02; done
                          - echo second
            `,
          },
        ],
      });
      const run = RunSchema.parse((await h.json("POST", "/jobs/live/runs", {})).body);
      const res = await h.call("GET", `/runs/${run.id}/logs/stream`);
      const seen: string[] = [];
      const { messages } = await readSse(res, (ms) => {
        const text = ms
          .filter((m) => m.event === "log")
          .map((m) => (JSON.parse(m.data) as { text: string }).text)
          .join("");
        if (text.includes("first\n") && seen.length === 0) {
          seen.push("first");
          void import("node:fs/promises").then((fs) => fs.writeFile(`${h.dir}/go`, ""));
        }
        return ms.some((m) => m.event === "end");
      });
      const text = messages
        .filter((m) => m.event === "log")
        .map((m) => (JSON.parse(m.data) as { text: string }).text)
        .join("");
      expect(text.indexOf("first")).toBeLessThan(text.indexOf("second"));
      expect(RunSchema.parse(JSON.parse(messages.at(-1)!.data)).status).toBe("success");
      // The `id:` of each log message is the offset to resume from.
      const last = messages.filter((m) => m.event === "log").at(-1)!;
      const chunk = JSON.parse(last.data) as { offset: number; text: string };
      expect(Number(last.id)).toBe(chunk.offset + Buffer.byteLength(chunk.text));
    });

    it("POST /runs/:id/cancel cancels a processing run; a finished run answers RUN_FINISHED", async () => {
      const run = RunSchema.parse((await h.json("POST", "/jobs/slow/runs", {})).body);
      await waitFor(
        "slow to start",
        async () => (await h.json<RunJson>("GET", `/runs/${run.id}`)).body.status === "processing",
      );
      const res = await h.json("POST", `/runs/${run.id}/cancel`);
      expect(res.status).toBe(200);
      expect(RunSchema.parse(res.body).id).toBe(run.id);
      expect((await finished(h, run.id)).status).toBe("cancelled");
      await expectError(await h.call("POST", `/runs/${run.id}/cancel`), 409, "RUN_FINISHED");
    });

    it("POST /runs/:id/rerun replays the inputs (201); an unfinished run answers RUN_NOT_FINISHED", async () => {
      const res = await h.json("POST", `/runs/${buildRun.id}/rerun`);
      expect(res.status).toBe(201);
      const rerun = RunSchema.parse(res.body);
      expect(rerun).toMatchObject({
        job: "build",
        rerunOf: buildRun.id,
        trigger: { kind: "rerun" },
        flow: buildRun.flow,
      });
      expect(rerun.inputs).toEqual(buildRun.inputs);
      await finished(h, rerun.id);
      const slow = RunSchema.parse((await h.json("POST", "/jobs/slow/runs", {})).body);
      await expectError(await h.call("POST", `/runs/${slow.id}/rerun`), 409, "RUN_NOT_FINISHED");
      await h.json("POST", `/runs/${slow.id}/cancel`);
      await finished(h, slow.id);
    });
  });

  describe("jobs", () => {
    it("pause and resume answer {ok: true} and show in why", async () => {
      expect((await h.json("POST", "/jobs/deploy/pause")).body).toEqual({ ok: true });
      expect(WhySchema.parse((await h.json("GET", "/jobs/deploy/why")).body).paused).toBe(true);
      const jobs = z.array(ObjectSummarySchema).parse((await h.json("GET", "/jobs")).body);
      expect(jobs.find((j) => j.name === "deploy")?.paused).toBe(true);
      expect((await h.json("POST", "/jobs/deploy/resume")).body).toEqual({ ok: true });
      expect(WhySchema.parse((await h.json("GET", "/jobs/deploy/why")).body).paused).toBe(false);
      await expectError(await h.call("POST", "/jobs/nope/pause"), 404, "JOB_NOT_FOUND");
      await expectError(await h.call("POST", "/jobs/nope/resume"), 404, "JOB_NOT_FOUND");
    });

    it("PUT and DELETE pins answer {ok: true}; bad pins answer their codes", async () => {
      expect((await h.json("PUT", "/jobs/deploy/pins/ext", { versionNumber: 1 })).body).toEqual({ ok: true });
      expect(WhySchema.parse((await h.json("GET", "/jobs/deploy/why")).body).pins).toEqual({ ext: 1 });
      expect((await h.json("DELETE", "/jobs/deploy/pins/ext")).body).toEqual({ ok: true });
      expect(WhySchema.parse((await h.json("GET", "/jobs/deploy/why")).body).pins).toEqual({});
      await expectError(await h.call("PUT", "/jobs/deploy/pins/ext", { versionNumber: 0 }), 400, "BAD_REQUEST");
      await expectError(await h.call("PUT", "/jobs/deploy/pins/ext", {}), 400, "BAD_REQUEST");
      await expectError(await h.call("PUT", "/jobs/deploy/pins/cfg", { versionNumber: 1 }), 400, "NOT_AN_INPUT");
      await expectError(await h.call("PUT", "/jobs/deploy/pins/ext", { versionNumber: 7 }), 404, "VERSION_NOT_FOUND");
      await expectError(await h.call("PUT", "/jobs/nope/pins/ext", { versionNumber: 1 }), 404, "JOB_NOT_FOUND");
      await expectError(await h.call("DELETE", "/jobs/nope/pins/ext"), 404, "JOB_NOT_FOUND");
    });

    it("GET /jobs/:job/why explains the runs of a job", async () => {
      await h.engine.idle();
      const why = WhySchema.parse((await h.json("GET", "/jobs/deploy/why")).body);
      expect(why).toMatchObject({ job: "deploy", consistent: true, pending: [] });
      expect(why.explains.some((e) => e.outcome === "created")).toBe(true);
      expect(WhySchema.parse((await h.json("GET", "/jobs/broken/why")).body).consistent).toBe(false);
      await expectError(await h.call("GET", "/jobs/nope/why"), 404, "JOB_NOT_FOUND");
      await expectError(await h.call("GET", "/jobs/cfg/why"), 404, "JOB_NOT_FOUND");
    });

    it("GET /jobs/:job/state lists the files of the latest state; files are served by path", async () => {
      await h.engine.idle();
      const state = StateSchema.parse((await h.json("GET", "/jobs/build/state")).body);
      expect(state.job).toBe("build");
      expect(state.stateSha).toMatch(/^[0-9a-f]{64}$/);
      expect(state.files.map((f) => [f.path, f.size])).toEqual([
        ["dir/u.txt", 6],
        ["out.txt", 6],
      ]);
      const file = await h.call("GET", "/jobs/build/state/files/dir/u.txt");
      expect(file.status).toBe(200);
      expect(Buffer.from(await file.arrayBuffer()).toString("utf8")).toBe("café\n");
      expect(await (await h.call("GET", "/jobs/build/state/files/out.txt")).text()).toBe("built\n");
      await expectError(await h.call("GET", "/jobs/build/state/files/none.txt"), 404, "NOT_FOUND");
      await expectError(await h.call("GET", "/jobs/build/state/files/..%2Fout.txt"), 404, "NOT_FOUND");
      expect(StateSchema.parse((await h.json("GET", "/jobs/slow/state")).body)).toEqual({
        job: "slow",
        runId: null,
        stateSha: null,
        files: [],
      });
      await expectError(await h.call("GET", "/jobs/nope/state"), 404, "JOB_NOT_FOUND");
    });
  });

  describe("versions and traces", () => {
    it("POST /objects/:name/versions creates a version (201) that triggers consumers", async () => {
      const res = await h.json("POST", "/objects/ext/versions", {
        versionName: "v2",
        propertyBag: { params: { LEVEL: "2" } },
      });
      expect(res.status).toBe(201);
      const body = z.object({ version: VersionSchema, runs: z.array(RunSchema) }).parse(res.body);
      expect(body.version).toMatchObject({ versionNumber: 2, versionName: "v2", createdBy: "api", runId: null });
      expect(body.version.flow).toEqual(expect.any(String));
      expect(body.runs.map((r) => r.job)).toEqual(["deploy"]);
      expect(body.runs[0]?.flow).toBe(body.version.flow);
      await finished(h, body.runs[0]!.id);
      const log = await (await h.call("GET", `/runs/${body.runs[0]!.id}/logs`)).text();
      expect(log).toContain("deploying at level 2");
    });

    it("answers RESOURCE_NOT_FOUND for a version of a job or of nothing, BAD_REQUEST for a bad body", async () => {
      await expectError(await h.call("POST", "/objects/build/versions", {}), 404, "RESOURCE_NOT_FOUND");
      await expectError(await h.call("POST", "/objects/nope/versions", {}), 404, "RESOURCE_NOT_FOUND");
      await expectError(await h.call("POST", "/objects/ext/versions", { versionName: 5 }), 400, "BAD_REQUEST");
      // A body nested 10,000 deep is refused by its depth (before anything walks it recursively).
      const deep = `{"propertyBag":${'{"d":'.repeat(10_000)}"x"${"}".repeat(10_001)}`;
      const refused = await expectError(await h.call("POST", "/objects/ext/versions", deep), 400, "BAD_REQUEST");
      expect(refused.error.message).toBe("the body nests deeper than 64 levels of arrays and objects");
      expect(refused.error.details).toEqual({ limit: 64 });
      await expectError(await h.call("GET", "/objects/nope/versions"), 404, "RESOURCE_NOT_FOUND");
    });

    it("GET /objects/:name/versions lists versions newest first, for resources and jobs", async () => {
      const ext = z.array(VersionSchema).parse((await h.json("GET", "/objects/ext/versions")).body);
      expect(ext.map((v) => [v.versionNumber, v.createdBy])).toEqual([
        [2, "api"],
        [1, "yaml"],
      ]);
      expect(ext[1]?.propertyBag).toEqual({ params: { LEVEL: "1" } });
      const build = z.array(VersionSchema).parse((await h.json("GET", "/objects/build/versions?limit=2")).body);
      expect(build).toHaveLength(2);
      expect(build[0]!.versionNumber).toBeGreaterThan(build[1]!.versionNumber);
      expect(build[0]!.runId).toEqual(expect.any(Number));
      // The run that made it, as a person names it: the job's run whose id it is.
      const made = RunSchema.parse((await h.json("GET", `/runs/${build[0]!.runId}`)).body);
      expect(build[0]!.run).toEqual({ job: "build", number: made.number });
      expect(ext.map((v) => v.run)).toEqual([null, null]);
      await expectError(await h.call("GET", "/objects/ext/versions?limit=0"), 400, "BAD_REQUEST");
    });

    it("GET /objects/:name/trace gives the lineage of a version", async () => {
      const deploys = z.array(VersionSchema).parse((await h.json("GET", "/objects/deploy/versions")).body);
      const trace = TraceSchema.parse(
        (await h.json("GET", `/objects/deploy/trace?versionNumber=${deploys.at(-1)!.versionNumber}`)).body,
      );
      expect(trace.version.versionNumber).toBe(deploys.at(-1)!.versionNumber);
      expect(trace.entries.map((e) => [e.depth, e.name])).toEqual(
        expect.arrayContaining([
          [1, "build"],
          [1, "ext"],
          [2, "cfg"],
        ]),
      );
      const build = trace.entries.find((e) => e.name === "build");
      expect(build?.run).toEqual({ job: "build", number: build?.versionNumber });
      expect(trace.entries.find((e) => e.name === "cfg")?.run).toBeNull();
      const latest = TraceSchema.parse((await h.json("GET", "/objects/deploy/trace")).body);
      expect(latest.version.versionNumber).toBe(deploys[0]!.versionNumber);
      await expectError(await h.call("GET", "/objects/deploy/trace?versionNumber=999"), 404, "VERSION_NOT_FOUND");
      await expectError(await h.call("GET", "/objects/nope/trace"), 404, "RESOURCE_NOT_FOUND");
      await expectError(await h.call("GET", "/objects/deploy/trace?versionNumber=x"), 400, "BAD_REQUEST");
    });
  });

  describe("GET /events", () => {
    it("replays from Last-Event-ID, then delivers live events without a gap or repeat", async () => {
      const ids = (await h.stores.store.eventsSince(0, 100_000)).map((e) => e.id);
      const from = ids[Math.floor(ids.length / 2)]!;
      const res = await h.call("GET", "/events", undefined, { "last-event-id": String(from) });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const expected = ids.filter((id) => id > from);
      let triggered = false;
      const { messages } = await readSse(res, (ms) => {
        if (!triggered && ms.length >= expected.length) {
          triggered = true;
          void h.json("POST", "/jobs/slow/pause");
        }
        return ms.some((m) => Number(m.id) > (ids.at(-1) ?? 0));
      });
      const events = messages.map((m) => EventSchema.parse(JSON.parse(m.data)));
      expect(messages.every((m) => m.event === "message")).toBe(true);
      expect(messages.map((m) => Number(m.id))).toEqual(events.map((e) => e.id));
      expect(events.slice(0, expected.length).map((e) => e.id)).toEqual(expected);
      const all = events.map((e) => e.id);
      expect(all).toEqual([...new Set(all)].sort((a, b) => a - b));
      expect(events.at(-1)).toMatchObject({ type: "definition", payload: { name: "slow", change: "paused" } });
      await h.json("POST", "/jobs/slow/resume");
    });

    it("replays from ?after= and sends heartbeat comments", async () => {
      const res = await h.call("GET", "/events?after=0");
      const total = (await h.stores.store.eventsSince(0, 100_000)).length;
      const { messages, comments } = await readSse(res, (ms) => ms.length >= total);
      expect(messages.slice(0, total).map((m) => Number(m.id))).toEqual(
        (await h.stores.store.eventsSince(0, 100_000)).map((e) => e.id).slice(0, total),
      );
      // Up to the first heartbeat (readSse gives up after its deadline).
      const live = await h.call("GET", "/events");
      const { comments: beats } = await readSse(live, (_, seen) => seen.includes("heartbeat"));
      expect([...comments, ...beats]).toContain("heartbeat");
    });

    it("answers BAD_REQUEST for a bad Last-Event-ID", async () => {
      await expectError(await h.call("GET", "/events", undefined, { "last-event-id": "x" }), 400, "BAD_REQUEST");
    });
  });
});

describe("loadPipeline is the default loader", () => {
  it("is what POST /apply uses (sanity check of the fixture)", () => {
    expect(loadPipeline([{ path: "causeway.yml", text: LINE }]).summary).toMatchObject({ resources: 2, jobs: 4 });
  });
});

describe("POST /apply with files that do not load, and GET /applies", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await testApp();
  });
  afterAll(() => h.close());

  const A = yaml`
    jobs:
      - name: build
        type: runSh
        steps:
          - TASK:
              script: [make]
  `;
  const B = yaml`
    jobs:
      - name: report
        type: runSh
        steps:
          - IN: build
          - TASK:
              script: [./report]
  `;
  const apply = async (body: unknown) => ApplyResultSchema.parse((await h.json("POST", "/apply", body)).body);

  it("keeps the objects of a refused file, says so per file, and records every apply", async () => {
    const first = await apply({
      files: [
        { path: "a.causeway.yml", text: A },
        { path: "b.causeway.yml", text: B },
      ],
    });
    expect(first).toMatchObject({ ok: true, added: ["build", "report"], kept: [] });

    const broken = await apply({
      files: [
        { path: "a.causeway.yml", text: A.replace("make", "make all") },
        { path: "b.causeway.yml", text: "jobs: [\n" },
      ],
      source: "cli",
      user: "alice",
    });
    expect(broken).toMatchObject({ ok: false, applied: true, changed: ["build"], removed: [], kept: ["report"] });
    expect(broken.files).toEqual([
      { path: "a.causeway.yml", status: "loaded" },
      {
        path: "b.causeway.yml",
        status: "refused",
        reason: expect.objectContaining({ code: "PIPELINE_YAML_SYNTAX", file: "b.causeway.yml", line: 2, col: 1 }),
      },
    ]);
    expect(broken.applyId).toBeGreaterThan(first.applyId);

    // A file the client did not send (over its cap) is refused too: what it defined is kept.
    const unread = await apply({
      files: [{ path: "a.causeway.yml", text: A }],
      unread: [{ path: "b.causeway.yml", code: "PIPELINE_FILE_TOO_LARGE", message: "file is 5 MB, over the cap" }],
    });
    expect(unread).toMatchObject({ changed: ["build"], removed: [], kept: ["report"] });
    expect(unread.diagnostics).toContainEqual(
      expect.objectContaining({ code: "PIPELINE_FILE_TOO_LARGE", file: "b.causeway.yml", line: 1, col: 1 }),
    );

    const history = z.array(ApplyRecordSchema).parse((await h.json("GET", "/applies")).body);
    expect(history.map((a) => [a.id, a.source, a.by, a.kept])).toEqual([
      [unread.applyId, "api", "admin", ["report"]],
      [broken.applyId, "cli", "alice", ["report"]],
      [first.applyId, "api", "admin", []],
    ]);
    expect(history[1]?.problems[0]).toMatchObject({ code: "PIPELINE_YAML_SYNTAX", file: "b.causeway.yml", line: 2 });
    // With the lines the file had around it, for a code frame.
    expect(history[1]?.problems[0]?.excerpt).toEqual({ firstLine: 1, lines: ["jobs: [", ""] });
    expect(z.array(ApplyRecordSchema).parse((await h.json("GET", "/applies?limit=1")).body)).toHaveLength(1);
    await expectError(await h.call("GET", "/applies?limit=0"), 400, "BAD_REQUEST");
  });

  it.each([
    ["an unread file of a code that is not a refusal before reading", { code: "PIPELINE_YAML_SYNTAX" }],
    ["an unknown source", { source: "watcher" }],
  ])("answers 400 BAD_REQUEST for %s", async (_what, extra) => {
    const unread = "code" in extra ? [{ path: "b.causeway.yml", message: "m", ...extra }] : undefined;
    const body = {
      files: [{ path: "a.causeway.yml", text: A }],
      ...(unread === undefined ? extra : { unread }),
    };
    await expectError(await h.call("POST", "/apply", body), 400, "BAD_REQUEST");
  });
});
