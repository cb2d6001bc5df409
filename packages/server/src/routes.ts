import { CausewayError, roleAllows, type ApiToken, type Role } from "@causeway/core";
import { CSRF_HEADER, SESSION_COOKIE } from "@causeway/protocol";
import type { Context, Handler, Hono, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { TokenAuth } from "./auth.js";
import { sessionCookieHeader, type Session, type SessionCookies } from "./sessions.js";
import type { AppEnv } from "./http-errors.js";

/**
 * The role rules of the API (docs/api.md, the "role" column): every route of `/api/v1` is
 * mounted through `GuardedRoutes`, which makes it name the least role it needs. A route mounted
 * any other way has no rule: the route table test (test/auth-routes.test.ts) enumerates the
 * app's routes and fails on it.
 */

/** The methods of the API. */
export type RouteMethod = "GET" | "POST" | "PUT" | "DELETE";

/**
 * Whether an anonymous request may read this route on a public server (`--public`): the route
 * checks the job it reads (`allowPublicAccess`). Absent: anonymous requests are refused.
 */
export type PublicRead = (c: Context<AppEnv>) => boolean | Promise<boolean>;

/** A route and the least role it needs. */
export interface RouteRule {
  readonly method: RouteMethod;
  /** The path as mounted, `/api/v1/...` or `/hooks/...`. */
  readonly path: string;
  /** `none`: no API token at all (the health check, webhook deliveries with their own keys). */
  readonly role: Role | "none";
  /** True when anonymous readers of a public server may call it (for jobs that allow it). */
  readonly publicRead: boolean;
}

const RULES = new WeakMap<object, readonly RouteRule[]>();

/** The role rules of an app built by buildApp, for the route table test and docs. */
export function routeRules(app: object): readonly RouteRule[] {
  return RULES.get(app) ?? [];
}

/** Records the rules of `app` (buildApp, once its routes are mounted). */
export function recordRules(app: object, rules: readonly RouteRule[]): void {
  RULES.set(app, rules);
}

/**
 * The middleware of every `/api/v1` route but the health check: reads the caller's token, from
 * an `Authorization: Bearer` header or else a browser session's cookie (sessions.ts), with
 * `UNAUTHORIZED` for a wrong, revoked or expired one (a session cookie that fails is cleared),
 * and refuses anonymous requests, except GETs on a public server, which the route's own rule then
 * decides. A cookie session's request that changes something must carry `X-Causeway-Request`
 * (`CSRF_REFUSED`): a cross-site form cannot send that header.
 */
export function authenticate(
  auth: TokenAuth,
  publicAccess: boolean,
  sessions: SessionCookies,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    let token: ApiToken | undefined;
    let session: Session | undefined;
    if (header !== undefined && header.trim() !== "") token = await auth.authenticate(header);
    else {
      const cookie = getCookie(c, SESSION_COOKIE);
      if (cookie !== undefined && cookie !== "") {
        try {
          session = sessions.open(cookie);
          token = await auth.byHash(session.tokenHash);
        } catch (error) {
          c.header("Set-Cookie", sessionCookieHeader(undefined, secureRequest(c)));
          throw error;
        }
        if (!SAFE_METHODS.has(c.req.method) && c.req.header(CSRF_HEADER) === undefined) {
          throw new CausewayError(
            "CSRF_REFUSED",
            `${c.req.method} ${c.req.path} with a browser session needs the ${CSRF_HEADER} header`,
            { hint: `send ${CSRF_HEADER}: 1, or an API token in Authorization: Bearer` },
          );
        }
      }
    }
    if (token === undefined && !(publicAccess && c.req.method === "GET")) throw missingToken();
    c.set("token", token);
    c.set("session", session);
    await next();
  };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether the request came over HTTPS (directly or through a proxy that says so): cookies get `Secure`. */
export function secureRequest(c: Context<AppEnv>): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

/** Mounts routes on the API with the role each needs, and keeps the list of rules. */
export class GuardedRoutes {
  readonly rules: RouteRule[] = [];
  readonly #api: Hono<AppEnv>;
  readonly #prefix: string;
  readonly #publicAccess: boolean;

  constructor(api: Hono<AppEnv>, prefix: string, publicAccess: boolean) {
    this.#api = api;
    this.#prefix = prefix;
    this.#publicAccess = publicAccess;
  }

  get<P extends string>(path: P, role: Role, handler: Handler<AppEnv, P>, publicRead?: PublicRead): void {
    this.#mount("GET", path, role, handler as Handler<AppEnv>, publicRead);
  }
  post<P extends string>(path: P, role: Role, handler: Handler<AppEnv, P>): void {
    this.#mount("POST", path, role, handler as Handler<AppEnv>);
  }
  put<P extends string>(path: P, role: Role, handler: Handler<AppEnv, P>): void {
    this.#mount("PUT", path, role, handler as Handler<AppEnv>);
  }
  delete<P extends string>(path: P, role: Role, handler: Handler<AppEnv, P>): void {
    this.#mount("DELETE", path, role, handler as Handler<AppEnv>);
  }

  /** Records a route that needs no API token (mounted by its own code). */
  open(method: RouteMethod, fullPath: string): void {
    this.rules.push({ method, path: fullPath, role: "none", publicRead: false });
  }

  #mount(method: RouteMethod, path: string, role: Role, handler: Handler<AppEnv>, publicRead?: PublicRead): void {
    const publicAccess = this.#publicAccess;
    const guard: MiddlewareHandler<AppEnv> = async (c, next) => {
      const token = c.get("token");
      if (token === undefined) {
        if (!publicAccess || publicRead === undefined || !(await publicRead(c))) throw missingToken();
      } else if (!roleAllows(token.role, role)) {
        throw new CausewayError(
          "FORBIDDEN_ROLE",
          `${method} ${this.#prefix}${path} needs the ${role} role; the token ${token.name} is a ${token.role}`,
          { hint: `ask an admin for a token with the ${role} role`, details: { needed: role, role: token.role } },
        );
      }
      await next();
    };
    this.#api.on(method, path, guard, handler);
    this.rules.push({ method, path: `${this.#prefix}${path}`, role, publicRead: publicRead !== undefined });
  }
}

function missingToken(): CausewayError {
  return new CausewayError("UNAUTHORIZED", "a valid API token is required: Authorization: Bearer <token>", {
    hint: "the CLI finds the admin token in <data>/server.json; `causeway token create` makes others",
  });
}
