import { randomUUID } from "node:crypto";
import { isAbsolute } from "node:path";
import {
  CausewayError,
  diagnostic,
  loadManifest,
  loadPipeline,
  RUN_STATUSES,
  type LoadResult,
  type Run,
  type RunStatus,
  type StoreTx,
} from "@causeway/core";
import {
  API_PREFIX,
  openApiDocument,
  ApplyBodySchema,
  ExternalCIBodySchema,
  NotificationStateSchema,
  PinBodySchema,
  type ApplyBody,
  PutVersionBodySchema,
  TriggerBodySchema,
  type StateJson,
  type RunJson,
} from "@causeway/protocol";
import { Hono, type Context } from "hono";
import { applyLoad, planLoad, toApplyRecordJson, toApplyResult } from "./apply-load.js";
import { mountApprovalRoutes } from "./approval-routes.js";
import { mountSecretRoutes } from "./secret-routes.js";
import { mountRunnerRoutes } from "./runners/runner-routes.js";
import type { AppDeps } from "./deps.js";
import { errorResponse, type AppEnv } from "./http-errors.js";
import { actorName, USER_HEADER } from "./identity.js";
import { silentLogger } from "./logger.js";
import {
  objectSummaries,
  secretParams,
  toNotificationJson,
  toRunJson,
  runRefs,
  toTraceJson,
  toVersionJson,
  toWhyJson,
} from "./mapping.js";
import { DEFAULT_MAX_STREAMS } from "./options.js";
import { BODY_LIMITS, intParam, readBody, runIdParam } from "./request.js";
import { currentRun, eventsRoute, logExpected, logStreamRoute, StreamRegistry } from "./streams.js";
import { GuardedRoutes, authenticate, recordRules } from "./routes.js";
import { SessionCookies } from "./sessions.js";
import { mountTokenRoutes } from "./token-routes.js";
import { mountWebApiRoutes, mountWebUi } from "./web-routes.js";
import { publicEventFilter } from "./graph-model.js";
import { HOOKS_PREFIX, listWebhooks, mountHooks } from "./webhooks.js";

/** The prefix of every route (the route table's, protocol api-routes.ts). */
export { API_PREFIX };

const LIST_LIMIT = { min: 1, max: 1000, fallback: 50 } as const;

/**
 * Builds the HTTP API (JSON under /api/v1, see docs/api.md) without listening, so tests call
 * it in-process with `app.request()`. Errors follow the catalog of core/errors.ts; a stack
 * never leaves the server.
 */
