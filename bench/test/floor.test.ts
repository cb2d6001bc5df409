import { describe, expect, it } from "vitest";
import { floorBenchmark, processCost } from "../src/floor.js";

describe("processCost", () => {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
  const stat = (comm: string): string =>
    `4242 (${comm}) S 1 4242 4242 0 -1 4194560 120 3000 0 0 25 15 300 100 20 0 1 0 99 9000000 900\n`;

  it("adds the process's own CPU and faults to its reaped children's", () => {
    expect(processCost(stat("bash"), 100)).toEqual({ cpuSeconds: (25 + 15 + 300 + 100) / 100, faults: 3120 });
  });

  it("reads past a command name holding spaces and parentheses", () => {
    expect(processCost(stat("a) (b c"), 100)).toEqual(processCost(stat("bash"), 100));
  });

  it("reads nothing from a text that is not a stat line", () => {
    expect(processCost("4242 bash S 1", 100)).toBeUndefined();
    expect(processCost("4242 (bash) S 1 2 3", 100)).toBeUndefined();
  });
});

describe("floorBenchmark", () => {
  it.runIf(process.platform === "linux")(
    "runs tasks through a real task worker and reports their time, CPU and page faults",
    async () => {
      const figures = await floorBenchmark(3).run();
      expect(Object.keys(figures).sort()).toEqual([
        "floor_commit_ms",
        "floor_cpu_ms",
        "floor_spawn_ms",
        "floor_task_cpu_ms",
        "floor_task_faults",
        "floor_task_ms",
      ]);
      for (const value of Object.values(figures)) expect(value).toBeGreaterThanOrEqual(0);
      expect(figures.floor_task_ms).toBeGreaterThan(0);
      // Every task forks a shell: its pages are copied as either side writes them.
      expect(figures.floor_task_faults).toBeGreaterThan(0);
    },
  );
});
