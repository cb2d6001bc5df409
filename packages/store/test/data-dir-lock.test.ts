import { acquireDataDirLock } from "@causeway/store";
import BetterSqlite3 from "better-sqlite3";
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { holderPid } from "../src/data-dir-lock.js";

// The data-directory lock against real processes: a holder that is SIGKILLed, a PID that now
// belongs to someone else, two live holders.

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../../..");
const CHILD = join(HERE, "lock-child.ts");

const temps: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "causeway-lock-"));
  temps.push(dir);
  return dir;
}

/** Starts a process that takes the lock of `dataDir`; resolves once it holds it. */
function holder(dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", "--conditions=source", CHILD, dataDir], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return new Promise((resolvePromise, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("locked\n")) resolvePromise(child);
    });
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => reject(new Error(`the lock holder exited (${code}): ${out}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolvePromise) => {
    if (child.exitCode !== null || child.signalCode !== null) resolvePromise();
    else child.once("exit", () => resolvePromise());
  });
}

/** Writes the PID a holder records in the lock (the database's user_version), as a dead holder left it. */
function recordPid(dataDir: string, pid: number): void {
  const db = new BetterSqlite3(join(dataDir, "server.lock"));
  db.pragma(`user_version = ${pid}`);
  db.close();
}

describe("the data-directory lock", () => {
  it("refuses a second live process, naming the holder, and is free as soon as the holder is SIGKILLed", async () => {
    const dataDir = await tempDir();
    const child = await holder(dataDir);
    expect(() => acquireDataDirLock(dataDir)).toThrow(
      expect.objectContaining({
        code: "DATA_DIR_LOCKED",
        kind: "operational",
        message: expect.stringContaining(`process ${child.pid}`),
      }),
    );
    child.kill("SIGKILL");
    await exited(child);
    // The operating system dropped the dead holder's lock: taken at once, no waiting, no cleanup.
    const lock = acquireDataDirLock(dataDir);
    lock.release();
    lock.release();
    // The file stays (deleting it would let two processes lock two files of one name).
    expect(readdirSync(dataDir)).toEqual(["server.lock"]);
  });

  it("takes a lock whose recorded PID now belongs to an unrelated live process", async () => {
    const dataDir = await tempDir();
    const child = await holder(dataDir);
    child.kill("SIGKILL");
    await exited(child);
    // The PID in the file is now that of a live process that holds nothing: a sleep, and this
    // very process (a container restarted with the same PID).
    const sleeper = spawn("sleep", ["60"], { stdio: "ignore" });
    children.push(sleeper);
    for (const pid of [sleeper.pid as number, process.pid]) {
      recordPid(dataDir, pid);
      const lock = acquireDataDirLock(dataDir);
      // The new holder's PID replaced it: another process is told who holds the directory now.
      const other = await holder(dataDir).catch((e: unknown) => e);
      expect(String(other)).toContain(`the data directory ${dataDir} is in use by process ${process.pid}`);
      lock.release();
    }
    expect(sleeper.exitCode).toBeNull();
  });

  it("takes a lock file that is not a lock database (an older build's, or torn)", async () => {
    const dataDir = await tempDir();
    for (const text of [JSON.stringify({ pid: process.ppid, token: "t", acquiredAt: "x" }), "garbage", ""]) {
      writeFileSync(join(dataDir, "server.lock"), text);
      const lock = acquireDataDirLock(dataDir);
      expect(() => acquireDataDirLock(dataDir)).toThrow(expect.objectContaining({ code: "DATA_DIR_LOCKED" }));
      lock.release();
    }
  });

  it("names the holder where the kernel's lock table names the file by another device, or not at all", async () => {
    const dataDir = await tempDir();
    const child = await holder(dataDir);
    const path = join(dataDir, "server.lock");
    const { ino } = statSync(path);
    const pid = child.pid as number;
    // No table (not Linux): the PID the holder wrote in the header.
    expect(holderPid(path, undefined)).toBe(pid);
    // A table without the file (an overlay's lock on its own inode number): the header too.
    expect(holderPid(path, "1: POSIX  ADVISORY  WRITE 77 00:2f:1 0 EOF\n")).toBe(pid);
    // The same inode on the overlay's device: that holder.
    expect(holderPid(path, `1: POSIX  ADVISORY  WRITE 4242 00:2f:${ino} 0 EOF\n`)).toBe(4242);
    // Two holders of that inode number on other devices: ambiguous, so the header decides.
    const two = `1: POSIX  ADVISORY  WRITE 4242 00:2f:${ino} 0 EOF\n2: POSIX  ADVISORY  WRITE 4343 00:30:${ino} 0 EOF\n`;
    expect(holderPid(path, two)).toBe(pid);
  });
});
