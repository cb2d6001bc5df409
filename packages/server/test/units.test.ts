import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { localRepository } from "../src/sources/local-git-source.js";
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
  // Fake timers: a wait that settles without the clock moving was woken, and one that settles
  // only when the clock reaches its timeout timed out. Nothing depends on the real clock.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Starts a wait; `settled()` tells whether it has returned yet. */
  function watch(w: Wakeup, timeoutMs: number): { readonly settled: () => boolean } {
    let settled = false;
    void w.wait(timeoutMs).then(() => {
      settled = true;
    });
    return { settled: () => settled };
  }

  it("does not lose a wake that comes before the wait", async () => {
    const w = new Wakeup();
    w.wake();
    const wait = watch(w, 10_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(wait.settled()).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("wakes a waiter at once, and leaves no timer behind", async () => {
    const w = new Wakeup();
    const wait = watch(w, 10_000);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(wait.settled()).toBe(false);
    w.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(wait.settled()).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("times out without a wake, not before", async () => {
    const w = new Wakeup();
    const wait = watch(w, 5_000);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(wait.settled()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(wait.settled()).toBe(true);
  });

  it("consumes a wake: the next wait waits for another one", async () => {
    const w = new Wakeup();
    w.wake();
    const first = watch(w, 10_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(first.settled()).toBe(true);
    const next = watch(w, 5_000);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(next.settled()).toBe(false);
    w.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(next.settled()).toBe(true);
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
