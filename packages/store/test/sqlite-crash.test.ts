import { openSqliteStore } from "@causeway/store";
import BetterSqlite3 from "better-sqlite3";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../../..");
const CHILD = join(HERE, "crash-child.ts");

/**
 * Starts the child writer, lets it commit until it has printed `atLeast` ids, then SIGKILLs it.
 * Resolves with every id it printed (each one printed only after its COMMIT returned).
 */
function runAndKill(dataDir: string, atLeast: number): Promise<number[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", CHILD, dataDir], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const ids: number[] = [];
    let pending = "";
    let stderr = "";
    let killed = false;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (data: string) => {
      pending += data;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (/^\d+$/.test(line)) ids.push(Number(line));
      if (!killed && ids.length >= atLeast) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolvePromise(ids);
      else reject(new Error(`the child exited by itself (code ${code}): ${stderr}`));
    });
  });
}

describe("SQLite crash safety", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "causeway-crash-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("keeps every acknowledged commit and an intact database across SIGKILLs", async () => {
    const acknowledged: number[] = [];
    for (const atLeast of [40, 150, 90]) {
      // Kill at a varying point, not on a line boundary of the child's loop.
      acknowledged.push(...(await runAndKill(dataDir, atLeast + Math.floor(Math.random() * 40))));

      // The dead child's lock is stale: reopening takes it over.
      const { store } = await openSqliteStore({ dataDir });
      try {
        for (const id of acknowledged) {
          const version = await store.read.getVersion(id);
          expect(version, `version ${id}`).toBeDefined();
          expect(await store.read.getRun(version!.runId!)).toBeDefined();
        }
        const events = await store.eventsSince(0);
        const evented = new Set(events.map((e) => e.payload.versionId));
        expect(acknowledged.filter((id) => !evented.has(id))).toEqual([]);
        // Whatever committed is whole: every version has its run and its event.
        const versions = await store.read.listVersions("crash");
        expect(versions.length).toBeGreaterThanOrEqual(acknowledged.length);
        expect(events.length).toBe(versions.length);
        expect((await store.read.listRuns({ job: "crash" })).length).toBe(versions.length);
        expect(versions.map((v) => v.versionNumber)).toEqual(versions.map((_, i) => versions.length - i));
      } finally {
        await store.close();
      }

      const check = new BetterSqlite3(join(dataDir, "causeway.db"));
      try {
        expect(check.pragma("integrity_check", { simple: true })).toBe("ok");
        expect(check.pragma("foreign_key_check")).toEqual([]);
      } finally {
        check.close();
      }
    }
  });
});
