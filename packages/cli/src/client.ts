import { CausewayError, isErrorCode } from "@causeway/core";
import {
  ErrorBodySchema,
  EventSchema,
  RunSchema,
  RunStatusSchema,
  type ApplyBody,
  type ApplyRecordJson,
  type ApplyResult,
  type ApprovalStateJson,
  type AuditEventJson,
  type RotateKeyResultJson,
  type SecretSummaryJson,
  type PlanResult,
  type EventJson,
  type NotificationJson,
  type NotificationsJson,
  type ObjectSummaryJson,
  type PutVersionBody,
  type RunJson,
  type StateJson,
  type TraceJson,
  type TriggerBody,
  type VersionJson,
  type WebhooksJson,
  type WhyJson,
  type TokenCreateBody,
  type TokenCreated,
  type TokenJson,
  type RunnerTokenJson,
  type RunnerTokenRequestSchema,
  API_PREFIX,
  API_ROUTES,
  EVENT_TYPES,
  parseRouteAnswer,
  routeRequest,
  type RunnerListSchema,
  type RunnerAnswerSchema,
  type PutVersionResultSchema,
  type OptionalRouteInput,
  type RouteCall,
  type RouteRequest,
  type RouteName,
  type RouteOutput,
} from "@causeway/protocol";
import { z } from "zod";
import { readSse } from "./sse.js";

/** Where the server is and how to authenticate (from server-location.ts). */
export interface ServerTarget {
  /** The server's base URL, without `/api/v1`. */
  readonly url: string;
  readonly token: string | undefined;
  /** Where the token came from (`--token`, `CAUSEWAY_TOKEN` or a server.json path), for hints. */
  readonly tokenFrom?: string;
  /** The server.json that named this server, if one did, for hints. */
  readonly infoFile?: string;
  /** The person requests are made for, sent as `X-Causeway-User` (see docs/api.md). */
  readonly user?: string;
}

/** The filters of `GET /audit`. */
export interface AuditQuery {
  readonly action?: string;
  readonly subject?: string;
  readonly limit?: number;
  readonly before?: number;
}

/** The filters of `GET /runs`. */
export interface RunQuery {
  readonly job?: string;
  readonly flow?: string;
  readonly status?: readonly string[];
  readonly limit?: number;
}

/** A page of a run's log. */
export interface LogPage {
  readonly text: string;
  /** The byte offset to ask for next. */
  readonly nextOffset: number;
  /** The run's status when the page was read. */
  readonly status: RunJson["status"] | undefined;
}

/** One message of a run's log stream. */
export type LogStreamMessage =
  | { readonly kind: "log"; readonly offset: number; readonly text: string }
  | { readonly kind: "end"; readonly run: RunJson };

/** An open stream of engine events; `lastEventId` is where to resume after a disconnect. */
export interface EventStream extends AsyncIterable<EventJson> {
  readonly lastEventId: () => string;
}

/** What to do when the server does not answer, naming the server.json that pointed at it. */
function unreachableHint(target: ServerTarget): string {
  const start = "start it with `causeway up` (or pass --server URL / set CAUSEWAY_SERVER)";
  return target.infoFile === undefined
    ? start
    : `${target.infoFile} names this server, but it does not answer: it stopped or was killed; ${start}`;
}

/** Where the token of a refused request came from, and where the right one is. */
function unauthorizedHint(target: ServerTarget): string {
  const where =
    "the server's token is in server.json of its data directory (written by `causeway up`; commands read " +
    "./.causeway/server.json or the nearest one above), or pass --token / set CAUSEWAY_TOKEN";
  if (target.tokenFrom === undefined) return `no token was sent: ${where}`;
  const from =
    target.tokenFrom.startsWith("-") || target.tokenFrom === "CAUSEWAY_TOKEN"
      ? target.tokenFrom
      : `${target.tokenFrom} (is it from another server?)`;
  return `the token sent came from ${from}; ${where}`;
}
const REQUEST_TIMEOUT_MS = 30_000;

const LogChunkSchema = z.object({ offset: z.number().int(), text: z.string() });

/** The body of `GET /runners`, as `causeway runners --json` prints it. */
export type RunnerList = z.infer<typeof RunnerListSchema>;
/** The body of `POST /runners/:name/drain|activate`. */
export type RunnerAnswer = z.infer<typeof RunnerAnswerSchema>;

/** The result of `put-version`: the version created and the runs it triggered. */
export type PutVersionResult = z.infer<typeof PutVersionResultSchema>;

/**
 * A typed client of the HTTP API over `fetch`. Every answer is parsed with its protocol schema;
 * error bodies become a `CausewayError` with their catalog code; a server that cannot be reached
 * becomes `SERVER_UNREACHABLE`. Stateless: one instance may serve many calls at once.
 */
