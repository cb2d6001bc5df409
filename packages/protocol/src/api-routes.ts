import { z } from "zod";
import {
  ApplyBodySchema,
  ApplyRecordSchema,
  ApplyResultSchema,
  ExternalCIAnswerSchema,
  ExternalCIBodySchema,
  ObjectSummarySchema,
  PinBodySchema,
  PlanResultSchema,
  PutVersionBodySchema,
  RunSchema,
  StateSchema,
  TraceSchema,
  TriggerBodySchema,
  VersionSchema,
  WebhooksSchema,
  WhySchema,
} from "./schemas.js";
import type { RoleSchema } from "./access.js";
import {
  PutSecretRequestSchema,
  RotateKeyResultSchema,
  SecretListSchema,
  SecretSummarySchema,
  TokenCreateBodySchema,
  TokenCreatedSchema,
  TokenJsonSchema,
} from "./access.js";
import {
  ApprovalBodySchema,
  ApprovalStateSchema,
  AuditEventSchema,
  NotificationSchema,
  NotificationsSchema,
} from "./people.js";
import { RunnerSchema, RunnerTokenRequestSchema, RunnerTokenSchema } from "./runner.js";
import { GraphSchema, SessionSchema } from "./ui.js";

// The HTTP API's one contract (docs/api.md): every route of /api/v1 with its method, path, the
// least role it needs, its parameters, body and answer. The server mounts exactly these (a test
// holds its routes to this table), the CLI's client builds its requests from it (no URL is
// written anywhere else), and the OpenAPI document served at /api/v1/openapi.json is generated
// from it (openapi.ts).

/** The prefix of every route of the table. */
export const API_PREFIX = "/api/v1";

/** The least role a route needs; `none`: no token at all. */
export type RouteRole = z.infer<typeof RoleSchema> | "none";

/**
 * What a route answers: JSON of `schema`, raw `bytes` (a log, a state file), a server-sent event
 * `stream`, or nothing (`empty`, 204).
 */
export type RouteAnswer =
  | { readonly kind: "json"; readonly schema: z.ZodType }
  | { readonly kind: "bytes"; readonly contentType: string }
  | { readonly kind: "stream" }
  | { readonly kind: "empty" };

/** One route of the API. `path` is relative to `API_PREFIX`, with `:name` parameters. */
export interface ApiRoute {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  readonly path: string;
  readonly role: RouteRole;
  /** Whether anonymous readers of a public server may call it, for jobs that allow it. */
  readonly publicRead?: boolean;
  /** One line for the OpenAPI document. */
  readonly summary: string;
  /** The query parameters (all optional, as strings on the wire). */
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  readonly answer: RouteAnswer;
}

const json = <S extends z.ZodType>(schema: S): { readonly kind: "json"; readonly schema: S } => ({
  kind: "json",
  schema,
});
const OkSchema = z.object({ ok: z.boolean() });
const limit = z.number().int().min(1).max(1000).optional();

/** `GET /health`. */
export const HealthSchema = z.object({ ok: z.literal(true), version: z.string() });
/** `GET /runners`. */
export const RunnerListSchema = z.object({ runners: z.array(RunnerSchema) });
/** `POST /runners/:name/drain|activate`. */
export const RunnerAnswerSchema = z.object({ runner: RunnerSchema });
/** `POST /objects/:name/versions`: the version created and the runs it triggered. */
export const PutVersionResultSchema = z.object({ version: VersionSchema, runs: z.array(RunSchema) });
/** The filters of `GET /runs` (`status`: a comma-separated list). */
export const RunQuerySchema = z.object({
  job: z.string().optional(),
  flow: z.string().optional(),
  status: z.string().optional(),
  limit,
});
/** The filters of `GET /audit`. */
export const AuditQuerySchema = z.object({
  action: z.string().optional(),
  subject: z.string().optional(),
  limit,
  before: z.number().int().min(0).optional(),
});

