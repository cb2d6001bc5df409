import { CausewayError, tokenStanding, type ApiToken } from "@causeway/core";
import { TokenCreateBodySchema, type TokenCreated, type TokenJson } from "@causeway/protocol";
import type { AppDeps } from "./deps.js";
import { actorName, USER_HEADER } from "./identity.js";
import { BODY_LIMITS, readBody } from "./request.js";
import type { GuardedRoutes } from "./routes.js";

/**
 * The routes of API tokens (docs/api.md "Tokens"), all for admins: create one (its secret is in
 * this answer and nowhere else, ever), list them (never a secret or a hash), revoke one by
 * name. Each change has an audit entry, written in the transaction of the token's row.
 */
export function mountTokenRoutes(api: GuardedRoutes, deps: AppDeps): void {
  const { auth } = deps;

  api.post("/tokens", "admin", async (c) => {
    const body = await readBody(c, TokenCreateBodySchema, BODY_LIMITS.small);
    const made = await auth.create({
      name: body.name,
      role: body.role,
      by: actorName(c.get("token"), c.req.header(USER_HEADER)),
      ...(body.expiresInDays === undefined ? {} : { expiresInDays: body.expiresInDays }),
    });
    const answer: TokenCreated = {
      token: made.secret,
      name: made.token.name,
      role: made.token.role,
      expiresAt: made.token.expiresAt,
    };
    return c.json(answer, 201);
  });

  api.get("/tokens", "admin", async (c) => {
    const now = new Date();
    return c.json((await auth.list()).map((t) => toTokenJson(t, now)));
  });

  api.delete("/tokens/:name", "admin", async (c) => {
    const name = c.req.param("name");
    const caller = c.get("token");
    if (caller?.name === name) {
      // The token in use would lock its holder out mid-request; another admin may revoke it.
      throw new CausewayError("BAD_REQUEST", `the token ${name} cannot revoke itself`, {
        hint: "revoke it with another admin token",
      });
    }
    const revoked = await auth.revoke(name, actorName(caller, c.req.header(USER_HEADER)));
    return c.json(toTokenJson(revoked.token, new Date()));
  });
}

/** A token on the wire: what it is and its standing, never its secret or hash. */
export function toTokenJson(token: ApiToken, now: Date): TokenJson {
  return {
    name: token.name,
    role: token.role,
    kind: token.kind,
    createdAt: token.createdAt,
    createdBy: token.createdBy,
    expiresAt: token.expiresAt,
    lastUsedAt: token.lastUsedAt,
    revokedAt: token.revokedAt,
    state: tokenStanding(token, now),
  };
}
