import type { Role } from "./roles.js";

/**
 * API tokens as the server keeps them (design §6): a secret shown once, stored only as its
 * SHA-256, with a name, a role, an optional expiry and a revocation. Pure: the server makes the
 * secret and its hash (node:crypto); these types and rules say what a stored token means.
 */

/**
 * What a token is for. Only `api` tokens exist today (people and scripts calling the API);
 * runner credentials and per-attempt job tokens (design §5 and §6) will be kinds of their own,
 * with their own rules of what they may call, in the same table.
 */
export const TOKEN_KINDS = ["api"] as const;
/** A kind of token. */
export type TokenKind = (typeof TOKEN_KINDS)[number];

/** The prefix of every token secret, so a leaked one is recognisable (as GitHub's `ghp_`). */
export const TOKEN_PREFIX = "cw_";

/** The name of the admin token `causeway up` creates on a first start. */
export const BOOTSTRAP_TOKEN_NAME = "admin";

/** The longest lifetime a token may be given, in days (ten years). */
export const MAX_TOKEN_DAYS = 3650;

/** How often, at most, the store records that a token was used: no write on every request. */
export const TOKEN_TOUCH_INTERVAL_MS = 60_000;

/** A token as stored. Its secret is never stored, only `hash`. */
export interface ApiToken {
  readonly id: number;
  /** Unique among the tokens that are not revoked; the name of the identity the token gives. */
  readonly name: string;
  readonly role: Role;
  readonly kind: TokenKind;
  /** Lowercase hex SHA-256 of the secret. */
  readonly hash: string;
  /** ISO times. */
  readonly createdAt: string;
  /** The identity that created it (`system` for the bootstrap token of `causeway up`). */
  readonly createdBy: string;
  readonly expiresAt: string | null;
  /** When the token was last used, to within TOKEN_TOUCH_INTERVAL_MS. */
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

/** A token to store; the store assigns the id. */
export type NewApiToken = Omit<ApiToken, "id" | "lastUsedAt" | "revokedAt">;

/** Whether a stored token can be used at `now`: refused when revoked or expired. */
export type TokenStanding = "active" | "revoked" | "expired";

/** The standing of `token` at `now`: revoked first, then expired. */
export function tokenStanding(token: Pick<ApiToken, "expiresAt" | "revokedAt">, now: Date): TokenStanding {
  if (token.revokedAt !== null) return "revoked";
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now.getTime()) return "expired";
  return "active";
}

/** The expiry of a token created at `now` to live `days` days; null for no expiry. */
export function tokenExpiry(now: Date, days: number | undefined): string | null {
  return days === undefined ? null : new Date(now.getTime() + days * 86_400_000).toISOString();
}

/** True when a use at `now` should be recorded: never recorded, or last recorded long enough ago. */
export function touchDue(lastUsedAt: string | null, now: Date): boolean {
  return lastUsedAt === null || now.getTime() - Date.parse(lastUsedAt) >= TOKEN_TOUCH_INTERVAL_MS;
}
