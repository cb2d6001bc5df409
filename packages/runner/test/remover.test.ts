import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freeBytes, WorkspaceRemover } from "../src/workspace.js";

// The free space the remover sees right before each deletion, for a task's check of a full work
// directory: a deletion between the task's failed write and the check must not hide that the
// directory was full. Real files on tmpfs (/dev/shm) when there is one.

const BASE = freeBytes("/dev/shm") === undefined ? undefined : "/dev/shm";
const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function workDir(): Promise<string> {
  const dir = await mkdtemp(join(BASE ?? "/tmp", "causeway-remover-"));
  temps.push(dir);
  return dir;
}

/** A workspace holding `bytes` bytes in one file. */
function workspace(dir: string, name: string, bytes: number): string {
  const root = join(dir, name);
  mkdirSync(root);
  writeFileSync(join(root, "data.bin"), Buffer.alloc(bytes, 1));
  return root;
}

describe("WorkspaceRemover.watchFree", () => {
  it("keeps the free space seen before a deletion, lower than after it", async () => {
    const dir = await workDir();
    const remover = new WorkspaceRemover();
    const watch = remover.watchFree();
    expect(watch.lowest).toBeUndefined();
    remover.remove(workspace(dir, "1-1", 8 * 1024 * 1024));
    await remover.idle();
    const after = freeBytes(dir);
    expect(watch.lowest).toBeDefined();
    expect(after).toBeDefined();
    // The deletion freed the 8 MiB it found: what it saw before is well below what is free now.
    expect((after as number) - (watch.lowest as number)).toBeGreaterThan(4 * 1024 * 1024);
    watch.end();
  });

  it("forgets on restart, and an ended watch sees nothing more", async () => {
    const dir = await workDir();
    const remover = new WorkspaceRemover();
    const watch = remover.watchFree();
    remover.remove(workspace(dir, "1-1", 1024));
    await remover.idle();
    expect(watch.lowest).toBeDefined();
    watch.restart();
    expect(watch.lowest).toBeUndefined();
    watch.end();
    remover.remove(workspace(dir, "2-1", 1024));
    await remover.idle();
    expect(watch.lowest).toBeUndefined();
  });

  it("each watch keeps its own lowest", async () => {
    const dir = await workDir();
    const remover = new WorkspaceRemover();
    const first = remover.watchFree();
    remover.remove(workspace(dir, "1-1", 1024));
    await remover.idle();
    const second = remover.watchFree();
    expect(first.lowest).toBeDefined();
    expect(second.lowest).toBeUndefined();
    remover.remove(workspace(dir, "2-1", 1024));
    await remover.idle();
    expect(second.lowest).toBeDefined();
    first.end();
    second.end();
  });
});
