import { CausewayError, type Clock, type SecretFields, type SecretSummary } from "@causeway/core";
import { sql, type Kysely, type SqlBool } from "kysely";
import type { CausewayDatabase, SecretRow } from "./schema.js";
import { parseSealedText, type SealedValue, type SecretKeyRing } from "./secret-keys.js";

/**
 * The runs with secret parameters, with the condition written as the partial index
 * runs_secret_params_ix is (a literal, not a parameter), so that the read walks those runs
 * through it rather than every run ever made (it is made at every open).
 */
export function runsWithSecretParams(db: Kysely<CausewayDatabase>) {
  return db
    .selectFrom("runs")
    .select(["id", "params", "secret_params"])
    .where(sql<SqlBool>`secret_params != '[]'`);
}

/** A secret's name: as a resource's name, so that `integration: <name>` can name it. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
/** A field's name: a key of a JSON object, short and printable. */
const FIELD = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
/** All the values of one secret together: a key or a few tokens, not data. */
const MAX_BYTES = 64 * 1024;

/** SECRET_INVALID unless `name` and `fields` can be stored. */
export function checkSecret(name: string, fields: SecretFields): void {
  if (!NAME.test(name)) {
    throw new CausewayError(
      "SECRET_INVALID",
      `invalid secret name ${JSON.stringify(name)}: letters, digits, _, - and . (not first), at most 100`,
    );
  }
  const entries = Object.entries(fields);
  if (entries.length === 0) throw new CausewayError("SECRET_INVALID", `secret ${name} has no field`);
  let bytes = 0;
  for (const [field, value] of entries) {
    if (!FIELD.test(field)) {
      throw new CausewayError("SECRET_INVALID", `secret ${name}: invalid field name ${JSON.stringify(field)}`);
    }
    if (typeof value !== "string") {
      throw new CausewayError("SECRET_INVALID", `secret ${name}: field ${field} must be a string`);
    }
    bytes += Buffer.byteLength(value);
  }
  if (bytes > MAX_BYTES) throw new CausewayError("SECRET_INVALID", `secret ${name} is over ${MAX_BYTES} bytes`);
}

/**
 * The integration store of the SQLite store (migration 0010), for SqliteRepo: every value sealed
 * with the key ring before it is written, opened when read; and the sealing of secret run
 * parameters inside `runs.params`.
 */
export class SecretsRepo {
  readonly #db: Kysely<CausewayDatabase>;
  readonly #clock: Clock;
  readonly #keys: SecretKeyRing;

  constructor(db: Kysely<CausewayDatabase>, clock: Clock, keys: SecretKeyRing) {
    this.#db = db;
    this.#clock = clock;
    this.#keys = keys;
  }

  async put(name: string, fields: SecretFields): Promise<SecretSummary> {
    checkSecret(name, fields);
    const now = this.#clock.now().toISOString();
    const sealed = JSON.stringify(
      Object.fromEntries(Object.entries(fields).map(([field, value]) => [field, this.#keys.seal(value)])),
    );
    await this.#db
      .insertInto("secrets")
      .values({ name, fields: sealed, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column("name").doUpdateSet({ fields: sealed, updated_at: now }))
      .execute();
    const row = await this.#db.selectFrom("secrets").selectAll().where("name", "=", name).executeTakeFirstOrThrow();
    return summary(row);
  }

  async get(name: string): Promise<SecretFields | undefined> {
    const row = await this.#db.selectFrom("secrets").selectAll().where("name", "=", name).executeTakeFirst();
    if (row === undefined) return undefined;
    const fields: Record<string, string> = {};
    for (const [field, sealed] of Object.entries(parseFields(row))) fields[field] = this.#keys.open(sealed);
    return fields;
  }

  async list(): Promise<SecretSummary[]> {
    return (await this.#db.selectFrom("secrets").selectAll().orderBy("name").execute()).map(summary);
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.#db.deleteFrom("secrets").where("name", "=", name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** The ids of the keys the stored secrets and secret run parameters were sealed with. */
  async keyIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const row of await this.#db.selectFrom("secrets").selectAll().execute()) {
      for (const sealed of Object.values(parseFields(row))) ids.add(sealed.keyId);
    }
    const runs = await runsWithSecretParams(this.#db).execute();
    for (const run of runs) {
      const params = JSON.parse(run.params) as Record<string, string>;
      for (const name of JSON.parse(run.secret_params) as string[]) {
        const value = params[name];
        const id = value === undefined ? undefined : parseSealedText(value)?.keyId;
        if (id !== undefined) ids.add(id);
      }
    }
    return ids;
  }

  async reseal(): Promise<number> {
    const current = this.#keys.currentId;
    let count = 0;
    for (const row of await this.#db.selectFrom("secrets").selectAll().execute()) {
      const fields = parseFields(row);
      if (Object.values(fields).every((s) => s.keyId === current)) continue;
      const resealed: Record<string, SealedValue> = {};
      for (const [field, sealed] of Object.entries(fields)) {
        resealed[field] = sealed.keyId === current ? sealed : this.#keys.seal(this.#keys.open(sealed));
        if (sealed.keyId !== current) count++;
      }
      await this.#db
        .updateTable("secrets")
        .set({ fields: JSON.stringify(resealed) })
        .where("name", "=", row.name)
        .execute();
    }
    const runs = await runsWithSecretParams(this.#db).execute();
    for (const run of runs) {
      const params = JSON.parse(run.params) as Record<string, string>;
      let changed = false;
      for (const name of JSON.parse(run.secret_params) as string[]) {
        const value = params[name];
        if (value === undefined || parseSealedText(value)?.keyId === current) continue;
        params[name] = this.#keys.sealText(this.#keys.openText(value));
        changed = true;
        count++;
      }
      if (changed) {
        await this.#db
          .updateTable("runs")
          .set({ params: JSON.stringify(params) })
          .where("id", "=", run.id)
          .execute();
      }
    }
    return count;
  }

  /** `params` with the values of `secret` sealed, as the JSON text of `runs.params`. */
  sealParams(params: Readonly<Record<string, string>>, secret: readonly string[]): string {
    if (secret.length === 0) return JSON.stringify(params);
    const sealed: Record<string, string> = { ...params };
    for (const name of secret) {
      const value = params[name];
      if (value !== undefined) sealed[name] = this.#keys.sealText(value);
    }
    return JSON.stringify(sealed);
  }

  /** The JSON text of `runs.params` with the values of `secret` opened. */
  openParams(text: string, secret: readonly string[]): Record<string, string> {
    const params = JSON.parse(text) as Record<string, string>;
    for (const name of secret) {
      const value = params[name];
      if (value !== undefined) params[name] = this.#keys.openText(value);
    }
    return params;
  }
}

function parseFields(row: SecretRow): Record<string, SealedValue> {
  return JSON.parse(row.fields) as Record<string, SealedValue>;
}

function summary(row: SecretRow): SecretSummary {
  return {
    name: row.name,
    fields: Object.keys(parseFields(row)).sort(),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
