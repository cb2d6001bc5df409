import {
  API_PREFIX,
  API_ROUTES,
  CSRF_HEADER,
  ErrorBodySchema,
  parseRouteAnswer,
  routeRequest,
  type OptionalRouteInput,
  type RouteCall,
  type RouteName,
  type RouteOutput,
} from "@causeway/protocol";

// The web UI's client: protocol's route table (routeRequest, parseRouteAnswer) plus the
// browser's fetch on the same origin, as the CLI's client is the table plus Node's fetch. No
// URL of the API is written anywhere else in the UI.

/** A failed call: the server's error body (code, message, hint), or what went wrong on the way. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The URL of a call (same origin), for what the browser fetches itself: EventSource, a download link. */
export function routeUrl<N extends RouteName>(name: N, ...input: OptionalRouteInput<N>): string {
  return `${API_PREFIX}${routeRequest(API_ROUTES[name], input[0] as RouteCall | undefined).path}`;
}

/** Options of one call: an abort signal, and a bearer token (only to log in with it). */
export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly bearer?: string;
}

/** Calls route `name`; its answer parsed with the route's schema, or an ApiError. */
export async function call<N extends RouteName>(
  name: N,
  input?: OptionalRouteInput<N>[0],
  options: CallOptions = {},
): Promise<RouteOutput<N>> {
  const request = routeRequest(API_ROUTES[name], input as RouteCall | undefined);
  const headers: Record<string, string> = { accept: request.accept, [CSRF_HEADER]: "1" };
  if (request.body !== undefined) headers["content-type"] = "application/json";
  if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
  let res: Response;
  try {
    res = await fetch(`${API_PREFIX}${request.path}`, {
      method: request.method,
      headers,
      credentials: "same-origin",
      ...(request.body === undefined ? {} : { body: request.body }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (error) {
    if (options.signal?.aborted === true) throw error;
    throw new ApiError("SERVER_UNREACHABLE", `cannot reach the server (${request.what})`, 0);
  }
  const text = await res.text();
  if (!res.ok) throw errorOf(res.status, text, request.what);
  if (API_ROUTES[name].answer.kind !== "json") return undefined as RouteOutput<N>;
  const parsed = parseRouteAnswer(name, parseJson(text));
  if (parsed.ok) return parsed.value;
  throw new ApiError("UNEXPECTED_ANSWER", `${request.what}: unexpected answer (${parsed.issue})`, res.status);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorOf(status: number, text: string, what: string): ApiError {
  const body = ErrorBodySchema.safeParse(parseJson(text));
  if (body.success) {
    const { code, message, hint } = body.data.error;
    return new ApiError(code, message, status, hint);
  }
  return new ApiError(`HTTP_${status}`, `${what} answered ${status}`, status);
}

/** The message of anything thrown, for an inline error. */
export function problemOf(error: unknown): { code: string; message: string; hint?: string } {
  if (error instanceof ApiError)
    return { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
  return { code: "ERROR", message: error instanceof Error ? error.message : String(error) };
}