export class ApiClient {
  readonly #base: string;

  constructor(readonly target: ServerTarget) {
    const url = target.url.replace(/\/+$/, "");
    this.#base = url.endsWith(API_PREFIX) ? url : `${url}${API_PREFIX}`;
  }

  health(): Promise<Record<string, unknown>> {
    return this.#call("health");
  }

  apply(body: ApplyBody): Promise<ApplyResult> {
    return this.#call("apply", { body });
  }

  /** What applying `body` would do; nothing is applied. */
  plan(body: ApplyBody): Promise<PlanResult> {
    return this.#call("plan", { body });
  }

  /** The apply history, newest first. */
  applies(limit?: number): Promise<ApplyRecordJson[]> {
    return this.#call("applies", { query: { limit } });
  }

  /** Every webhook endpoint, and the latest `limit` refused deliveries. */
  webhooks(limit?: number): Promise<WebhooksJson> {
    return this.#call("webhooks", { query: { limit } });
  }

  /** Deliveries of the notification outbox, newest first; only those in `state` when given. */
  notifications(query: { state?: string; limit?: number } = {}): Promise<NotificationsJson> {
    return this.#call("notifications", { query });
  }

  /** Creates an API token; the answer holds its secret, which the server never shows again. */
  createToken(body: TokenCreateBody): Promise<TokenCreated> {
    return this.#call("createToken", { body });
  }

  /** Every API token, revoked and expired ones included (never a secret). */
  tokens(): Promise<TokenJson[]> {
    return this.#call("tokens");
  }

  /** Revokes the live API token of this name. */
  revokeToken(name: string): Promise<TokenJson> {
    return this.#call("revokeToken", { params: { name } });
  }

  /** Makes a single-use registration token for one runner (of `pool` when given); shown this once. */
  createRunnerToken(body: z.input<typeof RunnerTokenRequestSchema>): Promise<RunnerTokenJson> {
    return this.#call("createRunnerToken", { body });
  }

  /** The registered runners, with their state and the runs they execute now. */
  runners(): Promise<RunnerList> {
    return this.#call("runners");
  }

  /** Drains a runner: it finishes its runs and claims no more (RUNNER_NOT_FOUND when none has the name). */
  drainRunner(name: string): Promise<RunnerAnswer> {
    return this.#call("drainRunner", { params: { name } });
  }

  /** Lets a drained runner claim runs again (RUNNER_NOT_FOUND when none has the name). */
  activateRunner(name: string): Promise<RunnerAnswer> {
    return this.#call("activateRunner", { params: { name } });
  }

  /** Puts a failed delivery back in the outbox. */
  retryNotification(id: number): Promise<NotificationJson> {
    return this.#call("retryNotification", { params: { id } });
  }

  jobs(): Promise<ObjectSummaryJson[]> {
    return this.#call("jobs");
  }

  resources(): Promise<ObjectSummaryJson[]> {
    return this.#call("resources");
  }

  trigger(job: string, body: TriggerBody): Promise<RunJson> {
    return this.#call("trigger", { params: { job }, body });
  }

