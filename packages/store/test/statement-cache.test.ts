import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { cachingDatabase } from "../src/statement-cache.js";

// Kysely prepares every query it runs; the store keeps the statements by SQL text instead.

let sqlite: BetterSqlite3.Database | undefined;
afterEach(() => {
  sqlite?.close();
  sqlite = undefined;
});

function database(): BetterSqlite3.Database {
  sqlite = new BetterSqlite3(":memory:");
  sqlite.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)");
  return sqlite;
}

describe("the statement cache", () => {
  it("hands out the statement it prepared for the same text, which runs with new parameters", () => {
    const db = cachingDatabase(database());
    const first = db.prepare("SELECT x FROM t WHERE x > ?");
    expect(first.all([1])).toEqual([{ x: 2 }, { x: 3 }]);
    const again = db.prepare("SELECT x FROM t WHERE x > ?");
    expect(again).toBe(first);
    expect(again.all([2])).toEqual([{ x: 3 }]);
    expect(db.prepare("SELECT x FROM t WHERE x < ?")).not.toBe(first);
  });

  it("prepares a second statement while the kept one is still being iterated", () => {
    const db = cachingDatabase(database());
    const outer = db.prepare("SELECT x FROM t ORDER BY x");
    const seen: number[][] = [];
    for (const row of outer.iterate([]) as Iterable<{ x: number }>) {
      const inner = db.prepare("SELECT x FROM t ORDER BY x");
      expect(inner).not.toBe(outer);
      seen.push([row.x, (inner.all([]) as { x: number }[]).length]);
    }
    expect(seen).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    // Once the iteration is over, the kept statement is handed out again.
    expect(db.prepare("SELECT x FROM t ORDER BY x")).toBe(outer);
  });

  it("keeps at most its capacity, dropping the least recently used", () => {
    const db = cachingDatabase(database(), 2);
    const a = db.prepare("SELECT 1");
    const b = db.prepare("SELECT 2");
    expect(db.prepare("SELECT 1")).toBe(a);
    db.prepare("SELECT 3");
    // "SELECT 2" was the least recently used: it was dropped, "SELECT 1" was kept.
    expect(db.prepare("SELECT 1")).toBe(a);
    expect(db.prepare("SELECT 2")).not.toBe(b);
  });

  it("closes the connection", () => {
    const raw = database();
    cachingDatabase(raw).close();
    expect(raw.open).toBe(false);
    sqlite = undefined;
  });
});
