import { CausewayError } from "@causeway/core";
import { FileBlobStore, FileLogStore, fileError, sqliteError } from "@causeway/store";
import BetterSqlite3 from "better-sqlite3";
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

// The store's boundary for a disk that refuses a write: what the system or SQLite said becomes
// DISK_FULL or STORE_IO_ERROR naming the file, and a run log that was created and then went
// missing is LOG_NOT_FOUND. Real errors where the machine gives them without privileges:
// /dev/full answers every write with ENOSPC.

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "causeway-disk-"));
  temps.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const DEV_FULL = "/dev/full";
const HAS_DEV_FULL = existsSync(DEV_FULL);

/** The error the kernel gives for a write to a full device. */
function realEnospc(): NodeJS.ErrnoException {
  try {
    writeFileSync(DEV_FULL, "x");
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  throw new Error("/dev/full accepted a write");
}

describe("disk errors at the store's boundary", () => {
  it.skipIf(!HAS_DEV_FULL)("turns ENOSPC into DISK_FULL, its message naming the file", () => {
    const error = fileError(realEnospc(), "/data/logs/12.log");
    expect(error).toBeInstanceOf(CausewayError);
    expect(error).toMatchObject({
      code: "DISK_FULL",
      status: 507,
      message: "ENOSPC: no space left on device, write '/data/logs/12.log'",
    });
    expect((error as CausewayError).hint).toContain("/data/logs");
  });

  it("keeps Node's own path, and makes any other refusal STORE_IO_ERROR", () => {
    const eacces = Object.assign(new Error("EACCES: permission denied, open '/data/logs/3.log'"), {
      code: "EACCES",
      path: "/data/logs/3.log",
      syscall: "open",
    });
    expect(fileError(eacces, "/elsewhere")).toMatchObject({
      code: "STORE_IO_ERROR",
      status: 503,
      message: "EACCES: permission denied, open '/data/logs/3.log'",
    });
  });

  it("leaves bugs and catalog errors alone", () => {
    const bug = new TypeError("x is undefined");
    expect(fileError(bug, "/p")).toBe(bug);
    const known = new CausewayError("RUN_NOT_FOUND", "no run 3");
    expect(fileError(known, "/p")).toBe(known);
    expect(sqliteError(bug, "/p")).toBe(bug);
  });

  it.each([
    ["SQLITE_FULL", "DISK_FULL", 507],
    ["SQLITE_IOERR_WRITE", "STORE_IO_ERROR", 503],
    ["SQLITE_READONLY", "STORE_IO_ERROR", 503],
    ["SQLITE_CANTOPEN", "STORE_IO_ERROR", 503],
  ])("turns SQLite's %s into %s naming the database", (sqliteCode, code, status) => {
    const error = sqliteError(new BetterSqlite3.SqliteError("database or disk is full", sqliteCode), "/d/causeway.db");
    expect(error).toMatchObject({ code, status });
    expect((error as Error).message).toBe(
      `${code === "DISK_FULL" ? "cannot write" : "cannot use"} the database /d/causeway.db: database or disk is full (${sqliteCode})`,
    );
  });

  it("takes SQLite's I/O error on a file system without a free block for a full disk", () => {
    const shm = new BetterSqlite3.SqliteError("disk I/O error", "SQLITE_IOERR_SHMSIZE");
    // /proc has no free block (nor any other); a temp directory has some.
    expect(sqliteError(shm, "/proc/causeway.db")).toMatchObject({ code: "DISK_FULL", status: 507 });
    expect(sqliteError(shm, join(tmpdir(), "causeway.db"))).toMatchObject({ code: "STORE_IO_ERROR" });
  });

  it("leaves SQLite's constraint errors to be bugs", () => {
    const constraint = new BetterSqlite3.SqliteError("UNIQUE constraint failed", "SQLITE_CONSTRAINT_UNIQUE");
    expect(sqliteError(constraint, "/d/causeway.db")).toBe(constraint);
  });
});

describe("run logs that cannot be written, or are lost", () => {
  it.skipIf(!HAS_DEV_FULL)("a write the disk refuses is DISK_FULL naming the log's file", async () => {
    const root = join(await tempDir(), "logs");
    mkdirSync(root);
    // The kernel's own ENOSPC: the log's path leads to /dev/full.
    symlinkSync(DEV_FULL, join(root, "4.log"));
    const logs = new FileLogStore(root);
    await logs.create(4);
    await expect(logs.append(4, new TextEncoder().encode("lost\n"))).rejects.toMatchObject({
      code: "DISK_FULL",
      message: `ENOSPC: no space left on device, write '${join(root, "4.log")}'`,
    });
  });

  it("a directory in the log's place is STORE_IO_ERROR at creation, and LOG_NOT_FOUND to a reader", async () => {
    const root = join(await tempDir(), "logs");
    mkdirSync(join(root, "5.log"), { recursive: true });
    const logs = new FileLogStore(root);
    await expect(logs.create(5)).rejects.toMatchObject({
      code: "STORE_IO_ERROR",
      message: `EISDIR: illegal operation on a directory, open '${join(root, "5.log")}'`,
    });
    await expect(logs.read(5, 0, { expected: true })).rejects.toMatchObject({
      code: "LOG_NOT_FOUND",
      message: `the console log of run 5 is lost: ${join(root, "5.log")} is a directory, not a file`,
    });
    expect(await logs.read(5)).toEqual(new Uint8Array(0));
  });

  it("a log deleted while the run writes it is LOG_NOT_FOUND when it is closed, and to a reader", async () => {
    const root = join(await tempDir(), "logs");
    const logs = new FileLogStore(root);
    const path = join(root, "6.log");
    await logs.create(6);
    await logs.append(6, new TextEncoder().encode("first\n"));
    rmSync(path);
    // The handle still writes to the deleted file: nothing fails until the log is closed.
    await logs.append(6, new TextEncoder().encode("second\n"));
    await expect(logs.close(6, 13)).rejects.toMatchObject({
      code: "LOG_NOT_FOUND",
      message: `the log ${path} was deleted while the run wrote it`,
    });
    await expect(logs.read(6, 0, { expected: true })).rejects.toMatchObject({
      code: "LOG_NOT_FOUND",
      message: `the console log of run 6 is lost: ${path} does not exist`,
    });
  });

  it("a log replaced by a directory, or cut, while the run writes it is LOG_NOT_FOUND when closed", async () => {
    const root = join(await tempDir(), "logs");
    const logs = new FileLogStore(root);
    await logs.create(7);
    await logs.append(7, new TextEncoder().encode("x".repeat(100)));
    rmSync(join(root, "7.log"));
    mkdirSync(join(root, "7.log"));
    await expect(logs.close(7, 100)).rejects.toMatchObject({
      code: "LOG_NOT_FOUND",
      message: `the log ${join(root, "7.log")} was replaced by a directory`,
    });

    await logs.create(8);
    await logs.append(8, new TextEncoder().encode("x".repeat(100)));
    truncateSync(join(root, "8.log"), 10);
    await expect(logs.close(8, 100)).rejects.toMatchObject({
      code: "LOG_NOT_FOUND",
      message: `the log ${join(root, "8.log")} holds 10 of the 100 bytes written: it was cut while the run wrote it`,
    });
  });
});

describe("blobs that cannot be written", () => {
  it("a failed put is a catalog error naming the file, and leaves no temp file", async () => {
    const root = join(await tempDir(), "blobs");
    const blobs = new FileBlobStore(root);
    const bytes = new TextEncoder().encode("state");
    const sha = await blobs.put(bytes);
    // The blob's directory is taken by a file: the system refuses the put.
    const dir = join(root, sha.slice(0, 2));
    rmSync(dir, { recursive: true });
    writeFileSync(dir, "not a directory");
    await expect(blobs.put(bytes)).rejects.toMatchObject({
      code: "STORE_IO_ERROR",
      message: expect.stringContaining(dir) as unknown,
    });
    expect(readdirSync(root)).toEqual([sha.slice(0, 2)]);
  });
});
