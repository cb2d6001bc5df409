import { describe, expect, it } from "vitest";
import { CausewayError, type BlobStore } from "@causeway/core";
import {
  compileRunnerOptions,
  DEFAULT_CANCEL_GRACE_MS,
  DEFAULT_PATH,
  NODE_WORKSPACE_FS,
  passthroughEnv,
  type EmbeddedRunnerOptions,
} from "../src/index.js";
import { MemoryBlobStore } from "./helpers.js";

describe("runner options", () => {
  it("applies defaults, resolves workDir and freezes the result", () => {
    const blobs = new MemoryBlobStore();
    const compiled = compileRunnerOptions({ workDir: "relative/work", blobs });
    expect(compiled).toEqual({
      workDir: `${process.cwd()}/relative/work`,
      blobs,
      shell: "bash",
      cancelGraceMs: DEFAULT_CANCEL_GRACE_MS,
      keepWorkspaces: false,
      launcher: true,
      env: { PATH: DEFAULT_PATH },
      workspaceFs: NODE_WORKSPACE_FS,
      sandbox: "auto",
      sandboxHidden: [],
      sandboxShared: [],
    });
    expect(Object.isFrozen(compiled)).toBe(true);
    expect(Object.isFrozen(compiled.env)).toBe(true);
  });

  it("keeps the given base environment, dropping undefined values", () => {
    const compiled = compileRunnerOptions({
      workDir: "/w",
      blobs: new MemoryBlobStore(),
      env: { PATH: "/bin", EMPTY: "", GONE: undefined },
    });
    expect(compiled.env).toEqual({ PATH: "/bin", EMPTY: "" });
  });

  it("lists every problem at once", () => {
    let error: unknown;
    try {
      compileRunnerOptions({
        workDir: "",
        blobs: {} as BlobStore,
        shell: "zsh" as "bash",
        cancelGraceMs: -1,
        env: { "A=B": "x", OK: "nul\0" },
        workerRecord: "",
        sandbox: "maybe" as "auto",
        sandboxHidden: [""],
        sandboxShared: ["ok", "nul\0"],
      } satisfies EmbeddedRunnerOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CausewayError);
    expect((error as CausewayError).code).toBe("RUNNER_BAD_OPTIONS");
    const message = (error as CausewayError).message;
    for (const part of [
      "workDir",
      "blobs",
      "shell",
      "cancelGraceMs",
      '"A=B"',
      "OK must be",
      "workerRecord",
      "sandbox must be",
      "sandboxHidden",
      "sandboxShared",
    ])
      expect(message).toContain(part);
  });

  it("passes through only PATH, HOME, LANG and TMPDIR", () => {
    expect(passthroughEnv({ PATH: "/bin", HOME: "/h", LANG: "C", TMPDIR: "/t", SECRET: "x", USER: "u" })).toEqual({
      PATH: "/bin",
      HOME: "/h",
      LANG: "C",
      TMPDIR: "/t",
    });
  });
});
