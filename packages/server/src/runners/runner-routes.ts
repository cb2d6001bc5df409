import {
  CausewayError,
  DEFAULT_POOL,
  JOB_TOKEN_PREFIX,
  REGISTRATION_PREFIX,
  RUNNER_CREDENTIAL_PREFIX,
  type RunnerRecord,
  type RunnerStore,
} from "@causeway/core";
import {
  AttemptCallSchema,
  AttemptFinishSchema,
  RUNNER_API,
  RunnerClaimRequestSchema,
  RunnerRegisterSchema,
  RunnerSessionRequestSchema,
  RunnerTokenRequestSchema,
  type RunnerClaim,
  type RunnerJson,
  type RunnerRegistered,
  type RunnerSession,
  type RunnerTokenJson,
} from "@causeway/protocol";
import type { Context, Hono } from "hono";
import type { AppDeps } from "../deps.js";
import type { AppEnv } from "../http-errors.js";
import { actorName, USER_HEADER } from "../identity.js";
import { BODY_LIMITS, intParam, readBody, readBytes } from "../request.js";
import type { GuardedRoutes } from "../routes.js";
import { hashSecret, newSecret } from "../auth.js";
import type { Attempt, RunnerHub } from "./hub.js";
import { checkIntegration, checkReadableBlob } from "./in-process.js";

/** What the runner routes need. */
export interface RunnerDeps {
  readonly hub: RunnerHub;
  readonly store: RunnerStore;
}

/** The most console bytes one upload carries (the runner sends at most 1 MiB). */
const LOG_CHUNK_LIMIT = 4 * 1024 * 1024;
/** The largest blob (a state archive) a runner uploads. */
const BLOB_LIMIT = 512 * 1024 * 1024;
/** How long a registration token lives by default. */
const REGISTRATION_HOURS = 24;

/**
 * The runners' routes. Under /api/v1, for people (admin unless said): make a registration
 * token, list the runners (viewer), drain or activate one. Under /api/runner/v1, the runner
 * protocol (design §5, docs/runners.md): each call carries a registration token (register), a
 * runner credential (sessions, claims) or a job token (everything about one attempt), never an
 * API token, and none of them opens anything else.
 */