export function buildApp(deps: AppDeps): Hono<AppEnv> {
  const { engine, store } = deps;
  // Every run leaves through here: values of `secret` parameters never do.
  const runJson = (run: Run): RunJson => toRunJson(run, secretParams(engine, run.job));
  const logger = deps.logger ?? silentLogger;
  const load = deps.loadFiles ?? loadPipeline;
  const streams = new StreamRegistry(deps.maxStreams ?? DEFAULT_MAX_STREAMS, deps.signal);
  const app = new Hono<AppEnv>();
  const api = new Hono<AppEnv>();

  app.use("*", async (c, next) => {
    const requestId = randomUUID();
    c.set("requestId", requestId);
    await next();
    c.header("X-Request-Id", requestId);
  });
  app.onError((error, c) => errorResponse(c, error, logger));
  app.notFound((c) =>
    errorResponse(c, new CausewayError("NOT_FOUND", `no route ${c.req.method} ${c.req.path}`), logger),
  );

  api.get("/health", (c) => c.json({ ok: true as const, version: deps.version }));
  // The contract, readable without a token: the OpenAPI document of the route table, and the
  // API's root pointing to it.
  let openApi: Record<string, unknown> | undefined;
  api.get("/openapi.json", (c) => c.json((openApi ??= openApiDocument(deps.version))));
  // On the app: `/api/v1/` (with its slash) is not a route of `api`, whose guard would refuse it.
  app.get(`${API_PREFIX}/`, (c) =>
    c.json({ name: "Causeway API", version: deps.version, openapi: `${API_PREFIX}/openapi.json`, docs: "docs/api.md" }),
  );

  const auth = deps.auth;
  const publicAccess = deps.publicAccess === true;
  const sessions = new SessionCookies(deps.secretKeys);
  api.use("*", authenticate(auth, publicAccess, sessions));
  const routes = new GuardedRoutes(api, API_PREFIX, publicAccess);
  routes.open("GET", `${API_PREFIX}/health`);
  routes.open("GET", `${API_PREFIX}/openapi.json`);
  routes.open("GET", `${API_PREFIX}/`);
  // Anonymous readers of a public server see the jobs with allowPublicAccess and their runs.
  const isPublicJob = (job: string): boolean => engine.view.job(job)?.allowPublicAccess === true;
  const anonymous = (c: Context<AppEnv>): boolean => c.get("token") === undefined;
  // A run that does not exist is refused as a hidden one is: anonymous readers learn nothing.
  const publicRun = async (c: Context<AppEnv>): Promise<boolean> => {
    const run = await currentRun(deps, runIdParam(c)).catch(() => undefined);
    return run !== undefined && isPublicJob(run.job);
  };
  const publicList = (): boolean => true;

  // The load of an apply or plan body: files the client found but did not send (over a cap)
  // are refused, so what they defined is kept.
  const loadBody = (body: ApplyBody): LoadResult => {
    if (body.files.length === 0 && (body.unread ?? []).length === 0) {
      // Applying no file at all would remove every object: refused, never applied.
      throw new CausewayError("BAD_REQUEST", "no files to apply: send the pipeline files of a directory");
    }
    if (body.baseDir !== undefined && !isAbsolute(body.baseDir)) {
      throw new CausewayError("BAD_REQUEST", `baseDir must be an absolute path, got ${JSON.stringify(body.baseDir)}`);
    }
    const names = new Set<string>();
    for (const s of body.sources ?? []) {
      if (names.has(s.name)) throw new CausewayError("BAD_REQUEST", `two sources are named ${s.name}`);
      names.add(s.name);
      if (s.dir !== undefined && !isAbsolute(s.dir))
        throw new CausewayError(
          "BAD_REQUEST",
          `the dir of source ${s.name} must be an absolute path, got ${JSON.stringify(s.dir)}`,
        );
    }
    const unread = (body.unread ?? []).map((u) => ({
      path: u.path,
      reason: diagnostic(u.code, { file: u.path, line: 1, col: 1, endLine: 1, endCol: 1 }, [], u.message),
    }));
    return load(body.files, { applied: engine.appliedFiles() }, unread);
  };

  routes.post("/apply", "admin", async (c) => {
    const body = await readBody(c, ApplyBodySchema, BODY_LIMITS.apply);
    const result = loadBody(body);
    // Inconsistent objects are applied as such: one broken object does not take the line down.
    const texts = new Map(body.files.map((f) => [f.path, f.text]));
    const report = await applyLoad(engine, result, {
      textOf: (file) => texts.get(file),
      source: body.source ?? "api",
      by: actor(c, body.user),
      dir: body.baseDir ?? null,
      ...(body.sources === undefined ? {} : { sources: body.sources }),
    });
    return c.json(toApplyResult(result, report));
  });

  routes.post("/plan", "admin", async (c) => {
    const body = await readBody(c, ApplyBodySchema, BODY_LIMITS.apply);
    return c.json(
      await planLoad(engine, loadBody(body), {
        dir: body.baseDir ?? null,
        ...(body.sources === undefined ? {} : { sources: body.sources }),
      }),
    );
  });

  routes.get("/applies", "viewer", async (c) => {
    const limit = intParam(c.req.query("limit"), "limit", LIST_LIMIT) as number;
    return c.json((await store.read.listApplies(limit)).map(toApplyRecordJson));
  });

  routes.get(
    "/jobs",
    "viewer",
    (c) => c.json(objectSummaries(engine, "job").filter((j) => !anonymous(c) || isPublicJob(j.name))),
    publicList,
  );
  routes.get("/resources", "viewer", (c) => c.json(objectSummaries(engine, "resource")));

  routes.post("/jobs/:job/runs", "operator", async (c) => {
    const body = await readBody(c, TriggerBodySchema, BODY_LIMITS.default);
    const run = await engine.trigger(c.req.param("job"), {
      ...(body.params === undefined ? {} : { params: body.params }),
      ...(body.pins === undefined ? {} : { pins: body.pins }),
      user: actor(c, body.user),
    });
    return c.json(runJson(run), 201);
  });

  routes.get(
    "/runs",
    "viewer",
    async (c) => {
      const statuses = parseStatuses(c.req.query("status"));
      const job = c.req.query("job");
      const flowText = c.req.query("flow");
      const flow = flowText === undefined || flowText === "" ? undefined : await resolveFlow(store.read, flowText);
      const runs = await store.read.listRuns({
        ...(job === undefined || job === "" ? {} : { job }),
        ...(flow === undefined ? {} : { flow }),
        ...(statuses === undefined ? {} : { statuses }),
        limit: intParam(c.req.query("limit"), "limit", LIST_LIMIT) as number,
      });
      return c.json(runs.filter((r) => !anonymous(c) || isPublicJob(r.job)).map(runJson));
    },
    publicList,
  );

  routes.get("/runs/:id", "viewer", async (c) => c.json(runJson(await currentRun(deps, runIdParam(c)))), publicRun);

  routes.get(
    "/runs/:id/logs",
    "viewer",
    async (c) => {
      const id = runIdParam(c);
      const offset = intParam(c.req.query("offset"), "offset", {
        min: 0,
        max: Number.MAX_SAFE_INTEGER,
        fallback: 0,
      }) as number;
      // The status before the bytes: a final status means the bytes read next are the whole rest.
      const run = await currentRun(deps, id);
      const bytes = await deps.logs.read(id, offset, { expected: logExpected(run) });
      return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
        "Content-Type": "text/plain; charset=utf-8",
        "X-Next-Offset": String(offset + bytes.byteLength),
        "X-Run-Status": run.status,
      });
    },
    publicRun,
  );

  routes.get("/runs/:id/logs/stream", "viewer", (c) => logStreamRoute(c, deps, streams, runIdParam(c)), publicRun);

  routes.post("/runs/:id/cancel", "operator", async (c) => {
    const who = actor(c);
    return c.json(runJson(await engine.cancel(runIdParam(c), `cancelled by ${who}`, who)));
  });
  routes.post("/runs/:id/rerun", "operator", async (c) =>
    c.json(runJson(await engine.rerun(runIdParam(c), actor(c))), 201),
  );

  routes.post("/jobs/:job/pause", "operator", async (c) => {
    await engine.setPaused(c.req.param("job"), true, actor(c));
    return c.json({ ok: true as const });
  });
  routes.post("/jobs/:job/resume", "operator", async (c) => {
    await engine.setPaused(c.req.param("job"), false, actor(c));
    return c.json({ ok: true as const });
  });
  routes.put("/jobs/:job/pins/:input", "operator", async (c) => {
    const body = await readBody(c, PinBodySchema, BODY_LIMITS.small);
    await engine.setPin(c.req.param("job"), c.req.param("input"), body.versionNumber, actor(c));
    return c.json({ ok: true as const });
  });
  routes.delete("/jobs/:job/pins/:input", "operator", async (c) => {
    await engine.setPin(c.req.param("job"), c.req.param("input"), null, actor(c));
    return c.json({ ok: true as const });
  });
  mountApprovalRoutes(routes, deps);
  mountTokenRoutes(routes, deps);
  mountWebApiRoutes(routes, deps, sessions, publicAccess);
  mountSecretRoutes(routes, deps);
  if (deps.runners !== undefined) mountRunnerRoutes(app, routes, deps, deps.runners);

  routes.get("/objects/:name/versions", "viewer", async (c) => {
    const name = await knownObject(deps, c.req.param("name"));
    const limit = intParam(c.req.query("limit"), "limit", LIST_LIMIT) as number;
    const versions = await store.read.listVersions(name, limit);
    const refs = await runRefs(store.read, versions);
    return c.json(versions.map((v) => toVersionJson(v, refs)));
  });
  routes.post("/objects/:name/versions", "operator", async (c) => {
    const body = await readBody(c, PutVersionBodySchema, BODY_LIMITS.default);
    const { version, runs } = await engine.putVersion(
      c.req.param("name"),
      {
        ...(body.versionName === undefined ? {} : { versionName: body.versionName }),
        ...(body.propertyBag === undefined ? {} : { propertyBag: body.propertyBag }),
      },
      "api",
    );
    return c.json(
      { version: toVersionJson(version, await runRefs(store.read, [version])), runs: runs.map(runJson) },
      201,
    );
  });
  routes.get("/objects/:name/trace", "viewer", async (c) => {
    const name = await knownObject(deps, c.req.param("name"));
    const n = intParam(c.req.query("versionNumber"), "versionNumber", { min: 1, max: Number.MAX_SAFE_INTEGER });
    const trace = await engine.trace(name, n);
    return c.json(toTraceJson(trace, await runRefs(store.read, [trace.version, ...trace.entries])));
  });

  routes.get("/jobs/:job/why", "viewer", async (c) =>
    c.json(toWhyJson(await engine.why(c.req.param("job")), secretParams(engine, c.req.param("job")))),
  );

  routes.get("/jobs/:job/state", "viewer", async (c) => c.json(await jobState(deps, c.req.param("job"))));
  routes.get("/jobs/:job/state/files/:path{.+}", "viewer", async (c) => {
    const job = c.req.param("job");
    const path = c.req.param("path");
    const state = await jobState(deps, job);
    const file = state.files.find((f) => f.path === path);
    const bytes = file === undefined ? undefined : await deps.blobs.get(file.sha);
    if (bytes === undefined) throw new CausewayError("NOT_FOUND", `the state of ${job} has no file ${path}`);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(bytes.byteLength),
    });
  });

  routes.get(
    "/events",
    "viewer",
    (c) => eventsRoute(c, deps, streams, anonymous(c) ? publicEventFilter(engine.view, isPublicJob) : undefined),
    publicList,
  );

  routes.post("/externalCI", "operator", async (c) => {
    const body = await readBody(c, ExternalCIBodySchema, BODY_LIMITS.default);
    const status = body.statusCode === 4001 ? "processing" : body.statusCode === 4002 ? "success" : "failure";
    const versionData = Object.fromEntries(Object.entries(body.versionData ?? {}).map(([k, v]) => [k, String(v)]));
    const { run, duplicate } = await engine.reportExternal(body.jobName, {
      status,
      ...(body.externalBuildId === undefined ? {} : { buildId: String(body.externalBuildId) }),
      ...(body.externalBuildUrl === undefined ? {} : { buildUrl: body.externalBuildUrl }),
      versionData,
      by: "externalCI",
    });
    return c.json({ run: run === null ? null : runJson(run), duplicate }, run === null || duplicate ? 200 : 201);
  });

  routes.get("/webhooks", "admin", async (c) => {
    const limit = intParam(c.req.query("limit"), "limit", LIST_LIMIT) as number;
    return c.json(await listWebhooks(deps, new URL(c.req.url).origin, limit));
  });

  routes.get("/notifications", "viewer", async (c) => {
    const limit = intParam(c.req.query("limit"), "limit", LIST_LIMIT) as number;
    const state = c.req.query("state");
    const parsed = state === undefined ? undefined : NotificationStateSchema.safeParse(state);
    if (parsed !== undefined && !parsed.success)
      throw new CausewayError(
        "BAD_REQUEST",
        `state must be pending, delivered or failed, not ${JSON.stringify(state)}`,
      );
    const notifications = await store.read.listNotifications({
      limit,
      ...(parsed === undefined ? {} : { state: parsed.data }),
    });
    return c.json({ notifications: notifications.map(toNotificationJson) });
  });

  routes.post("/notifications/:id/retry", "operator", async (c) => {
    const id = intParam(c.req.param("id"), "id", { min: 1, max: Number.MAX_SAFE_INTEGER }) as number;
    const retried = await store.transaction(async (tx) => {
      const found = await tx.getNotification(id);
      if (found === undefined) throw new CausewayError("NOTIFICATION_NOT_FOUND", `no notification delivery ${id}`);
      if (found.state !== "failed")
        throw new CausewayError("NOTIFICATION_NOT_FAILED", `notification delivery ${id} is ${found.state}, not failed`);
      return tx.updateNotification(id, { state: "pending", attempts: 0, nextAttemptAt: new Date().toISOString() });
    });
    deps.outbox?.wake();
    return c.json(toNotificationJson(retried));
  });

  // Outside the API: a delivery authenticates with the webhook's own key, not the API token.
  mountHooks(app, deps, logger);
  routes.open("POST", `${HOOKS_PREFIX}/:name`);
  app.route(API_PREFIX, api);
  mountWebUi(app, deps.webDir);
  routes.open("GET", "/*");
  recordRules(app, routes.rules);
  return app;
}

