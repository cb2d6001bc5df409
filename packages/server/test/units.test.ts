import { describe, expect, it } from "vitest";
import { localRepository } from "../src/git-poller.js";
import { compileServerOptions } from "../src/options.js";
import { completeUtf8Length } from "../src/streams.js";
import { Wakeup } from "../src/wakeup.js";

describe("completeUtf8Length", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  it.each([
    ["", 0],
    ["abc", 3],
    ["café", 5],
    ["a€", 4],
    ["a😀", 5],
  ])("keeps %j whole", (text, n) => {
    expect(completeUtf8Length(bytes(text))).toBe(n);
  });

  it.each([
    ["é", 1],
    ["€", 1],
    ["€", 2],
    ["😀", 1],
    ["😀", 2],
    ["😀", 3],
  ])("cuts before a partial %j (%i bytes of it)", (char, kept) => {
    const whole = bytes(`ab${char}`);
    expect(completeUtf8Length(whole.subarray(0, 2 + kept))).toBe(2);
  });
});

describe("Wakeup", () => {
  it("does not lose a wake that comes before the wait", async () => {
    const w = new Wakeup();
    w.wake();
    const at = Date.now();
    await w.wait(10_000);
    expect(Date.now() - at).toBeLessThan(1000);
  });

  it("wakes a waiter, and times out without a wake", async () => {
    const w = new Wakeup();
    const waiting = w.wait(10_000);
    w.wake();
    await waiting;
    await w.wait(5);
  });
});

describe("localRepository", () => {
  it.each([
    ["/srv/repo", "/srv/repo"],
    ["file:///srv/repo", "/srv/repo"],
    ["acme/app", undefined],
    ["https://example.com/acme/app.git", undefined],
    ["", undefined],
    [42, undefined],
  ])("%j is %j", (source, path) => {
    expect(localRepository(source)).toBe(path);
  });
});

describe("compileServerOptions", () => {
  it("defaults to 127.0.0.1:4810 and <cwd>/.causeway, frozen", () => {
    const o = compileServerOptions({ cwd: "/work/x" });
    expect(o).toMatchObject({
      host: "127.0.0.1",
      port: 4810,
      dataDir: "/work/x/.causeway",
      dir: undefined,
      watch: true,
      pollIntervalMs: 2000,
    });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it("resolves relative paths against cwd", () => {
    expect(compileServerOptions({ cwd: "/a", dir: "line", dataDir: "../d" })).toMatchObject({
      dir: "/a/line",
      dataDir: "/d",
    });
  });

  it("lists every problem at once", () => {
    expect(() => compileServerOptions({ port: 70000, pollIntervalMs: 0, extra: 1 } as never)).toThrow(
      /port[\s\S]*pollIntervalMs[\s\S]*extra|port[\s\S]*extra[\s\S]*pollIntervalMs/,
    );
  });
});
