import { CausewayError, httpStatusOf, type ApiToken, type ErrorCode } from "@causeway/core";
import type { ErrorBody } from "@causeway/protocol";
import type { Context } from "hono";
import type { Logger } from "./logger.js";
import type { Session } from "./sessions.js";

/**
 * The hono environment of the app: every request has an id; an API request has its caller's
 * token (auth.ts), undefined for an anonymous reader of a public server.
 */
export interface AppEnv {
  Variables: {
    requestId: string;
    token: ApiToken | undefined;
    /** The browser session the token came from (a cookie), if it did. */
    session: Session | undefined;
  };
}

const GENERIC_MESSAGE = "an unexpected error occurred; the server log has the details under this request id";

/**
 * The response of a failed request: a catalog error becomes its status and
 * `{error: {code, message, requestId, hint?, details?}}`; anything else is `INTERNAL` with a generic
 * message, its stack logged here with the request id and never returned.
 */
export function errorResponse(c: Context<AppEnv>, error: unknown, logger: Logger): Response {
  const requestId = c.get("requestId") ?? "unknown";
  if (!(error instanceof CausewayError) || error.kind === "internal") {
    logger.error(`request ${requestId} ${c.req.method} ${c.req.path} failed`, error);
    return send(c, "INTERNAL", GENERIC_MESSAGE, requestId, {});
  }
  if (error.kind === "operational") logger.error(`request ${requestId}: ${error.code}: ${error.message}`);
  return send(c, error.code, error.message, requestId, { hint: error.hint, details: error.details });
}

function send(
  c: Context<AppEnv>,
  code: ErrorCode,
  message: string,
  requestId: string,
  extra: { hint?: string | undefined; details?: unknown },
): Response {
  const { hint, details } = extra;
  const body: ErrorBody = {
    error: {
      code,
      message,
      requestId,
      ...(hint === undefined ? {} : { hint }),
      ...(details === undefined ? {} : { details }),
    },
  };
  const headers: Record<string, string> = { "X-Request-Id": requestId };
  if (code === "UNAUTHORIZED") headers["WWW-Authenticate"] = 'Bearer realm="causeway"';
  if (code === "WEBHOOK_UNAUTHORIZED") headers["WWW-Authenticate"] = 'Basic realm="causeway-hooks"';
  return c.json(body, httpStatusOf(code) as 400, headers);
}
