import { afterEach, describe, expect, it } from "vitest";
import { lstatSync, mkdtempSync, readlinkSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILD_LINK } from "../src/sandbox.js";
import { pointBuild, SlotPool } from "../src/slots.js";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("SlotPool", () => {
  it("makes the work directory and the slot directory (owner-only) when missing, and reuses free slots", () => {
    dir = mkdtempSync(join(tmpdir(), "causeway-slots-"));
    const pool = new SlotPool(join(dir, "work"));
    const first = pool.take();
    expect(first).toBe(join(dir, "work", "slot-0"));
    expect(statSync(first).mode & 0o777).toBe(0o700);
    expect(pool.take()).toBe(join(dir, "work", "slot-1"));
    pool.release(first);
    // Taken again: the directory is there, and so it stays.
    expect(pool.take()).toBe(first);
    expect(statSync(first).isDirectory()).toBe(true);
  });

  it("makes a slot's directory again once removeFree removed it", () => {
    dir = mkdtempSync(join(tmpdir(), "causeway-slots-"));
    const pool = new SlotPool(join(dir, "work"));
    const slot = pool.take();
    pool.release(slot);
    pool.removeFree();
    expect(() => statSync(slot)).toThrow(/ENOENT/);
    expect(pool.take()).toBe(slot);
    expect(statSync(slot).mode & 0o777).toBe(0o700);
  });
});

describe("pointBuild", () => {
  it("points the slot's link at the workspace, replacing the last one and a half-made one", () => {
    dir = mkdtempSync(join(tmpdir(), "causeway-slots-"));
    pointBuild(dir, join(dir, "1-1"));
    expect(readlinkSync(join(dir, BUILD_LINK))).toBe("1-1");
    // What a runner killed between its two calls leaves.
    symlinkSync("stale", join(dir, `${BUILD_LINK}.new`));
    pointBuild(dir, join(dir, "2-1"));
    expect(readlinkSync(join(dir, BUILD_LINK))).toBe("2-1");
    expect(() => lstatSync(join(dir, `${BUILD_LINK}.new`))).toThrow(/ENOENT/);
  });
});
