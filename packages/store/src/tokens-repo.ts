import { CausewayError, type ApiToken, type NewApiToken, type Role, type TokenKind } from "@causeway/core";
import type { Kysely } from "kysely";
import type { ApiTokenRow, CausewayDatabase } from "./schema.js";

/**
 * The API tokens of the SQLite store (migration 0009), for the store's TokenStore (see
 * sqlite-store.ts, which runs these inside its queue and transactions). Not on the hot path of
 * runs: the server reads a token once per secret it has not seen and keeps it.
 */
export class TokensRepo {
  readonly #db: Kysely<CausewayDatabase>;

  constructor(db: Kysely<CausewayDatabase>) {
    this.#db = db;
  }

  /** Inserts a token; TOKEN_EXISTS when a token that is not revoked has its name. */
  async insert(token: NewApiToken): Promise<ApiToken> {
    if ((await this.#live(token.name)) !== undefined) {
      throw new CausewayError("TOKEN_EXISTS", `an API token named ${token.name} exists already`, {
        hint: `choose another name, or revoke it first: causeway token revoke ${token.name}`,
      });
    }
    const row = await this.#db
      .insertInto("api_tokens")
      .values({
        name: token.name,
        role: token.role,
        kind: token.kind,
        hash: token.hash,
        created_at: token.createdAt,
        created_by: token.createdBy,
        expires_at: token.expiresAt,
        last_used_at: null,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toApiToken(row);
  }

  /** Revokes the live token of this name; TOKEN_NOT_FOUND when there is none. */
  async revoke(name: string, at: string): Promise<ApiToken> {
    const live = await this.#live(name);
    if (live === undefined) {
      throw new CausewayError("TOKEN_NOT_FOUND", `no API token named ${name} (or it is revoked already)`, {
        hint: "causeway token list shows the tokens",
      });
    }
    const row = await this.#db
      .updateTable("api_tokens")
      .set({ revoked_at: at })
      .where("id", "=", live.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toApiToken(row);
  }

  async byHash(hash: string): Promise<ApiToken | undefined> {
    const row = await this.#db.selectFrom("api_tokens").selectAll().where("hash", "=", hash).executeTakeFirst();
    return row === undefined ? undefined : toApiToken(row);
  }

  async list(): Promise<ApiToken[]> {
    const rows = await this.#db.selectFrom("api_tokens").selectAll().orderBy("id").execute();
    return rows.map(toApiToken);
  }

  async touch(id: number, at: string): Promise<void> {
    await this.#db.updateTable("api_tokens").set({ last_used_at: at }).where("id", "=", id).execute();
  }

  #live(name: string): Promise<ApiTokenRow | undefined> {
    return this.#db
      .selectFrom("api_tokens")
      .selectAll()
      .where("name", "=", name)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
  }
}

function toApiToken(row: ApiTokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    kind: row.kind as TokenKind,
    hash: row.hash,
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
