import { describe, expect, it } from "vitest";
import { readiness } from "../src/index.js";
import { loadOne, yaml } from "./helpers.js";

describe("readiness: which jobs of a line will run, and why the others will not", () => {
  const result = loadOne(yaml`
    resources:
      - name: repo
        type: gitRepo
        integration: github
        pointer: { sourceName: acme/app, branch: main }
    jobs:
      - name: build
        type: runSh
        steps:
          - IN: repo
          - TASK:
              - script: make
      - name: cli
        type: runCLI
        steps:
          - IN: build
          - TASK:
              - script: make
      - name: broken
        type: runSh
        steps:
          - IN: ghost
          - TASK:
              - script: make
      - name: ship
        type: deploy
        steps:
          - IN: build
      - name: odd
        type: frobnicate
        steps:
          - IN: build
      - name: legacy
        type: runSh
        steps:
          - IN: build
          - TASK: managed
      - name: bump
        type: release
        steps:
          - IN: build
  `);

  it.each([
    ["a runSh job runs", "build", undefined],
    ["runCLI is runSh", "cli", undefined],
    ["a release job runs (in the engine)", "bump", undefined],
    ["a job with errors does not", "broken", "it has errors (above)"],
    ["an unsupported type does not", "ship", "job type deploy is not supported yet"],
    ["an unknown type does not", "odd", "job type frobnicate is unknown"],
    ["TASK: managed does not", "legacy", "TASK: managed is not supported yet"],
  ])("%s: %s", (_what, name, reason) => {
    const { runnable, notRunnable } = readiness(result.pipeline);
    expect(notRunnable.find((n) => n.name === name)?.reason).toBe(reason);
    expect(runnable.includes(name)).toBe(reason === undefined);
  });
});
