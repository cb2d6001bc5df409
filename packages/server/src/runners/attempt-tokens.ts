import { JOB_TOKEN_PREFIX } from "@causeway/core";
import { hashSecret, newSecret } from "../auth.js";
import type { Attempt } from "./attempt.js";

/**
 * The attempts of a hub by their job token (hub.ts): a runner names its attempt by the token
 * in every call of the protocol, and the hub stores and indexes only the token's SHA-256 (the
 * lease's `token_hash`). The hashes of the tokens this hub issued are kept by token while their
 * attempt is known, so that a call does not hash again: four calls a run (start, console,
 * finish, an in-process runner's cancel listener), each hash 11 µs of the server's thread in
 * the 1,000-job DAG. Only tokens it issued are kept, never one a caller presents: a wrong token
 * is hashed and found nowhere.
 */
export class AttemptTokens {
  /** Each attempt by its token's hash, with the token when this hub issued it. */
  readonly #byHash = new Map<string, { readonly attempt: Attempt; readonly token: string | undefined }>();
  /** The hash of each token issued whose attempt is known. */
  readonly #hashes = new Map<string, string>();

  /** How many issued tokens have their hash kept: as many as the attempts that hold one. */
  get kept(): number {
    return this.#hashes.size;
  }

  /** A new job token and its hash; `set` makes it an attempt's. */
  issue(): { token: string; hash: string } {
    const token = newSecret(JOB_TOKEN_PREFIX);
    return { token, hash: hashSecret(token) };
  }

  /** The attempt of the job token `token`, if any. */
  get(token: string): Attempt | undefined {
    return this.#byHash.get(this.#hashes.get(token) ?? hashSecret(token))?.attempt;
  }

  /**
   * Makes `hash` the token of `attempt`: of a token issued (`token`, kept with its hash), or of
   * a lease read after a restart (its token known to its runner only).
   */
  set(hash: string, attempt: Attempt, token?: string): void {
    this.#byHash.set(hash, { attempt, token });
    if (token !== undefined) this.#hashes.set(token, hash);
  }

  /** Forgets the token of `hash`: its calls are refused as unknown from now on. */
  delete(hash: string): void {
    const token = this.#byHash.get(hash)?.token;
    this.#byHash.delete(hash);
    if (token !== undefined) this.#hashes.delete(token);
  }
}