/** Every route of /api/v1, by name. */
export const API_ROUTES = {
  index: {
    method: "GET",
    path: "/",
    role: "none",
    summary: "the API's name and version, and where its OpenAPI document is",
    answer: json(z.object({ name: z.string(), version: z.string(), openapi: z.string(), docs: z.string() })),
  },
  openapi: {
    method: "GET",
    path: "/openapi.json",
    role: "none",
    summary: "this document: the API's OpenAPI 3.1 description, generated from its route table",
    answer: json(z.record(z.string(), z.unknown())),
  },
  health: { method: "GET", path: "/health", role: "none", summary: "liveness and version", answer: json(HealthSchema) },
  session: {
    method: "GET",
    path: "/session",
    role: "viewer",
    publicRead: true,
    summary: "who the caller is: token, role, how authenticated",
    answer: json(SessionSchema),
  },
  login: {
    method: "POST",
    path: "/session",
    role: "viewer",
    summary: "a browser session for the bearer token: an HttpOnly, SameSite=Strict cookie",
    answer: json(SessionSchema),
  },
  logout: {
    method: "DELETE",
    path: "/session",
    role: "viewer",
    summary: "ends the browser session (clears its cookie)",
    answer: json(OkSchema),
  },
  graph: {
    method: "GET",
    path: "/graph",
    role: "viewer",
    publicRead: true,
    summary: "the applied line as a graph: nodes with their states, edges with pins and switches",
    answer: json(GraphSchema),
  },
  apply: {
    method: "POST",
    path: "/apply",
    role: "admin",
    summary: "apply an assembly line's files",
    body: ApplyBodySchema,
    answer: json(ApplyResultSchema),
  },
  plan: {
    method: "POST",
    path: "/plan",
    role: "admin",
    summary: "what applying the files would change",
    body: ApplyBodySchema,
    answer: json(PlanResultSchema),
  },
  applies: {
    method: "GET",
    path: "/applies",
    role: "viewer",
    summary: "past applies, newest first",
    query: z.object({ limit }),
    answer: json(z.array(ApplyRecordSchema)),
  },
  jobs: {
    method: "GET",
    path: "/jobs",
    role: "viewer",
    publicRead: true,
    summary: "the jobs and their latest runs",
    answer: json(z.array(ObjectSummarySchema)),
  },
  resources: {
    method: "GET",
    path: "/resources",
    role: "viewer",
    summary: "the resources and their latest versions",
    answer: json(z.array(ObjectSummarySchema)),
  },
  trigger: {
    method: "POST",
    path: "/jobs/:job/runs",
    role: "operator",
    summary: "run a job (parameters, input pins)",
    body: TriggerBodySchema,
    answer: json(RunSchema),
  },
  runs: {
    method: "GET",
    path: "/runs",
    role: "viewer",
    publicRead: true,
    summary: "runs, newest first, by job, flow and status",
    query: RunQuerySchema,
    answer: json(z.array(RunSchema)),
  },
  run: {
    method: "GET",
    path: "/runs/:id",
    role: "viewer",
    publicRead: true,
    summary: "one run",
    answer: json(RunSchema),
  },
  logs: {
    method: "GET",
    path: "/runs/:id/logs",
    role: "viewer",
    publicRead: true,
    summary: "a run's console from a byte offset (X-Next-Offset, X-Run-Status)",
    query: z.object({ offset: z.number().int().min(0).optional() }),
    answer: { kind: "bytes", contentType: "text/plain" },
  },
  logStream: {
    method: "GET",
    path: "/runs/:id/logs/stream",
    role: "viewer",
    publicRead: true,
    summary: "a run's console as server-sent events (log, then end with the run)",
    query: z.object({ offset: z.number().int().min(0).optional() }),
    answer: { kind: "stream" },
  },
  cancel: {
    method: "POST",
    path: "/runs/:id/cancel",
    role: "operator",
    summary: "cancel a run",
    answer: json(RunSchema),
  },
  rerun: {
    method: "POST",
    path: "/runs/:id/rerun",
    role: "operator",
    summary: "run a run again with its inputs",
    answer: json(RunSchema),
  },
  pause: { method: "POST", path: "/jobs/:job/pause", role: "operator", summary: "pause a job", answer: json(OkSchema) },
  resume: {
    method: "POST",
    path: "/jobs/:job/resume",
    role: "operator",
    summary: "resume a job",
    answer: json(OkSchema),
  },
  pin: {
    method: "PUT",
    path: "/jobs/:job/pins/:input",
    role: "operator",
    summary: "pin a job's input to a version",
    body: PinBodySchema,
    answer: json(OkSchema),
  },
  unpin: {
    method: "DELETE",
    path: "/jobs/:job/pins/:input",
    role: "operator",
    summary: "unpin a job's input",
    answer: json(OkSchema),
  },
  approve: {
    method: "POST",
    path: "/runs/:id/approve",
    role: "operator",
    summary: "approve a run waiting at its gate",
    body: ApprovalBodySchema,
    answer: json(ApprovalStateSchema),
  },
  reject: {
    method: "POST",
    path: "/runs/:id/reject",
    role: "operator",
    summary: "reject a run waiting at its gate",
    body: ApprovalBodySchema,
    answer: json(ApprovalStateSchema),
  },
  approval: {
    method: "GET",
    path: "/runs/:id/approval",
    role: "viewer",
    summary: "a run's approval gate",
    answer: json(ApprovalStateSchema),
  },
  approvals: {
    method: "GET",
    path: "/approvals",
    role: "viewer",
    summary: "the runs waiting for an approval",
    query: z.object({ limit }),
    answer: json(z.array(ApprovalStateSchema)),
  },
  audit: {
    method: "GET",
    path: "/audit",
    role: "viewer",
    summary: "the audit log, newest first",
    query: AuditQuerySchema,
    answer: json(z.array(AuditEventSchema)),
  },
  createToken: {
    method: "POST",
    path: "/tokens",
    role: "admin",
    summary: "make an API token (its secret is shown once)",
    body: TokenCreateBodySchema,
    answer: json(TokenCreatedSchema),
  },
  tokens: {
    method: "GET",
    path: "/tokens",
    role: "admin",
    summary: "the API tokens",
    answer: json(z.array(TokenJsonSchema)),
  },
  revokeToken: {
    method: "DELETE",
    path: "/tokens/:name",
    role: "admin",
    summary: "revoke an API token",
    answer: json(TokenJsonSchema),
  },
  secrets: {
    method: "GET",
    path: "/secrets",
    role: "admin",
    summary: "the integrations' names and field names (never a value)",
    answer: json(SecretListSchema),
  },
  setSecret: {
    method: "PUT",
    path: "/secrets/:name",
    role: "admin",
    summary: "store an integration's fields, encrypted",
    body: PutSecretRequestSchema,
    answer: json(SecretSummarySchema),
  },
  deleteSecret: {
    method: "DELETE",
    path: "/secrets/:name",
    role: "admin",
    summary: "delete an integration",
    answer: { kind: "empty" },
  },
  rotateSecretKey: {
    method: "POST",
    path: "/secrets/rotate-key",
    role: "admin",
    summary: "encrypt every secret under a new key",
    answer: json(RotateKeyResultSchema),
  },
  createRunnerToken: {
    method: "POST",
    path: "/runner-tokens",
    role: "admin",
    summary: "make a single-use runner registration token",
    body: RunnerTokenRequestSchema,
    answer: json(RunnerTokenSchema),
  },
  runners: { method: "GET", path: "/runners", role: "viewer", summary: "the runners", answer: json(RunnerListSchema) },
  drainRunner: {
    method: "POST",
    path: "/runners/:name/drain",
    role: "admin",
    summary: "stop a runner taking work",
    answer: json(RunnerAnswerSchema),
  },
  activateRunner: {
    method: "POST",
    path: "/runners/:name/activate",
    role: "admin",
    summary: "let a drained runner take work again",
    answer: json(RunnerAnswerSchema),
  },
  versions: {
    method: "GET",
    path: "/objects/:name/versions",
    role: "viewer",
    summary: "a resource's or job's versions, newest first",
    query: z.object({ limit }),
    answer: json(z.array(VersionSchema)),
  },
  putVersion: {
    method: "POST",
    path: "/objects/:name/versions",
    role: "operator",
    summary: "post a resource version (it triggers the jobs that take it)",
    body: PutVersionBodySchema,
    answer: json(PutVersionResultSchema),
  },
  trace: {
    method: "GET",
    path: "/objects/:name/trace",
    role: "viewer",
    summary: "where a version came from and what it caused",
    query: z.object({ versionNumber: z.number().int().min(1).optional() }),
    answer: json(TraceSchema),
  },
  why: {
    method: "GET",
    path: "/jobs/:job/why",
    role: "viewer",
    summary: "why a job ran, or why it does not run",
    answer: json(WhySchema),
  },
  state: {
    method: "GET",
    path: "/jobs/:job/state",
    role: "viewer",
    summary: "a job's state files",
    answer: json(StateSchema),
  },
  stateFile: {
    method: "GET",
    path: "/jobs/:job/state/files/:path{.+}",
    role: "viewer",
    summary: "one of a job's state files",
    answer: { kind: "bytes", contentType: "application/octet-stream" },
  },
  events: {
    method: "GET",
    path: "/events",
    role: "viewer",
    publicRead: true,
    summary: "the engine's events as server-sent events (Last-Event-ID resumes)",
    answer: { kind: "stream" },
  },
  externalCI: {
    method: "POST",
    path: "/externalCI",
    role: "operator",
    summary: "a run of an external CI as an externalCI resource's version",
    body: ExternalCIBodySchema,
    answer: json(ExternalCIAnswerSchema),
  },
  webhooks: {
    method: "GET",
    path: "/webhooks",
    role: "admin",
    summary: "webhook endpoints and refused deliveries",
    query: z.object({ limit }),
    answer: json(WebhooksSchema),
  },
  notifications: {
    method: "GET",
    path: "/notifications",
    role: "viewer",
    summary: "notification deliveries, newest first",
    query: z.object({ state: z.string().optional(), limit }),
    answer: json(NotificationsSchema),
  },
  retryNotification: {
    method: "POST",
    path: "/notifications/:id/retry",
    role: "operator",
    summary: "send a failed notification again",
    answer: json(NotificationSchema),
  },
} as const satisfies Record<string, ApiRoute>;

