import { randomBytes } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isCausewayError, type NewRun } from "@causeway/core";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import {
  loadSecretKeys,
  newSecretKey,
  openSqliteStore,
  parseKeyText,
  writeKeyFile,
  type SqliteStores,
} from "../src/index.js";
import type { CausewayDatabase } from "../src/schema.js";
import { runsWithSecretParams } from "../src/secrets-repo.js";

// The integration store (issue 11): values sealed with AES-256-GCM under a key kept outside the
// database, secret run parameters sealed in runs.params, key rotation that never leaves a state
// that does not decrypt.

const dirs: string[] = [];
const open: SqliteStores[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.store.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "causeway-secrets-"));
  dirs.push(dir);
  return join(dir, "data");
}

async function opened(dir: string, keyFile?: string): Promise<SqliteStores> {
  const stores = await openSqliteStore({
    dataDir: dir,
    ...(keyFile === undefined ? {} : { secretKey: { file: keyFile } }),
  });
  open.push(stores);
  return stores;
}

/** The bytes of the database and its WAL. */
function databaseBytes(dir: string): Buffer {
  return Buffer.concat(
    ["causeway.db", "causeway.db-wal"].map((f) => {
      try {
        return readFileSync(join(dir, f));
      } catch {
        return Buffer.alloc(0);
      }
    }),
  );
}

const run = (params: Record<string, string>, secretParams: string[]): NewRun => ({
  job: "deploy",
  status: "queued",
  statusReason: null,
  trigger: { kind: "manual", by: "test" },
  flow: "f1",
  inputs: [],
  params,
  secretParams,
  priority: 9999,
  attempt: 1,
  rerunOf: null,
});

