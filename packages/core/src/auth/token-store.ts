import type { AuditEvent } from "../engine/model.js";
import type { NewAuditEvent } from "../engine/ports.js";
import type { ApiToken, NewApiToken } from "./tokens.js";

/**
 * The store of API tokens: a port of its own, not part of `Store`, because tokens are the
 * server's business and never the engine's. The SQLite store implements it on the same
 * connection and queue as `Store` (store/src/tokens-repo.ts), so a token's change and its audit
 * entry commit together.
 *
 * Lookup is by hash: the secret is never stored, and an index lookup of its SHA-256 leaks
 * nothing a constant-time compare would protect (the attacker does not know the hash).
 */
export interface TokenStore {
  /**
   * Stores a new token and appends `audit` to the audit trail, in one transaction.
   * `TOKEN_EXISTS` when a token that is not revoked has the name.
   */
  createToken(token: NewApiToken, audit: NewAuditEvent): Promise<{ token: ApiToken; audit: AuditEvent }>;
  /**
   * Revokes the token of this name that is not revoked (sets `revokedAt` to `at`) and appends
   * `audit`, in one transaction. `TOKEN_NOT_FOUND` when there is none.
   */
  revokeToken(name: string, at: string, audit: NewAuditEvent): Promise<{ token: ApiToken; audit: AuditEvent }>;
  /** The token whose secret has this SHA-256 (lowercase hex), revoked and expired ones included. */
  tokenByHash(hash: string): Promise<ApiToken | undefined>;
  /** Every token, revoked and expired ones included, oldest first. */
  listTokens(): Promise<ApiToken[]>;
  /** Records a use of the token (`lastUsedAt`). Callers call it at most once a minute per token. */
  touchToken(id: number, at: string): Promise<void>;
}