/** The name of a route of the table. */
export type RouteName = keyof typeof API_ROUTES;

type Routes = typeof API_ROUTES;

/** The names of a path's `:parameters` (`:path{.+}` is `path`). */
type ParamNames<P extends string> = P extends `${string}:${infer Rest}`
  ? Rest extends `${infer Name}/${infer Tail}`
    ? StripPattern<Name> | ParamNames<`/${Tail}`>
    : StripPattern<Rest>
  : never;
type StripPattern<N extends string> = N extends `${infer Name}{${string}` ? Name : N;

/** What a call of route `N` takes: its path parameters, query and body, as the table says. */
export type RouteInput<N extends RouteName> = ([ParamNames<Routes[N]["path"]>] extends [never]
  ? { readonly params?: undefined }
  : { readonly params: Readonly<Record<ParamNames<Routes[N]["path"]>, string | number>> }) &
  (Routes[N] extends { query: z.ZodObject }
    ? { readonly query?: z.input<Routes[N]["query"]> }
    : { readonly query?: undefined }) &
  (Routes[N] extends { body: z.ZodType }
    ? { readonly body: z.input<Routes[N]["body"]> }
    : { readonly body?: undefined });

/** What route `N` answers, parsed: its JSON schema's output, else nothing the table types. */
export type RouteOutput<N extends RouteName> = Routes[N]["answer"] extends {
  kind: "json";
  schema: infer S extends z.ZodType;
}
  ? z.output<S>
  : undefined;