describe("the integration store", () => {
  it("seals every value: the database holds none; reads give them back; lists give names only", async () => {
    const dir = await dataDir();
    const stores = await opened(dir);
    const value = `v-${randomBytes(12).toString("hex")}`;
    const summary = await stores.store.transaction((tx) => tx.putSecret("aws", { secretKey: value, region: "eu" }));
    expect(summary.fields).toEqual(["region", "secretKey"]);
    expect(await stores.store.read.getSecret("aws")).toEqual({ secretKey: value, region: "eu" });
    expect(await stores.store.read.getSecret("nope")).toBeUndefined();
    expect(JSON.stringify(await stores.store.read.listSecrets())).not.toContain(value);
    expect(databaseBytes(dir).includes(Buffer.from(value))).toBe(false);
    expect(statSync(join(dir, "secret.key")).mode & 0o777).toBe(0o600);
    expect(await stores.store.transaction((tx) => tx.deleteSecret("aws"))).toBe(true);
    expect(await stores.store.transaction((tx) => tx.deleteSecret("aws"))).toBe(false);
  });

  it.each([
    ["a bad name", "../x", { a: "b" }],
    ["no field", "ok", {}],
    ["a bad field name", "ok", { "a b": "c" }],
  ])("refuses %s with SECRET_INVALID", async (_what, name, fields) => {
    const stores = await opened(await dataDir());
    const error = await stores.store.transaction((tx) => tx.putSecret(name, fields)).catch((e: unknown) => e);
    expect(isCausewayError(error, "SECRET_INVALID")).toBe(true);
  });

  it("seals the values of secret run parameters in runs.params, and opens them for every reader", async () => {
    const dir = await dataDir();
    const stores = await opened(dir);
    const token = `tok-${randomBytes(12).toString("hex")}`;
    const inserted = await stores.store.transaction((tx) =>
      tx.insertRun(run({ TOKEN: token, TARGET: "prod" }, ["TOKEN"])),
    );
    expect(inserted.params).toEqual({ TOKEN: token, TARGET: "prod" });
    expect((await stores.store.read.getRun(inserted.id))?.params).toEqual({ TOKEN: token, TARGET: "prod" });
    expect((await stores.store.read.listRuns({ job: "deploy" }))[0]?.params.TOKEN).toBe(token);
    const bytes = databaseBytes(dir);
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    expect(bytes.includes(Buffer.from("prod"))).toBe(true);
  });

  it("refuses to open with another key, naming the key id it lacks; opens again with the right one", async () => {
    const dir = await dataDir();
    const first = await opened(dir);
    await first.store.transaction((tx) => tx.putSecret("aws", { secretKey: "s3cr3t-value" }));
    const id = first.secretKeys.currentId;
    await first.store.close();
    open.splice(0);
    const other = join(dir, "..", "other.key");
    writeFileSync(other, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
    const error = await openSqliteStore({ dataDir: dir, secretKey: { file: other } }).catch((e: unknown) => e);
    expect(isCausewayError(error, "SECRET_KEY_INVALID")).toBe(true);
    expect((error as Error).message).toContain(id);
    // The failed open released the directory.
    const again = await opened(dir);
    expect(await again.store.read.getSecret("aws")).toEqual({ secretKey: "s3cr3t-value" });
  });

  it("refuses to open with another key a database whose only sealed values are secret run parameters", async () => {
    const dir = await dataDir();
    const first = await opened(dir);
    await first.store.transaction((tx) => tx.insertRun(run({ TOKEN: "tok-123456" }, ["TOKEN"])));
    const id = first.secretKeys.currentId;
    await first.store.close();
    open.splice(0);
    const error = await openSqliteStore({
      dataDir: dir,
      secretKey: { text: randomBytes(32).toString("base64"), name: "CAUSEWAY_SECRET_KEY" },
    }).catch((e: unknown) => e);
    expect(isCausewayError(error, "SECRET_KEY_INVALID")).toBe(true);
    expect((error as Error).message).toContain(id);
  });

  it("finds the sealed run parameters through the runs that have them, not by reading every run", async () => {
    const dir = await dataDir();
    const stores = await opened(dir);
    await stores.store.transaction(async (tx) => {
      await tx.insertRun(run({ TOKEN: "tok-123456" }, ["TOKEN"]));
      await tx.insertRun(run({ PLAIN: "x" }, []));
    });
    await stores.store.close();
    open.splice(0);
    const raw = new BetterSqlite3(join(dir, "causeway.db"), { readonly: true });
    try {
      const { sql, parameters } = runsWithSecretParams(
        new Kysely<CausewayDatabase>({ dialect: new SqliteDialect({ database: raw }) }),
      ).compile();
      const plan = raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...parameters) as { detail: string }[];
      expect(plan.map((p) => p.detail).join(" | ")).toContain("USING INDEX runs_secret_params_ix");
      expect((raw.prepare(sql).all(...parameters) as { secret_params: string }[]).map((r) => r.secret_params)).toEqual([
        '["TOKEN"]',
      ]);
    } finally {
      raw.close();
    }
  });

  it("rotation: with the new and the old key in the file everything decrypts; after the reseal the new key alone does", async () => {
    const dir = await dataDir();
    const stores = await opened(dir);
    await stores.store.transaction(async (tx) => {
      await tx.putSecret("aws", { secretKey: "s3cr3t-value", other: "x1x1" });
      await tx.insertRun(run({ TOKEN: "tok-123456" }, ["TOKEN"]));
    });
    const ring = stores.secretKeys;
    const old = ring.currentId;
    const key = newSecretKey();
    ring.promote(key);
    writeKeyFile(ring);
    // A crash here: the file holds both keys, the database values under the old one.
    expect(loadSecretKeys({ file: join(dir, "secret.key") }).ids).toEqual([key.id, old]);
    expect(await stores.store.transaction((tx) => tx.resealSecrets())).toBe(3);
    ring.dropPrevious();
    writeKeyFile(ring);
    await stores.store.close();
    open.splice(0);
    expect(parseKeyText(readFileSync(join(dir, "secret.key"), "utf8"), "key").map((k) => k.id)).toEqual([key.id]);
    const reopened = await opened(dir);
    expect(await reopened.store.read.getSecret("aws")).toEqual({ secretKey: "s3cr3t-value", other: "x1x1" });
    expect((await reopened.store.read.listRuns({ job: "deploy" }))[0]?.params.TOKEN).toBe("tok-123456");
  });

  it("refuses a key file other users can read, and a key that is not 32 bytes of base64", async () => {
    const dir = await dataDir();
    const file = join(dir, "..", "open.key");
    writeFileSync(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o644 });
    expect(() => loadSecretKeys({ file })).toThrow(/chmod 600/);
    expect(() => loadSecretKeys({ text: "short", name: "CAUSEWAY_SECRET_KEY" })).toThrow(/32 bytes/);
    const text = randomBytes(32).toString("base64");
    expect(loadSecretKeys({ text, name: "CAUSEWAY_SECRET_KEY" }).file).toBeUndefined();
  });
});
