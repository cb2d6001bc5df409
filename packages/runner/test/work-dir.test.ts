import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prepareWorkDir, workDirPrefix } from "../src/work-dir.js";
import { tempDir } from "./helpers.js";

let root: string;
let shm: string;
let dataDir: string;
let prefix: string;
beforeEach(async () => {
  root = (await tempDir("causeway-work-dir-")).path;
  shm = join(root, "shm");
  mkdirSync(shm, { mode: 0o1777 });
  dataDir = join(root, "data");
  prefix = workDirPrefix(dataDir);
});
afterEach(() => rm(root, { recursive: true, force: true }));

const modeOf = (path: string): number => lstatSync(path).mode & 0o7777;

/** A directory with a canary file, the target someone would like the server to empty. */
function victim(): string {
  const dir = join(root, "victim");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "canary"), "alive");
  return dir;
}

describe("the default work directory, on tmpfs", () => {
  it("is a new owner-only directory with an unguessable name at each start", () => {
    const first = prepareWorkDir({ dataDir, shm });
    expect(first).toMatch(new RegExp(`^${shm}/${prefix}-[A-Za-z0-9]{6}$`));
    expect(modeOf(first)).toBe(0o700);
    const second = prepareWorkDir({ dataDir, shm });
    expect(second).not.toBe(first);
  });

  it("removes what an earlier server of the data directory left, and nothing of other data directories", () => {
    const old = join(shm, prefix);
    mkdirSync(join(old, "3-1"), { recursive: true });
    const older = prepareWorkDir({ dataDir, shm });
    writeFileSync(join(older, "left"), "x");
    const other = join(shm, `${workDirPrefix(join(root, "other"))}-abcdef`);
    mkdirSync(other);
    const current = prepareWorkDir({ dataDir, shm });
    expect(readdirSync(shm).sort()).toEqual([current.slice(shm.length + 1), other.slice(shm.length + 1)].sort());
  });

  it("leaves alone, and reports, a symbolic link planted with the name of a work directory", () => {
    const target = victim();
    symlinkSync(target, join(shm, prefix));
    symlinkSync(target, join(shm, `${prefix}-planted`));
    const told: [string, string][] = [];
    const dir = prepareWorkDir({ dataDir, shm, onLeftAlone: (path, why) => told.push([path, why]) });
    expect(readdirSync(target)).toEqual(["canary"]);
    expect(dir.startsWith(`${shm}/${prefix}-`)).toBe(true);
    expect(lstatSync(dir).isDirectory()).toBe(true);
    expect(told.sort()).toEqual([
      [join(shm, prefix), "it is a symbolic link"],
      [join(shm, `${prefix}-planted`), "it is a symbolic link"],
    ]);
  });

  it.runIf(process.getuid?.() === 0)("leaves alone a directory of another user with that name", () => {
    const theirs = join(shm, `${prefix}-theirs`);
    mkdirSync(theirs);
    writeFileSync(join(theirs, "canary"), "alive");
    chownSync(theirs, 65534, 65534);
    const told: string[] = [];
    prepareWorkDir({ dataDir, shm, onLeftAlone: (_, why) => told.push(why) });
    expect(readdirSync(theirs)).toEqual(["canary"]);
    expect(told).toEqual(["it belongs to another user (uid 65534, not 0)"]);
  });

  it("is <data>/workspaces when there is no writable tmpfs", () => {
    const dir = prepareWorkDir({ dataDir, shm: join(root, "no-shm") });
    expect(dir).toBe(join(dataDir, "workspaces"));
    expect(modeOf(dir)).toBe(0o700);
  });
});

describe("a work directory at a given path", () => {
  it("is created owner-only when missing, parents included", () => {
    const dir = join(root, "a", "b", "work");
    expect(prepareWorkDir({ dataDir, workDir: dir })).toBe(dir);
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(join(root, "a"))).toBe(0o700);
  });

  it("is refused with WORK_DIR_UNSAFE when it is a symbolic link, and what it points to is untouched", () => {
    const target = victim();
    const dir = join(root, "work");
    symlinkSync(target, dir);
    expect(() => prepareWorkDir({ dataDir, workDir: dir })).toThrow(
      expect.objectContaining({
        code: "WORK_DIR_UNSAFE",
        message: `the work directory ${dir} cannot be used: it is a symbolic link`,
      }),
    );
    expect(readdirSync(target)).toEqual(["canary"]);
    expect(modeOf(target)).toBe(0o755 & ~process.umask());
  });

  it("is refused when it is a dangling symbolic link, or a file", () => {
    const link = join(root, "dangling");
    symlinkSync(join(root, "nowhere"), link);
    expect(() => prepareWorkDir({ dataDir, workDir: link })).toThrow(
      expect.objectContaining({ code: "WORK_DIR_UNSAFE" }),
    );
    expect(existsSync(join(root, "nowhere"))).toBe(false);
    const file = join(root, "file");
    writeFileSync(file, "x");
    expect(() => prepareWorkDir({ dataDir, workDir: file })).toThrow(
      expect.objectContaining({ code: "WORK_DIR_UNSAFE", message: expect.stringContaining("it is not a directory") }),
    );
  });

  it.runIf(process.getuid?.() === 0)("is refused when it belongs to another user", () => {
    const dir = join(root, "theirs");
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    expect(() => prepareWorkDir({ dataDir, workDir: dir })).toThrow(
      expect.objectContaining({ code: "WORK_DIR_UNSAFE", message: expect.stringContaining("another user") }),
    );
  });

  it("of ours is made owner-only and emptied, without following the links inside", () => {
    const target = victim();
    const dir = join(root, "work");
    mkdirSync(join(dir, "7-1", "state"), { recursive: true, mode: 0o777 });
    symlinkSync(target, join(dir, "link"));
    symlinkSync(target, join(dir, "7-1", "state", "link"));
    expect(prepareWorkDir({ dataDir, workDir: dir })).toBe(dir);
    expect(modeOf(dir)).toBe(0o700);
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(target)).toEqual(["canary"]);
  });
});
