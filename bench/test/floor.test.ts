import { describe, expect, it } from "vitest";
import { floorBenchmark } from "../src/floor.js";

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
