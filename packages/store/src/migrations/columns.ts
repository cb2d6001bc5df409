import { SqliteAdapter, type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from "kysely";

/** True when `db` talks to SQLite (migrations differ from Postgres only in a few column types). */
export function isSqlite(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

/**
 * Adds the surrogate key `id`: ids are never reused, even after rows are deleted (log files and
 * event cursors are keyed by them), hence AUTOINCREMENT on SQLite and an identity on Postgres.
 */
export function withId<T extends string>(
  db: Kysely<unknown>,
  table: CreateTableBuilder<T>,
): CreateTableBuilder<T, "id"> {
  return isSqlite(db)
    ? table.addColumn("id", "integer", (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement())
    : table.addColumn("id", "bigint", (c: ColumnDefinitionBuilder) => c.primaryKey().generatedByDefaultAsIdentity());
}
