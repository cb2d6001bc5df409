import type BetterSqlite3 from "better-sqlite3";
import type { SqliteDatabase, SqliteStatement } from "kysely";

/** How many statements are kept: every query the store makes is a few dozen texts. */
const CAPACITY = 256;

/**
 * The connection as Kysely sees it, with its prepared statements kept by SQL text. Kysely
 * prepares every query it runs (SQLite parses and plans it again, and allocates what the
 * statement needs, freed only when the garbage collector finalizes it): the engine makes the
 * same few dozen queries for every job, and a restart's read of the latest run of each of 1,000
 * jobs left about 20 MB of the process's memory behind. The least recently used statement goes
 * once `CAPACITY` are kept; a statement still being iterated is never handed out twice (a new
 * one is prepared for the second use).
 */
export function cachingDatabase(sqlite: BetterSqlite3.Database, capacity = CAPACITY): SqliteDatabase {
  const kept = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string): SqliteStatement {
      const statement = kept.get(sql);
      if (statement !== undefined && !statement.busy) {
        // Most recently used last.
        kept.delete(sql);
        kept.set(sql, statement);
        return statement;
      }
      const prepared = sqlite.prepare(sql);
      if (statement === undefined) {
        kept.set(sql, prepared);
        if (kept.size > capacity) kept.delete(kept.keys().next().value as string);
      }
      return prepared;
    },
  };
}
