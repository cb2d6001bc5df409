import { describe, expect, it } from "vitest";
import { allPassed, formatTable, formatTimes, median, runBenchmark, summarise } from "../src/harness.js";

describe("bench harness", () => {
  it.each([
    { values: [3], want: 3 },
    { values: [5, 1, 3], want: 3 },
    { values: [4, 1, 3, 2], want: 2.5 },
  ])("median of $values is $want", ({ values, want }) => {
    expect(median(values)).toBe(want);
  });

  it("summarises each figure against its target", () => {
    const s = summarise(
      [
        { a_s: 2, b: 10 },
        { a_s: 0.5, b: 30 },
        { a_s: 0.8, b: 20 },
      ],
      { a_s: 1 },
    );
    expect(s.a_s).toEqual({ median: 0.8, min: 0.5, max: 2, samples: [2, 0.5, 0.8], target: 1, pass: true });
    expect(s.b?.pass).toBeUndefined();
  });

  it("warms up once, then runs N times; a throwing benchmark is reported, not fatal", async () => {
    let calls = 0;
    const ok = await runBenchmark({ name: "ok", targets: { x_s: 1 }, run: () => Promise.resolve({ x_s: ++calls }) }, 3);
    expect(calls).toBe(4);
    expect(ok).toMatchObject({ ok: true, figures: { x_s: { samples: [2, 3, 4], pass: false } } });
    const broken = await runBenchmark({ name: "broken", run: () => Promise.reject(new Error("no dist")) }, 3);
    expect(broken).toMatchObject({ name: "broken", ok: false, error: "no dist" });
    expect(allPassed([ok])).toBe(false);
    expect(formatTable([ok, broken])).toMatchInlineSnapshot(`
      "figure  median    min    max   target  result
      ------  ------  -----  -----  -------  --------------
      x_s      3.000  2.000  4.000  < 1.000  FAIL
      broken       -      -      -        -  ERROR: no dist"
    `);
  });

  it("times each benchmark, its warm-up and its failure included", async () => {
    const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    const slow = await runBenchmark({ name: "slow", run: () => pause(40).then(() => ({ x_s: 1 })) }, 2);
    const failing = await runBenchmark(
      { name: "failing", run: () => pause(30).then(() => Promise.reject(new Error("x"))) },
      2,
    );
    // Three runs of 40 ms (the warm-up and two), one failed run of 30 ms.
    expect(slow.seconds).toBeGreaterThanOrEqual(0.11);
    expect(failing.seconds).toBeGreaterThanOrEqual(0.025);
    expect(failing.seconds).toBeLessThan(slow.seconds);
    expect(
      formatTimes([
        { ...slow, seconds: 5.06 },
        { ...failing, seconds: 0.04 },
      ]),
    ).toBe("slow 5.1 s, failing 0.0 s");
  });
});
