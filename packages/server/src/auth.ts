import { hash, randomBytes } from "node:crypto";
import {
  CausewayError,
  tokenExpiry,
  tokenStanding,
  touchDue,
  TOKEN_PREFIX,
  type ApiToken,
  type AuditEvent,
  type Role,
  type TokenStore,
} from "@causeway/core";
import type { Logger } from "./logger.js";

/**
 * API tokens on the server's side (docs/api.md "Authentication"): making a secret, checking the
 * secret a request carries, creating and revoking tokens with their audit entries.
 *
 * A token found once is kept in memory by its hash, so a request costs no store read after the
 * first: this server is the only writer of its tokens (it holds the data directory's lock), so
 * the kept copy changes only through `create` and `revoke` here. Expiry is checked at each
 * request. The use of a token is written at most once a minute (`touchDue`), after the answer's
 * work, never inside it.
 */
export class TokenAuth {
  readonly #tokens: TokenStore;
  readonly #now: () => Date;
  readonly #logger: Logger | undefined;
  readonly #known = new Map<string, ApiToken>();

  constructor(tokens: TokenStore, options: { now?: () => Date; logger?: Logger } = {}) {
    this.#tokens = tokens;
    this.#now = options.now ?? (() => new Date());
    this.#logger = options.logger;
  }

  /**
   * The token of an `Authorization` header: undefined when there is none (an anonymous
   * request), `UNAUTHORIZED` when it is not a bearer token this server knows, or is revoked or
   * expired.
   */
  async authenticate(header: string | undefined): Promise<ApiToken | undefined> {
    if (header === undefined || header.trim() === "") return undefined;
    const secret = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (secret === undefined) throw unauthorized("a valid API token is required: Authorization: Bearer <token>");
    return this.byHash(hashSecret(secret));
  }

  /**
   * The live token of this hash (a browser session's, sessions.ts): `UNAUTHORIZED` when no token
   * has it, or it is revoked or expired.
   */
  async byHash(hash: string): Promise<ApiToken> {
    let token = this.#known.get(hash);
    if (token === undefined) {
      token = await this.#tokens.tokenByHash(hash);
      if (token === undefined) throw unauthorized("the API token is not one of this server's");
      this.#known.set(hash, token);
    }
    const now = this.#now();
    const standing = tokenStanding(token, now);
    if (standing !== "active") throw unauthorized(`the API token ${token.name} is ${standing}`);
    if (touchDue(token.lastUsedAt, now)) this.#touch(token, now);
    return token;
  }

  /** Creates a token and its audit entry; the secret is returned here and never again. */
  async create(input: {
    readonly name: string;
    readonly role: Role;
    readonly by: string;
    readonly expiresInDays?: number;
    /** The secret to give it (tests, a known bootstrap secret); default: a new random one. */
    readonly secret?: string;
  }): Promise<{ token: ApiToken; secret: string; audit: AuditEvent }> {
    const secret = input.secret ?? newSecret();
    const now = this.#now();
    const expiresAt = tokenExpiry(now, input.expiresInDays);
    const made = await this.#tokens.createToken(
      {
        name: input.name,
        role: input.role,
        kind: "api",
        hash: hashSecret(secret),
        createdAt: now.toISOString(),
        createdBy: input.by,
        expiresAt,
      },
      {
        actor: input.by,
        action: "token-create",
        subject: `token:${input.name}`,
        detail: { role: input.role, expiresAt },
      },
    );
    this.#known.set(made.token.hash, made.token);
    return { ...made, secret };
  }

  /** Revokes the live token of this name, with its audit entry; it is refused from now on. */
  async revoke(name: string, by: string): Promise<{ token: ApiToken; audit: AuditEvent }> {
    const revoked = await this.#tokens.revokeToken(name, this.#now().toISOString(), {
      actor: by,
      action: "token-revoke",
      subject: `token:${name}`,
      detail: {},
    });
    this.#known.set(revoked.token.hash, revoked.token);
    return revoked;
  }

  /** Every token, for `GET /tokens` (the caller leaves out the hashes). */
  list(): Promise<ApiToken[]> {
    return this.#tokens.listTokens();
  }

  /** The stored token of this secret, if any (the start's check of server.json's token). */
  find(secret: string): Promise<ApiToken | undefined> {
    return this.#tokens.tokenByHash(hashSecret(secret));
  }

  #touch(token: ApiToken, now: Date): void {
    const at = now.toISOString();
    this.#known.set(token.hash, { ...token, lastUsedAt: at });
    this.#tokens.touchToken(token.id, at).catch((error: unknown) => {
      // Only a record of use: a failure to write it refuses nothing.
      this.#logger?.warn(`could not record the use of API token ${token.name}: ${String(error)}`, {
        event: "token-touch",
      });
    });
  }
}

const SECRET_BYTES = 32;
/**
 * Secrets drawn from the CSPRNG at once, as Node draws its `randomUUID`s: a job token is made
 * for every run, and one `randomBytes` call cost 40 µs of the server's thread per run in the
 * 1,000-job DAG (7 µs alone; one call of 64 secrets' bytes costs 10).
 */
const POOLED_SECRETS = 64;
let pool = Buffer.alloc(0);
let drawn = 0;

/** A new token secret: `cw_` (or `prefix`) and 32 random bytes in base64url. */
export function newSecret(prefix: string = TOKEN_PREFIX): string {
  if (drawn + SECRET_BYTES > pool.length) {
    pool = randomBytes(SECRET_BYTES * POOLED_SECRETS);
    drawn = 0;
  }
  const bytes = pool.subarray(drawn, drawn + SECRET_BYTES);
  drawn += SECRET_BYTES;
  const secret = `${prefix}${bytes.toString("base64url")}`;
  // Given out once: the pool keeps only the bytes of secrets not made yet.
  bytes.fill(0);
  return secret;
}

/**
 * The stored form of a secret: its SHA-256 in lowercase hex. One-shot: `createHash` made an
 * object per call and cost 42 µs of the server's thread per job token in the 1,000-job DAG.
 */
export function hashSecret(secret: string): string {
  return hash("sha256", secret, "hex");
}

function unauthorized(message: string): CausewayError {
  return new CausewayError("UNAUTHORIZED", message, {
    hint: "send Authorization: Bearer <token>; `causeway token create` makes tokens, and the CLI finds the admin token in <data>/server.json",
  });
}
