import { describe, expect, it } from "vitest";
import { busyFromProcStat, machineBusySeconds } from "../src/cpu.js";

describe("busyFromProcStat", () => {
  it("adds user, nice, system, irq, softirq and steal, not idle, iowait or guest time", () => {
    const text = "cpu  100 20 30 4000 50 6 7 8 90 10\ncpu0 50 10 15 2000 25 3 3 4 45 5\nintr 1 2 3\n";
    expect(busyFromProcStat(text)).toBeCloseTo((100 + 20 + 30 + 6 + 7 + 8) / 100, 9);
  });

  it("reads nothing from a text without a cpu line", () => {
    expect(busyFromProcStat("intr 1 2 3\n")).toBeUndefined();
    expect(busyFromProcStat("cpu  1 x 3 4\n")).toBeUndefined();
  });

  it("grows on Linux while the machine works", () => {
    const before = machineBusySeconds();
    if (before === undefined) return expect(process.platform).not.toBe("linux");
    const end = performance.now() + 100;
    while (performance.now() < end);
    expect(machineBusySeconds()).toBeGreaterThan(before);
  });
});