/**
 * Who asks for a change (identity.ts): the token's name; an admin token may name the person it
 * acts for in `X-Causeway-User` (or, from older clients, the `user` of the body).
 */
function actor(c: Context<AppEnv>, fromBody?: string): string {
  return actorName(c.get("token"), c.req.header(USER_HEADER), fromBody);
}

/** How many candidates an ambiguous flow prefix lists. */
const FLOW_CANDIDATES = 10;

/**
 * The flow id that `text` names: the flow id itself, or a prefix that starts exactly one flow id,
 * as git takes a unique prefix of a commit id.
 */
export async function resolveFlow(read: Pick<StoreTx, "flowsWithPrefix">, text: string): Promise<string> {
  const found = await read.flowsWithPrefix(text, FLOW_CANDIDATES);
  // The flow id itself sorts first among the ids it starts.
  if (found[0] === text || found.length === 1) return found[0] as string;
  if (found.length === 0)
    throw new CausewayError("FLOW_NOT_FOUND", `no flow id starts with ${JSON.stringify(text)}`, {
      hint: "copy a flow id, or its first characters, from the FLOW column of `causeway runs`",
    });
  const more = found.length === FLOW_CANDIDATES ? ", ..." : "";
  throw new CausewayError(
    "FLOW_AMBIGUOUS",
    `${JSON.stringify(text)} starts several flow ids: ${found.join(", ")}${more}`,
    { hint: "give more characters of the flow id", details: { candidates: found } },
  );
}

