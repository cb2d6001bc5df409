import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { saveArchive } from "../src/index.js";
import { NODE_WORKSPACE_FS, type WorkspaceFs } from "../src/workspace.js";
import { MemoryBlobStore, makeSpec, scriptJob, tempDir, testRunner } from "./helpers.js";

// A disk that refuses a write during a run (a full work directory, a full blob store): the run
// ends `error`, its reason names the file, nothing half-made is left behind, and the previous
// state carries on. The faults are injected at the runner's own file interfaces (its options).

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

/** The kernel's ENOSPC, as a write to a full device gives it. */
function enospc(): NodeJS.ErrnoException {
  try {
    writeFileSync("/dev/full", "x");
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  return Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", syscall: "write" });
}

/** The local disk's workspace calls, except that writing a file named `name` fails like a full disk. */
function fullFor(name: string): WorkspaceFs {
  return {
    mkdir: (path) => NODE_WORKSPACE_FS.mkdir(path),
    writeFile: (path, data, mode) => {
      if (path.endsWith(`/${name}`)) throw enospc();
      NODE_WORKSPACE_FS.writeFile(path, data, mode);
    },
  };
}

describe("a disk that refuses a write during a run", () => {
  it.each(["message.json", "task-1.sh"])(
    "a workspace file (%s) that cannot be written ends the run error, naming the file; nothing is left",
    async (name) => {
      // The workspace in the work directory itself: without the sandbox (in it, in a slot).
      const { run, runner } = testRunner(dir, { workspaceFs: fullFor(name), sandbox: "off" });
      const spec = makeSpec(scriptJob(["echo never"]), { previousStateSha: "a".repeat(64) });
      const { result, rec } = await run(spec);
      const file = name === "message.json" ? name : `scripts/${name}`;
      expect(result.status).toBe("error");
      expect(result.reason).toBe(
        `cannot create the workspace: ENOSPC: no space left on device, write '${dir}/${spec.run.id}-1/${file}'`,
      );
      expect(result.stateSha).toBe(spec.previousStateSha);
      expect(rec.text).not.toContain("never\n");
      await runner.idle();
      expect(existsSync(`${dir}/${spec.run.id}-1`)).toBe(false);
      expect(readdirSync(dir).filter((e) => !e.startsWith(".trash"))).toEqual([]);
    },
  );

  it("a state archive that cannot be saved ends the run error with the store's message; the previous state carries on", async () => {
    const blobs = new (class extends MemoryBlobStore {
      full = false;
      override put(bytes: Uint8Array): Promise<string> {
        if (this.full) return Promise.reject(new Error("ENOSPC: no space left on device, write '/data/blobs/3f/.tmp'"));
        return super.put(bytes);
      }
    })();
    const previous = await saveArchive(blobs, [
      { path: "kept.txt", mode: 0o644, bytes: new TextEncoder().encode("kept") },
    ]);
    blobs.full = true;
    const { run } = testRunner(dir, { blobs });
    const spec = makeSpec(scriptJob(['cat "$JOB_PREVIOUS_STATE/kept.txt"', 'echo big > "$JOB_STATE/out.txt"']), {
      previousStateSha: previous,
    });
    const { result, rec } = await run(spec);
    expect(rec.outputLines).toContain("kept");
    expect(result.status).toBe("error");
    expect(result.reason).toBe(
      "saving the run's state failed: ENOSPC: no space left on device, write '/data/blobs/3f/.tmp'",
    );
    expect(result.stateSha).toBe(previous);
  });
});