/**
 * The path of a call (under `API_PREFIX`) with its parameters filled in, each encoded; the
 * query's defined values as a string. Throws on a parameter the input lacks.
 */
export function routePath(route: ApiRoute, params: Readonly<Record<string, string | number>> = {}): string {
  return route.path.replace(/:([A-Za-z]+)(\{[^}]*\})?/g, (_m, name: string, pattern: string | undefined) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${route.method} ${route.path}: the parameter ${name} is missing`);
    // A catch-all parameter (`:path{.+}`) keeps its slashes.
    return pattern === undefined
      ? encodeURIComponent(String(value))
      : String(value).split("/").map(encodeURIComponent).join("/");
  });
}

/** The query string of a call (with its `?`), or "" when no value is defined. */
export function routeQuery(
  query: Readonly<Record<string, string | number | boolean | null | undefined>> | undefined,
): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null)
      parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

/** The input of route `N`, which may be left out when nothing in it is required. */
export type OptionalRouteInput<N extends RouteName> = object extends RouteInput<N> ? [RouteInput<N>?] : [RouteInput<N>];

/** What any call passes, untyped: path parameters, query, body. */
export interface RouteCall {
  readonly params?: Readonly<Record<string, string | number>>;
  readonly query?: Readonly<Record<string, string | number | boolean | null | undefined>>;
  readonly body?: unknown;
}

/**
 * A request of the API, ready for any transport (Node's fetch in the CLI, the browser's in the
 * web UI): what each client adds is only its base URL and its credentials.
 */
export interface RouteRequest {
  readonly method: ApiRoute["method"];
  /** Under `API_PREFIX`, parameters filled in, with the query. */
  readonly path: string;
  /** The JSON body, when the call has one. */
  readonly body: string | undefined;
  /** The `Accept` header: `text/event-stream` for a stream, else `application/json`. */
  readonly accept: string;
  /** `METHOD /path` without the query, for messages. */
  readonly what: string;
}

/** The request of a call of `route`. Throws on a path parameter the call lacks. */
export function routeRequest(route: ApiRoute, call: RouteCall = {}): RouteRequest {
  const path = routePath(route, call.params);
  return {
    method: route.method,
    path: `${path}${routeQuery(call.query)}`,
    body: call.body === undefined ? undefined : JSON.stringify(call.body),
    accept: route.answer.kind === "stream" ? "text/event-stream" : "application/json",
    what: `${route.method} ${path}`,
  };
}

/**
 * The answer of route `N` parsed with its schema: the value, or what does not fit (the first
 * issue, `path: message`). A route that does not answer JSON has no value (undefined).
 */
export function parseRouteAnswer<N extends RouteName>(
  name: N,
  value: unknown,
): { readonly ok: true; readonly value: RouteOutput<N> } | { readonly ok: false; readonly issue: string } {
  const answer: RouteAnswer = API_ROUTES[name].answer;
  if (answer.kind !== "json") return { ok: true, value: undefined as RouteOutput<N> };
  const parsed = answer.schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data as RouteOutput<N> };
  const issue = parsed.error.issues[0];
  return {
    ok: false,
    issue: issue === undefined ? "invalid" : `${issue.path.join(".") || "(root)"}: ${issue.message}`,
  };
}
