import { z } from "zod";

// The runner protocol (design §5; docs/runners.md): what a remote runner and the server say to
// each other under /api/runner/v1. The runner calls out; the server never calls a runner.

/** The base path of the runner protocol. */
export const RUNNER_API = "/api/runner/v1";

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, "letters, digits, ., _ and -; at most 100");

/** `POST /register` (with a registration token): a runner's first start. */
export const RunnerRegisterSchema = z.object({
  token: z.string().min(1),
  name,
  pool: name.optional(),
  labels: z.array(name).max(50).default([]),
  capacity: z.number().int().min(1).max(256).default(1),
});
export type RunnerRegister = z.infer<typeof RunnerRegisterSchema>;

/** A runner as the API gives it (`causeway runners`). */
export const RunnerSchema = z.object({
  name: z.string(),
  pool: z.string(),
  labels: z.array(z.string()),
  capacity: z.number().int(),
  /** `active`, `draining` (set by an admin), `offline` (no session, or no call within its lease). */
  state: z.enum(["active", "draining", "offline"]),
  /** Runs it executes now. */
  runs: z.array(z.number().int()),
  registeredAt: z.string(),
  lastSeenAt: z.string().nullable(),
});
export type RunnerJson = z.infer<typeof RunnerSchema>;

/** The answer to a registration: the credential is shown this once. */
export const RunnerRegisteredSchema = z.object({ runner: RunnerSchema, credential: z.string() });
export type RunnerRegistered = z.infer<typeof RunnerRegisteredSchema>;

/** The intervals the server sets, in milliseconds. */
export const RunnerSettingsSchema = z.object({
  heartbeatMs: z.number().int().positive(),
  leaseMs: z.number().int().positive(),
  claimHoldMs: z.number().int().positive(),
  startTimeoutMs: z.number().int().positive(),
});
export type RunnerSettings = z.infer<typeof RunnerSettingsSchema>;

/** `POST /sessions` (runner credential): a runner process starts. */
export const RunnerSessionRequestSchema = z.object({
  capacity: z.number().int().min(1).max(256),
  labels: z.array(name).max(50).default([]),
  /** Runs this process still executes from a previous session's server (a server restart). */
  running: z.array(z.object({ runId: z.number().int(), epoch: z.number().int() })).default([]),
});
export type RunnerSessionRequest = z.infer<typeof RunnerSessionRequestSchema>;

export const RunnerSessionSchema = z.object({
  session: z.string(),
  runner: RunnerSchema,
  settings: RunnerSettingsSchema,
});
export type RunnerSession = z.infer<typeof RunnerSessionSchema>;

/** `POST /claim` (runner credential): held up to `claimHoldMs`; 204 when nothing came. */
export const RunnerClaimRequestSchema = z.object({ session: z.string(), free: z.number().int().min(1) });
export type RunnerClaimRequest = z.infer<typeof RunnerClaimRequestSchema>;

/** A claimed run: its spec (the engine's RunSpec), its epoch and its job token. */
export const RunnerClaimSchema = z.object({
  runId: z.number().int(),
  epoch: z.number().int(),
  jobToken: z.string(),
  spec: z.record(z.string(), z.unknown()),
});
export type RunnerClaim = z.infer<typeof RunnerClaimSchema>;

/** The body of every attempt call (job token): the epoch of the claim. */
export const AttemptCallSchema = z.object({ epoch: z.number().int() });

/** The answer to a heartbeat: a cancel travels on it. */
export const HeartbeatAnswerSchema = z.object({ cancel: z.string().nullable(), leaseMs: z.number().int() });
export type HeartbeatAnswer = z.infer<typeof HeartbeatAnswerSchema>;

/** The answer to a log upload, and to a gap (416): the raw bytes the server holds. */
export const LogAckSchema = z.object({ offset: z.number().int() });

/** `POST /attempts/:runId/finish`: the result and the size of the whole console. */
export const AttemptFinishSchema = z.object({
  epoch: z.number().int(),
  logBytes: z.number().int().min(0),
  result: z.object({
    status: z.enum(["success", "failure", "cancelled", "timeout", "error"]),
    reason: z.string().nullable(),
    exitCode: z.number().int().nullable(),
    stateSha: z.string().nullable(),
    outputs: z.record(z.string(), z.array(z.tuple([z.string(), z.string()]))),
    outStateShas: z.record(z.string(), z.string()),
    outVersions: z
      .record(
        z.string(),
        z.object({ versionName: z.string().nullable(), propertyBag: z.record(z.string(), z.unknown()) }),
      )
      .optional(),
    jobVersion: z
      .object({ versionName: z.string().optional(), propertyBag: z.record(z.string(), z.unknown()).optional() })
      .nullable()
      .optional(),
    notifications: z
      .array(
        z.object({
          resource: z.string(),
          options: z.record(z.string(), z.string()),
          payload: z.unknown().optional(),
          createdAt: z.string(),
        }),
      )
      .optional(),
  }),
});
export type AttemptFinish = z.infer<typeof AttemptFinishSchema>;

/** `POST /api/v1/runner-tokens` (admin): a single-use registration token, of a pool when given. */
export const RunnerTokenRequestSchema = z.object({
  pool: name.optional(),
  expiresInHours: z
    .number()
    .positive()
    .max(24 * 365)
    .optional(),
});
export const RunnerTokenSchema = z.object({ token: z.string(), pool: z.string().nullable(), expiresAt: z.string() });
export type RunnerTokenJson = z.infer<typeof RunnerTokenSchema>;