export function mountRunnerRoutes(app: Hono<AppEnv>, api: GuardedRoutes, deps: AppDeps, runners: RunnerDeps): void {
  const { hub, store } = runners;

  api.post("/runner-tokens", "admin", async (c) => {
    const body = await readBody(c, RunnerTokenRequestSchema, BODY_LIMITS.small);
    const token = newSecret(REGISTRATION_PREFIX);
    const now = new Date();
    const expiresAt = new Date(now.getTime() + (body.expiresInHours ?? REGISTRATION_HOURS) * 3_600_000).toISOString();
    const actor = actorName(c.get("token"), c.req.header(USER_HEADER));
    await store.createRegistration(
      { hash: hashSecret(token), pool: body.pool ?? null, createdAt: now.toISOString(), createdBy: actor, expiresAt },
      { actor, action: "runner-token-create", subject: "runners", detail: { pool: body.pool ?? null, expiresAt } },
    );
    const answer: RunnerTokenJson = { token, pool: body.pool ?? null, expiresAt };
    return c.json(answer, 201);
  });

  api.get("/runners", "viewer", async (c) => c.json({ runners: await hub.list() }));

  for (const [verb, state] of [
    ["drain", "draining"],
    ["activate", "active"],
  ] as const) {
    api.post(`/runners/:name/${verb}`, "admin", async (c) => {
      const name = c.req.param("name");
      const actor = actorName(c.get("token"), c.req.header(USER_HEADER));
      const record = await store.setRunnerState(name, state, {
        actor,
        action: verb === "drain" ? "runner-drain" : "runner-activate",
        subject: `runner:${name}`,
        detail: {},
      });
      hub.updated(record);
      const runner = (await hub.list()).find((r) => r.name === name) as RunnerJson;
      return c.json({ runner });
    });
  }

  // The runner protocol: outside /api/v1 and its API tokens.
  const route = (method: "POST" | "PUT" | "GET", path: string): string => {
    api.open(method, `${RUNNER_API}${path}`);
    return `${RUNNER_API}${path}`;
  };

  app.post(route("POST", "/register"), async (c) => {
    const body = await readBody(c, RunnerRegisterSchema, BODY_LIMITS.small);
    const credential = newSecret(RUNNER_CREDENTIAL_PREFIX);
    const record = await store.register(hashSecret(body.token), {
      name: body.name,
      pool: body.pool ?? DEFAULT_POOL,
      labels: body.labels,
      capacity: body.capacity,
      credentialHash: hashSecret(credential),
      at: new Date().toISOString(),
    });
    hub.updated(record);
    const runner = (await hub.list()).find((r) => r.name === record.name) as RunnerJson;
    const answer: RunnerRegistered = { runner, credential };
    return c.json(answer, 201);
  });

  app.post(route("POST", "/sessions"), async (c) => {
    const runner = await runnerOf(c, hub);
    const body = await readBody(c, RunnerSessionRequestSchema, BODY_LIMITS.small);
    const record = await hub.startSession(runner, body.capacity, body.labels, body.running);
    const answer: RunnerSession = {
      session: record.session as string,
      runner: (await hub.list()).find((r) => r.name === record.name) as RunnerJson,
      settings: hub.settings,
    };
    return c.json(answer);
  });

  app.post(route("POST", "/claim"), async (c) => {
    const runner = await runnerOf(c, hub);
    const body = await readBody(c, RunnerClaimRequestSchema, BODY_LIMITS.small);
    const claimed = await hub.claim(runner, body.session, c.req.raw.signal);
    if (claimed === undefined) return c.body(null, 204);
    const answer: RunnerClaim = {
      runId: claimed.runId,
      epoch: claimed.epoch,
      jobToken: claimed.jobToken,
      spec: claimed.spec as unknown as Record<string, unknown>,
    };
    return c.json(answer);
  });

  app.post(route("POST", "/attempts/:id/start"), async (c) => {
    const attempt = await attemptOf(c, hub);
    hub.start(attempt);
    return c.json({ ok: true });
  });

  app.post(route("POST", "/attempts/:id/heartbeat"), async (c) => {
    const attempt = await attemptOf(c, hub);
    return c.json(hub.heartbeat(attempt));
  });

  app.put(route("PUT", "/attempts/:id/log"), async (c) => {
    const offset = intParam(c.req.query("offset"), "offset", { min: 0, max: Number.MAX_SAFE_INTEGER }) as number;
    const attempt = await attemptOf(c, hub, epochQuery(c));
    const bytes = await readBytes(c.req.raw, LOG_CHUNK_LIMIT);
    if (bytes === undefined)
      throw new CausewayError("BAD_REQUEST", `a log upload carries at most ${LOG_CHUNK_LIMIT} bytes`);
    return c.json({ offset: await hub.log(attempt, offset, bytes) });
  });

  app.post(route("POST", "/attempts/:id/finish"), async (c) => {
    const body = await readBody(c, AttemptFinishSchema, BODY_LIMITS.default);
    // Idempotent: a finish repeated (its answer was lost) is answered as the first.
    const attempt = hub.attempt(jobToken(c), attemptId(c), body.epoch, true);
    await hub.finish(attempt, body.logBytes, body.result);
    return c.json({ ok: true });
  });

  app.get(route("GET", "/attempts/:id/blobs/:sha"), async (c) => {
    const attempt = await attemptOf(c, hub, epochQuery(c));
    const sha = c.req.param("sha") ?? "";
    await checkReadableBlob(hub.specOf(attempt), attempt.runId, sha, deps.blobs);
    const bytes = await deps.blobs.get(sha);
    if (bytes === undefined) throw new CausewayError("NOT_FOUND", `no blob ${sha}`);
    return c.body(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as ArrayBuffer, 200, {
      "Content-Type": "application/octet-stream",
    });
  });

  app.put(route("PUT", "/attempts/:id/blobs"), async (c) => {
    await attemptOf(c, hub, epochQuery(c));
    const bytes = await readBytes(c.req.raw, BLOB_LIMIT);
    if (bytes === undefined) throw new CausewayError("BAD_REQUEST", `a blob is at most ${BLOB_LIMIT} bytes`);
    return c.json({ sha: await deps.blobs.put(bytes) }, 201);
  });

  app.get(route("GET", "/attempts/:id/integrations/:name"), async (c) => {
    const attempt = await attemptOf(c, hub, epochQuery(c));
    const name = c.req.param("name") ?? "";
    checkIntegration(hub.specOf(attempt), attempt.runId, name);
    const fields = await deps.integrations?.get(name);
    if (fields === undefined) throw new CausewayError("NOT_FOUND", `no integration ${name}`);
    return c.json({ fields });
  });
}

function bearer(c: Context<AppEnv>): string {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match?.[1] === undefined) {
    throw new CausewayError(
      "UNAUTHORIZED",
      "the runner protocol needs Authorization: Bearer <credential or job token>",
    );
  }
  return match[1];
}

async function runnerOf(c: Context<AppEnv>, hub: RunnerHub): Promise<RunnerRecord> {
  const secret = bearer(c);
  const runner = secret.startsWith(RUNNER_CREDENTIAL_PREFIX) ? await hub.authenticate(secret) : undefined;
  if (runner === undefined) {
    throw new CausewayError("UNAUTHORIZED", "the runner credential is missing or wrong", {
      hint: "a runner registers once with a token from `causeway runner-token create`",
    });
  }
  return runner;
}

function jobToken(c: Context<AppEnv>): string {
  const token = bearer(c);
  if (!token.startsWith(JOB_TOKEN_PREFIX))
    throw new CausewayError("UNAUTHORIZED", "an attempt's calls need its job token");
  return token;
}

function attemptId(c: Context<AppEnv>): number {
  return intParam(c.req.param("id"), "run id", { min: 1, max: Number.MAX_SAFE_INTEGER }) as number;
}

function epochQuery(c: Context<AppEnv>): number {
  return intParam(c.req.query("epoch"), "epoch", { min: 0, max: Number.MAX_SAFE_INTEGER }) as number;
}

async function attemptOf(c: Context<AppEnv>, hub: RunnerHub, epoch?: number): Promise<Attempt> {
  const token = jobToken(c);
  const id = attemptId(c);
  const at = epoch ?? (await readBody(c, AttemptCallSchema, BODY_LIMITS.small)).epoch;
  return hub.attempt(token, id, at);
}
