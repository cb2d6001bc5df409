import { describe, expect, it } from "vitest";
import { busyFromProcStat, cpuFigures, machineBusySeconds, processCost } from "../src/cpu.js";

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

describe("cpuFigures", () => {
  it("splits the machine's CPU per job into the server's and the rest, beside make's", () => {
    // 1,000 jobs: the server 5 s, the machine 15 s, make's run 7 s.
    const figures = cpuFigures("dag1000", 1000, { serverSeconds: 5, machineSeconds: 15 }, 7);
    expect(figures).toEqual({
      dag1000_server_cpu_ms_per_job: 5,
      dag1000_cpu_s: 15,
      make_dag1000_cpu_s: 7,
      dag1000_tasks_cpu_ms_per_job: 10,
      make_dag1000_cpu_ms_per_job: 7,
    });
  });

  it("gives only the server's figure where the machine's CPU could not be read", () => {
    expect(cpuFigures("fanout500", 500, { serverSeconds: 2.5, machineSeconds: null }, 3)).toEqual({
      fanout500_server_cpu_ms_per_job: 5,
    });
    expect(Object.keys(cpuFigures("fanout500", 500, { serverSeconds: 2.5, machineSeconds: 8 }, undefined))).toEqual([
      "fanout500_server_cpu_ms_per_job",
    ]);
  });
});

describe("processCost", () => {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
  const stat = (comm: string): string =>
    `4242 (${comm}) S 1 4242 4242 0 -1 4194560 120 3000 0 0 25 15 300 100 20 0 1 0 99 9000000 900\n`;

  it("adds the process's own CPU and faults to its reaped children's", () => {
    expect(processCost(stat("bash"))).toEqual({ cpuSeconds: (25 + 15 + 300 + 100) / 100, faults: 3120 });
  });

  it("reads past a command name holding spaces and parentheses", () => {
    expect(processCost(stat("a) (b c"))).toEqual(processCost(stat("bash")));
  });

  it("reads nothing from a text that is not a stat line", () => {
    expect(processCost("4242 bash S 1")).toBeUndefined();
    expect(processCost("4242 (bash) S 1 2 3")).toBeUndefined();
  });
});
