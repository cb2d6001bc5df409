import { CausewayError, exceedsJsonDepth, MAX_JSON_DEPTH } from "@causeway/core";
import type { Context } from "hono";
import type { z } from "zod";

/**
 * Largest bodies, by route: a whole pipeline directory for apply (the loader's 64 MiB cap on a
 * directory's files, plus room for JSON escaping), small JSON elsewhere.
 */
export const BODY_LIMITS = {
  apply: 96 * 1024 * 1024,
  default: 1024 * 1024,
  small: 64 * 1024,
  /** A webhook delivery: headers and body are kept in a version. */
  hook: 1024 * 1024,
} as const;

/**
 * Reads a JSON body of at most `limit` bytes and validates it with a protocol schema. An
 * empty body reads as `{}` (so `POST /jobs/J/runs` needs none). Failures are `BAD_REQUEST`:
 * a body over `limit` bytes or nested deeper than `MAX_JSON_DEPTH` (`details.limit` says which
 * limit), and a JSON of the wrong shape (the zod issues in `details`).
 */
export async function readBody<T>(c: Context, schema: z.ZodType<T>, limit: number): Promise<T> {
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  const text = await readText(c.req.raw, limit);
  let value: unknown = {};
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CausewayError("BAD_REQUEST", `the body is not valid JSON: ${(error as Error).message}`);
    }
  }
  // Before the schema walks it (recursively): a value nested deeper would exhaust the stack.
  if (exceedsJsonDepth(value))
    throw new CausewayError(
      "BAD_REQUEST",
      `the body nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`,
      {
        details: { limit: MAX_JSON_DEPTH },
      },
    );
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new CausewayError("BAD_REQUEST", `the body is invalid: ${describeIssue(parsed.error.issues[0])}`, {
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return "invalid";
  const path = issue.path.map(String).join(".");
  return path === "" ? issue.message : `${path}: ${issue.message}`;
}

function tooLarge(limit: number): CausewayError {
  return new CausewayError("BAD_REQUEST", `the body is larger than ${limit} bytes`, { details: { limit } });
}

async function readText(request: Request, limit: number): Promise<string> {
  const bytes = await readBytes(request, limit);
  if (bytes === undefined) throw tooLarge(limit);
  return new TextDecoder().decode(bytes);
}

/**
 * The body's bytes, or undefined when it is over `limit` bytes. Never holds more than `limit`
 * bytes: a missing or lying Content-Length does not get around the limit.
 */
export async function readBytes(request: Request, limit: number): Promise<Uint8Array | undefined> {
  if (request.body === null) return new Uint8Array(0);
  const reader = (request.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return concat(chunks, size);
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** A query or path integer in [min, max], or `fallback` when absent; `BAD_REQUEST` otherwise. */
export function intParam(
  value: string | undefined,
  name: string,
  range: { min: number; max: number; fallback?: number },
): number | undefined {
  if (value === undefined || value === "") return range.fallback;
  if (!/^\d+$/.test(value))
    throw new CausewayError("BAD_REQUEST", `${name} must be an integer, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw new CausewayError("BAD_REQUEST", `${name} must be between ${range.min} and ${range.max}, got ${value}`);
  }
  return n;
}

/** A run id from the path. */
export function runIdParam(c: Context): number {
  return intParam(c.req.param("id"), "run id", { min: 1, max: Number.MAX_SAFE_INTEGER }) as number;
}