  runs(query: RunQuery = {}): Promise<RunJson[]> {
    return this.#call("runs", {
      query: {
        job: query.job,
        flow: query.flow,
        status: query.status === undefined || query.status.length === 0 ? undefined : query.status.join(","),
        limit: query.limit,
      },
    });
  }

  run(id: number): Promise<RunJson> {
    return this.#call("run", { params: { id } });
  }

  cancel(id: number): Promise<RunJson> {
    return this.#call("cancel", { params: { id } });
  }

  rerun(id: number): Promise<RunJson> {
    return this.#call("rerun", { params: { id } });
  }

  pause(job: string): Promise<{ ok: boolean }> {
    return this.#call("pause", { params: { job } });
  }

  resume(job: string): Promise<{ ok: boolean }> {
    return this.#call("resume", { params: { job } });
  }

  pin(job: string, input: string, versionNumber: number): Promise<{ ok: boolean }> {
    return this.#call("pin", { params: { job, input }, body: { versionNumber } });
  }

  unpin(job: string, input: string): Promise<{ ok: boolean }> {
    return this.#call("unpin", { params: { job, input } });
  }

  versions(name: string, limit?: number): Promise<VersionJson[]> {
    return this.#call("versions", { params: { name }, query: { limit } });
  }

  putVersion(name: string, body: PutVersionBody): Promise<PutVersionResult> {
    return this.#call("putVersion", { params: { name }, body });
  }

  trace(name: string, versionNumber?: number): Promise<TraceJson> {
    return this.#call("trace", { params: { name }, query: { versionNumber } });
  }

  /** Approves a run waiting for approval, as the target's user. */
  approve(id: number, comment?: string): Promise<ApprovalStateJson> {
    const body = comment === undefined ? {} : { comment };
    return this.#call("approve", { params: { id }, body });
  }

  /** Rejects a run waiting for approval, as the target's user. */
  reject(id: number, comment?: string): Promise<ApprovalStateJson> {
    const body = comment === undefined ? {} : { comment };
    return this.#call("reject", { params: { id }, body });
  }

  /** The approval gate of a run. */
  approval(id: number): Promise<ApprovalStateJson> {
    return this.#call("approval", { params: { id } });
  }

  /** The audit trail, newest first. */
  audit(query: AuditQuery = {}): Promise<AuditEventJson[]> {
    return this.#call("audit", {
      query: { action: query.action, subject: query.subject, limit: query.limit, before: query.before },
    });
  }

  /** Creates or replaces a secret of the integration store; the answer names its fields, never a value. */
  setSecret(name: string, fields: Readonly<Record<string, string>>): Promise<SecretSummaryJson> {
    return this.#call("setSecret", { params: { name }, body: { fields } });
  }

  /** The secrets' names and field names. */
  async secrets(): Promise<SecretSummaryJson[]> {
    return (await this.#call("secrets")).secrets;
  }

  /** Deletes a secret (SECRET_NOT_FOUND when there is none). */
  async deleteSecret(name: string): Promise<void> {
    await this.#call("deleteSecret", { params: { name } });
  }

  /** Re-encrypts every secret under a new key. */
  rotateSecretKey(): Promise<RotateKeyResultJson> {
    return this.#call("rotateSecretKey");
  }

  why(job: string): Promise<WhyJson> {
    return this.#call("why", { params: { job } });
  }

  state(job: string): Promise<StateJson> {
    return this.#call("state", { params: { job } });
  }

  /** A page of a run's log from byte `offset` to what has been written so far. */
  async logs(id: number, offset = 0): Promise<LogPage> {
    const res = await this.#fetch(
      routeRequest(API_ROUTES.logs, { params: { id }, query: { offset } }),
      timeoutSignal(),
    );
    const text = await res.text();
    const next = Number(res.headers.get("x-next-offset"));
    const status = RunStatusSchema.safeParse(res.headers.get("x-run-status"));
    return {
      text,
      nextOffset: Number.isInteger(next) && next >= 0 ? next : offset + Buffer.byteLength(text),
      status: status.success ? status.data : undefined,
    };
  }

  /** The stored bytes of a run's log from byte `offset`, exactly (`logs` decodes them as UTF-8). */
  async logBytes(id: number, offset = 0): Promise<Uint8Array> {
    const res = await this.#fetch(
      routeRequest(API_ROUTES.logs, { params: { id }, query: { offset } }),
      timeoutSignal(),
    );
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Streams a run's log from byte `offset` until the server sends the final run. */
  async *streamLogs(id: number, offset: number, signal?: AbortSignal): AsyncGenerator<LogStreamMessage> {
    const res = await this.#fetch(routeRequest(API_ROUTES.logStream, { params: { id }, query: { offset } }), signal);
    for await (const m of readSse(bodyOf(res))) {
      if (m.event === "log") yield { kind: "log", ...this.#parse(LogChunkSchema, parseJson(m.data), "a log event") };
      else if (m.event === "end") {
        yield { kind: "end", run: this.#parse(RunSchema, parseJson(m.data), "the end of a log stream") };
        return;
      }
    }
  }

  /**
   * Opens the engine event stream. Resolves once the server has answered (so every event after
   * this moment is delivered); `lastEventId` resumes a previous stream.
   */
  async events(lastEventId: string | undefined, signal?: AbortSignal): Promise<EventStream> {
    const headers: Record<string, string> =
      lastEventId === undefined || lastEventId === "" ? {} : { "last-event-id": lastEventId };
    const res = await this.#fetch(routeRequest(API_ROUTES.events), signal, headers);
    let last = lastEventId ?? "";
    const parse = (data: string): EventJson => this.#parse(EventSchema, parseJson(data), "an engine event");
    const body = bodyOf(res);
    return {
      lastEventId: () => last,
      async *[Symbol.asyncIterator]() {
        for await (const m of readSse(body, last)) {
          last = m.lastEventId;
          // Named events other than the engine's own (a heartbeat, say) are not engine events.
          if (m.event === "message" || (EVENT_TYPES as readonly string[]).includes(m.event)) yield parse(m.data);
        }
      },
    };
  }

  /** Calls route `name` of the table (protocol api-routes.ts) and parses its answer with it. */
  async #call<N extends RouteName>(name: N, ...input: OptionalRouteInput<N>): Promise<RouteOutput<N>> {
    const request = routeRequest(API_ROUTES[name], input[0] as RouteCall | undefined);
    const res = await this.#fetch(request, timeoutSignal());
    if (API_ROUTES[name].answer.kind !== "json") {
      await res.body?.cancel();
      return undefined as RouteOutput<N>;
    }
    const parsed = parseRouteAnswer(name, parseJson(await res.text()));
    if (parsed.ok) return parsed.value;
    throw unexpected(request.what, parsed.issue);
  }

  #parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw unexpected(what, issue === undefined ? "invalid" : `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }

  async #fetch(
    request: RouteRequest,
    signal: AbortSignal | undefined,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const { method, body, what } = request;
    const url = `${this.#base}${request.path}`;
    const headers: Record<string, string> = { accept: request.accept, ...extraHeaders };
    if (this.target.user !== undefined) headers["x-causeway-user"] = this.target.user;
    if (this.target.token !== undefined) {
      // fetch would refuse it with a TypeError that quotes the header, token included.
      checkToken(this.target.token, this.target.tokenFrom);
      headers.authorization = `Bearer ${this.target.token}`;
    }
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      if (signal?.aborted === true && !isTimeout(signal)) throw error;
      const reason = isTimeout(signal) ? "no answer in time" : networkReason(error);
      throw new CausewayError("SERVER_UNREACHABLE", `cannot reach the server at ${this.target.url} (${reason})`, {
        hint: unreachableHint(this.target),
        cause: error,
      });
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    const parsed = ErrorBodySchema.safeParse(safeJson(text));
    if (parsed.success) {
      const e = parsed.data.error;
      const options = { requestId: e.requestId, details: e.details };
      if (!isErrorCode(e.code))
        throw new CausewayError("INTERNAL", `${e.code}: ${e.message}`, {
          ...options,
          hint: "the server answered with an error code this CLI does not know: are they of different versions?",
        });
      const hint = e.code === "UNAUTHORIZED" ? unauthorizedHint(this.target) : e.hint;
      throw new CausewayError(e.code, e.message, { ...options, ...(hint === undefined ? {} : { hint }) });
    }
    throw new CausewayError(
      res.status === 401 ? "UNAUTHORIZED" : res.status === 404 ? "NOT_FOUND" : "INTERNAL",
      `the server answered ${what} with HTTP ${res.status}${text === "" ? "" : `: ${text.slice(0, 200)}`}`,
    );
  }
}

