import { CausewayError, type ApiToken } from "@causeway/core";
import { SESSION_COOKIE } from "@causeway/protocol";
import { newSecretKey, parseSealedText, SecretKeyRing } from "@causeway/store";
import { z } from "zod";

/** How long a browser session lasts (never beyond its token's own expiry). */
export const SESSION_HOURS = 12;

const SealedSessionSchema = z.object({ h: z.string().regex(/^[0-9a-f]{64}$/), e: z.number().int() });

/** A browser session: the token it stands for (by its hash) and when it ends. */
export interface Session {
  readonly tokenHash: string;
  readonly expiresAt: Date;
}

/**
 * Browser sessions of the web UI (docs/api.md "Browser sessions"): the page exchanges an API
 * token for a cookie, so that the token itself never stays in the page. The cookie holds the
 * token's hash and the session's end, sealed with AES-256-GCM under the integration store's key
 * (`SecretKeyRing`): the server keeps no session table, a session outlives a server restart, it
 * ends with its token (revoked or expired: checked at each request by the token's hash) and when
 * the key is rotated away. Without a key ring (tests) a key of this process's own seals them.
 */
export class SessionCookies {
  readonly #keys: SecretKeyRing;
  readonly #now: () => Date;

  constructor(keys: SecretKeyRing | undefined, now: () => Date = () => new Date()) {
    this.#keys = keys ?? new SecretKeyRing([newSecretKey()]);
    this.#now = now;
  }

  /** A new session for `token`: the cookie's value and when it ends. */
  issue(token: ApiToken): { value: string; expiresAt: Date } {
    const now = this.#now().getTime();
    let end = now + SESSION_HOURS * 3600_000;
    if (token.expiresAt !== null) end = Math.min(end, Date.parse(token.expiresAt));
    const value = this.#keys.sealText(JSON.stringify({ h: token.hash, e: end }));
    return { value: cookieSafe(value), expiresAt: new Date(end) };
  }

  /** The session of a cookie value; `UNAUTHORIZED` when it was altered, is unreadable or has ended. */
  open(value: string): Session {
    const sealed = parseSealedText(cookieText(value));
    if (sealed === undefined) throw ended("the browser session cookie is unreadable");
    let text: string;
    try {
      text = this.#keys.open(sealed);
    } catch (error) {
      throw ended("the browser session is not one of this server's (or its key was rotated)", error);
    }
    const parsed = SealedSessionSchema.safeParse(safeJson(text));
    if (!parsed.success) throw ended("the browser session cookie is unreadable");
    const expiresAt = new Date(parsed.data.e);
    if (expiresAt.getTime() <= this.#now().getTime()) throw ended("the browser session has ended");
    return { tokenHash: parsed.data.h, expiresAt };
  }
}

/** The `Set-Cookie` header of a session (or, with `undefined`, the one that clears it). */
export function sessionCookieHeader(session: { value: string; expiresAt: Date } | undefined, secure: boolean): string {
  const attributes = ["Path=/", "HttpOnly", "SameSite=Strict", ...(secure ? ["Secure"] : [])];
  if (session === undefined) return [`${SESSION_COOKIE}=`, "Max-Age=0", ...attributes].join("; ");
  return [`${SESSION_COOKIE}=${session.value}`, `Expires=${session.expiresAt.toUTCString()}`, ...attributes].join("; ");
}

// A sealed text uses base64 (`+`, `/`, `=`) and `:`; a cookie value keeps only what needs no
// quoting everywhere: the base64url alphabet and `.` as the separator.
function cookieSafe(sealed: string): string {
  return sealed.replaceAll(":", ".").replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

function cookieText(value: string): string {
  const parts = value.split(".");
  // enc.v1.<keyId>.<iv>.<tag>.<data>: the base64 fields get their standard alphabet and padding.
  return parts.map((p, i) => (i < 3 ? p : padBase64(p.replaceAll("-", "+").replaceAll("_", "/")))).join(":");
}

function padBase64(s: string): string {
  return s + "=".repeat((4 - (s.length % 4)) % 4);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function ended(message: string, cause?: unknown): CausewayError {
  return new CausewayError("UNAUTHORIZED", message, {
    hint: "log in again: open the link `causeway up` prints, or give an API token on the login page",
    ...(cause === undefined ? {} : { cause }),
  });
}
