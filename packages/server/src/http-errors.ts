import { CausewayError, ERROR_CODES, type ErrorCode } from "@causeway/core";
import type { ErrorBody } from "@causeway/protocol";
import type { Context } from "hono";
import type { Logger } from "./logger.js";

/** The hono environment of the app: every request has an id. */
export interface AppEnv {
  Variables: { requestId: string };
}

const GENERIC_MESSAGE = "an unexpected error occurred; the server log has the details under this request id";

/**
 * The catalog code of an error, if it has one. CausewayError carries it; errors of the store
 * and runner carry codes of their own catalogs, a few of which mean the same thing (a run that
 * does not exist, a locked data directory) and are reported under the API catalog's code.
 */
export function catalogCode(error: unknown): ErrorCode | undefined {
  if (error instanceof CausewayError) return error.code;
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    const code = error.code;
    if (code === "RUN_NOT_FOUND" || code === "DATA_DIR_LOCKED") return code;
  }
  return undefined;
}

/**
 * The response of a failed request: a catalog error becomes its status and
 * `{error: {code, message, requestId, details?}}`; anything else is `INTERNAL` with a generic
 * message, its stack logged here with the request id and never returned.
 */
export function errorResponse(c: Context<AppEnv>, error: unknown, logger: Logger): Response {
  const requestId = c.get("requestId") ?? "unknown";
  const code = catalogCode(error);
  if (code === undefined || ERROR_CODES[code].kind === "internal") {
    logger.error(`request ${requestId} ${c.req.method} ${c.req.path} failed`, error);
    return send(c, "INTERNAL", GENERIC_MESSAGE, requestId, undefined);
  }
  const message = error instanceof Error ? error.message : ERROR_CODES[code].title;
  const details = error instanceof CausewayError ? error.details : undefined;
  if (ERROR_CODES[code].kind === "operational") logger.error(`request ${requestId}: ${code}: ${message}`);
  return send(c, code, message, requestId, details);
}

function send(c: Context<AppEnv>, code: ErrorCode, message: string, requestId: string, details: unknown): Response {
  const body: ErrorBody = { error: { code, message, requestId, ...(details === undefined ? {} : { details }) } };
  const headers: Record<string, string> = { "X-Request-Id": requestId };
  if (code === "UNAUTHORIZED") headers["WWW-Authenticate"] = 'Bearer realm="causeway"';
  return c.json(body, ERROR_CODES[code].status as 400, headers);
}