/**
 * Throws TOKEN_INVALID when `token` cannot be sent in an `Authorization` header (a line break, a
 * space, a control character, anything outside printable ASCII), naming where it came from and
 * what is wrong with it, never the token itself.
 */
export function checkToken(token: string, from: string | undefined): void {
  const bad = [...token].find((c) => c < "!" || c > "~");
  if (bad === undefined) return;
  const what =
    bad === "\n" || bad === "\r"
      ? "a line break"
      : bad === " " || bad === "\t"
        ? "a space or a tab"
        : bad < " " || bad === "\x7f"
          ? "a control character"
          : "a character outside printable ASCII";
  const source =
    from === undefined
      ? "the API token"
      : from.startsWith("-") || from === "CAUSEWAY_TOKEN"
        ? `the API token of ${from}`
        : `the API token in ${from}`;
  throw new CausewayError("TOKEN_INVALID", `${source} cannot be sent: it holds ${what}`, {
    hint:
      from === "CAUSEWAY_TOKEN" || from === "--token"
        ? `set it again without that character, or leave ${from} out to use the token of the server's server.json`
        : "start the server again: it rewrites server.json",
  });
}

function bodyOf(res: Response): ReadableStream<Uint8Array> {
  if (res.body === null) throw new CausewayError("INTERNAL", "the server sent an empty event stream");
  return res.body;
}

/** An answer that does not fit the protocol's schema. */
function unexpected(what: string, issue: string): CausewayError {
  return new CausewayError("INTERNAL", `unexpected answer from the server to ${what}: ${issue}`, {
    hint: "the CLI and the server may be of different versions",
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CausewayError("INTERNAL", `the server answered with something that is not JSON: ${text.slice(0, 200)}`);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const TIMEOUTS = new WeakSet<AbortSignal>();

function timeoutSignal(): AbortSignal {
  const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  TIMEOUTS.add(signal);
  return signal;
}

function isTimeout(signal: AbortSignal | undefined): boolean {
  return signal !== undefined && TIMEOUTS.has(signal) && signal.aborted;
}

// fetch hides the socket error in `cause` (ECONNREFUSED, ENOTFOUND...).
function networkReason(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause !== undefined && typeof cause.code === "string") return cause.code;
  if (cause !== undefined && typeof cause.message === "string") return cause.message;
  return error instanceof Error ? error.message : String(error);
}