function parseStatuses(value: string | undefined): RunStatus[] | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const statuses = value.split(",").map((s) => s.trim());
  for (const s of statuses) {
    if (!(RUN_STATUSES as readonly string[]).includes(s)) {
      throw new CausewayError(
        "BAD_REQUEST",
        `unknown run status ${JSON.stringify(s)}; one of ${RUN_STATUSES.join(", ")}`,
      );
    }
  }
  return statuses as RunStatus[];
}

/** The name of a resource or job that is defined, or was (versions outlive a removal). */
async function knownObject(deps: AppDeps, name: string): Promise<string> {
  if (deps.engine.view.object(name) !== undefined || (await deps.store.read.getObject(name)) !== undefined) return name;
  throw deps.engine.objectNotFound(name);
}

const STATE_SEARCH_LIMIT = 1000;

/** The files of a job's latest state: the manifest of its latest version that has a stateSha. */
async function jobState(deps: AppDeps, job: string): Promise<StateJson> {
  deps.engine.requireJob(job);
  const versions = await deps.store.read.listVersions(job, STATE_SEARCH_LIMIT);
  const version = versions.find((v) => v.stateSha !== null);
  if (version?.stateSha == null) return { job, runId: null, stateSha: null, files: [] };
  const manifest = await loadManifest(deps.blobs, version.stateSha);
  return {
    job,
    runId: version.runId,
    stateSha: version.stateSha,
    files: manifest.files.map((f) => ({ path: f.path, size: f.size, mode: f.mode, sha: f.sha })),
  };
}
