import { z } from "zod";
import { RoleSchema } from "./access.js";
import { RunStatusSchema } from "./run-status.js";

// What the web UI reads beyond the CLI's shapes: the line as one graph with each node's state,
// and the browser's session.

/**
 * The state of a graph node: a job's is its latest run's status, or `never_run`; a resource's is
 * `ready` once it has a version, else `empty`.
 */
export const NodeStateSchema = z.union([RunStatusSchema, z.enum(["never_run", "ready", "empty"])]);
/** A node's state. */
export type NodeState = z.infer<typeof NodeStateSchema>;

/**
 * A typed parameter of a job's manual runs (the language's `params`): what the run form asks
 * for. A `secret` parameter's default is never sent (null).
 */
export const ParamSpecSchema = z.object({
  name: z.string(),
  type: z.enum(["string", "number", "boolean", "choice", "secret"]),
  default: z.union([z.string(), z.number(), z.boolean()]).nullable(),
  choices: z.array(z.union([z.string(), z.number()])),
  required: z.boolean(),
  description: z.string().nullable(),
});
/** A parameter of a job on the wire. */
export type ParamSpecJson = z.infer<typeof ParamSpecSchema>;

/** A job or resource of the graph (`GET /api/v1/graph`). */
export const GraphNodeSchema = z.object({
  name: z.string(),
  kind: z.enum(["resource", "job"]),
  type: z.string(),
  flags: z.array(z.string()),
  state: NodeStateSchema,
  paused: z.boolean(),
  /** The latest version's number (a job's versions are its successful runs' outputs). */
  latestVersion: z.number().int().nullable(),
  latestRun: z.object({ id: z.number().int(), number: z.number().int(), status: RunStatusSchema }).nullable(),
  /** The defining file, relative to the line, when known. */
  file: z.string().optional(),
  /** A job's typed manual-run parameters, when it declares any. */
  params: z.array(ParamSpecSchema).optional(),
});
/** A graph node on the wire. */
export type GraphNodeJson = z.infer<typeof GraphNodeSchema>;

/**
 * An edge: `IN` from an input to its job, `OUT` from a job to what it updates. `switchOff`: the
 * input never triggers (drawn dotted); `pinned`: the version number the input is pinned to;
 * `newer`: a switched-off or pinned input has a version newer than the one the job's latest run
 * used (a badge: running the job again would take it).
 */
export const GraphEdgeSchema = z.object({
  from: z.string(),
  to: z.string(),
  step: z.enum(["IN", "OUT"]),
  switchOff: z.boolean(),
  pinned: z.number().int().nullable(),
  newer: z.boolean(),
});
/** A graph edge on the wire. */
export type GraphEdgeJson = z.infer<typeof GraphEdgeSchema>;

/** `GET /api/v1/graph`: the applied line's nodes in definition order, and its edges. */
export const GraphSchema = z.object({ nodes: z.array(GraphNodeSchema), edges: z.array(GraphEdgeSchema) });
/** The graph on the wire. */
export type GraphJson = z.infer<typeof GraphSchema>;

/**
 * `GET /api/v1/session`: who the caller is. `token` and `role` are null for an anonymous reader
 * of a public server; `via` says how the request was authenticated.
 */
export const SessionSchema = z.object({
  token: z.string().nullable(),
  role: RoleSchema.nullable(),
  via: z.enum(["bearer", "cookie", "anonymous"]),
  publicAccess: z.boolean(),
  /** When the browser session ends (a cookie session only). */
  expiresAt: z.string().nullable(),
});
/** The caller's session. */
export type SessionJson = z.infer<typeof SessionSchema>;

/** The cookie of a browser session (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = "causeway_session";
/**
 * The header every state-changing request on a cookie session must carry (any value): a
 * cross-site form cannot send it, and a cross-site script may not without CORS, which the server
 * never grants.
 */
export const CSRF_HEADER = "X-Causeway-Request";
