import { mkdir, readFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadManifest, restoreArchive } from "../src/index.js";
import type { MemoryBlobStore } from "./helpers.js";
import { makeDep, makeSpec, scriptJob, tempDir, testRunner } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

async function paths(blobs: MemoryBlobStore, sha: string | null): Promise<string[]> {
  if (sha === null) return [];
  return (await loadManifest(blobs, sha)).files.map((f) => f.path);
}

async function fileOf(blobs: MemoryBlobStore, sha: string, path: string): Promise<string> {
  const manifest = await loadManifest(blobs, sha);
  const entry = manifest.files.find((f) => f.path === path);
  if (entry === undefined) throw new Error(`no ${path} in ${sha}`);
  return new TextDecoder().decode(await blobs.get(entry.sha));
}

describe("outputs", () => {
  it("reads $JOB_STATE/<name>.env of every dependency and of the job, and keeps them in the state", async () => {
    const { run, blobs } = testRunner(dir);
    const img = makeDep("img", "image", { operation: "OUT" });
    const cfg = makeDep("cfg", "params", { operation: "OUT" });
    const { result } = await run(
      makeSpec(
        scriptJob([
          'echo "versionName=1.2.3" > "$JOB_STATE/img.env"',
          'printf "a=b=c\\n\\nnot a pair\\nversionName=1.2.4\\n" >> "$JOB_STATE/img.env"',
          'echo "HOST=db" > "$JOB_STATE/cfg.env"',
          'echo "sha=abc" > "$JOB_STATE/job.env"',
          'echo "ignored=1" > "$JOB_STATE/stranger.env"',
        ]),
        { dependencies: [img, cfg] },
      ),
    );
    expect(result.status).toBe("success");
    expect(result.outputs).toEqual({
      img: [
        ["versionName", "1.2.3"],
        ["a", "b=c"],
        ["versionName", "1.2.4"],
      ],
      cfg: [["HOST", "db"]],
      job: [["sha", "abc"]],
    });
    expect(await paths(blobs, result.stateSha)).toEqual(["cfg.env", "img.env", "job.env", "stranger.env"]);
  });

  it("reads outputs on failure too", async () => {
    const { run } = testRunner(dir);
    const { result } = await run(makeSpec(scriptJob(['echo "k=v" > "$JOB_STATE/job.env"', "false"])));
    expect(result.status).toBe("failure");
    expect(result.outputs).toEqual({ job: [["k", "v"]] });
  });
});

describe("job state", () => {
  it("saves $JOB_STATE and gives it back as $JOB_PREVIOUS_STATE and to a downstream job", async () => {
    const { run, blobs } = testRunner(dir);
    const first = await run(
      makeSpec(
        scriptJob([
          'echo 1 > "$JOB_STATE/counter"',
          'mkdir -p "$JOB_STATE/deep" && echo x > "$JOB_STATE/deep/x"',
          'chmod 700 "$JOB_STATE/counter"',
        ]),
      ),
    );
    expect(first.result.status).toBe("success");
    expect(await paths(blobs, first.result.stateSha)).toEqual(["counter", "deep/x"]);

    const second = await run(
      makeSpec(
        scriptJob([
          'n=$(cat "$JOB_PREVIOUS_STATE/counter")',
          'echo "previous=$n mode=$(stat -c %a "$JOB_PREVIOUS_STATE/counter") deep=$(cat "$JOB_PREVIOUS_STATE/deep/x")"',
          'echo $((n + 1)) > "$JOB_STATE/counter"',
        ]),
        { previousStateSha: first.result.stateSha },
      ),
    );
    expect(second.result.status).toBe("success");
    expect(second.rec.outputLines).toContain("previous=1 mode=700 deep=x");
    const sha = second.result.stateSha as string;
    expect(await paths(blobs, sha)).toEqual(["counter"]);
    expect(await fileOf(blobs, sha, "counter")).toBe("2\n");

    const upstream = makeDep("producer", "runSh", { kind: "job", version: { stateSha: sha } });
    const downstream = await run(
      makeSpec(scriptJob(['echo "upstream counter=$(cat "$PRODUCER_STATE/counter")"', "pwd"]), {
        dependencies: [upstream],
      }),
    );
    expect(downstream.result.status).toBe("success");
    expect(downstream.rec.outputLines).toContain("upstream counter=2");
  });

  it("returns null for a successful run that leaves $JOB_STATE empty", async () => {
    const { run, blobs } = testRunner(dir);
    const seed = await blobs.put(new TextEncoder().encode("old"));
    const previous = await blobs.put(
      new TextEncoder().encode(JSON.stringify({ version: 1, files: [{ path: "old", mode: 420, sha: seed, size: 3 }] })),
    );
    const { result } = await run(makeSpec(scriptJob(["true"]), { previousStateSha: previous }));
    expect(result.stateSha).toBeNull();
  });

  it("carries the previous state forward on failure, under the files the run wrote", async () => {
    const { run, blobs } = testRunner(dir);
    const first = await run(
      makeSpec(
        scriptJob([
          'echo a1 > "$JOB_STATE/a"',
          'echo b1 > "$JOB_STATE/b"',
          'mkdir "$JOB_STATE/d" && echo d > "$JOB_STATE/d/f"',
        ]),
      ),
    );
    const previous = first.result.stateSha as string;

    const failed = await run(
      makeSpec(
        scriptJob(['echo b2 > "$JOB_STATE/b"', 'echo c2 > "$JOB_STATE/c"', 'echo file > "$JOB_STATE/d"', "exit 1"]),
        {
          previousStateSha: previous,
        },
      ),
    );
    expect(failed.result.status).toBe("failure");
    const sha = failed.result.stateSha as string;
    expect(await paths(blobs, sha)).toEqual(["a", "b", "c", "d"]);
    expect(await fileOf(blobs, sha, "a")).toBe("a1\n");
    expect(await fileOf(blobs, sha, "b")).toBe("b2\n");

    const untouched = await run(makeSpec(scriptJob(["false"]), { previousStateSha: previous }));
    expect(untouched.result.stateSha).toBe(previous);
  });

  it("carries the previous state forward on cancel, timeout and setup errors", async () => {
    const { run, runner, blobs } = testRunner(dir, { cancelGraceMs: 200 });
    const first = await run(makeSpec(scriptJob(['echo keep > "$JOB_STATE/keep"'])));
    const previous = first.result.stateSha as string;
    const job = scriptJob(['echo new > "$JOB_STATE/new"', "sleep 30"]);
    const timedOut = await run(
      makeSpec({ ...job, runtime: { ...job.runtime, timeoutMinutes: 0.002 } }, { previousStateSha: previous }),
    );
    expect(timedOut.result.status).toBe("timeout");
    expect(await paths(blobs, timedOut.result.stateSha)).toEqual(["keep", "new"]);

    const execution = runner.execute(makeSpec(job, { previousStateSha: previous }), {
      onStarted: () => undefined,
      onLog: () => undefined,
    });
    execution.cancel("stop");
    expect((await execution.done).stateSha).toBe(previous);

    const broken = await run(
      makeSpec(scriptJob(["true"]), {
        previousStateSha: previous,
        dependencies: [makeDep("r", "gitRepo", { pointer: { sourceName: "x/y" } })],
      }),
    );
    expect(broken.result).toMatchObject({ status: "error", stateSha: previous });
  });

  it("starts from an empty previous state, with a warning, when the previous state is missing from the blob store", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(scriptJob(['ls -A "$JOB_PREVIOUS_STATE" | wc -l', 'echo kept > "$JOB_STATE/f"']), {
        previousStateSha: "missing",
      }),
    );
    expect(result.status).toBe("success");
    expect(rec.text).toContain("previous state missing is missing from the blob store");
    expect(result.stateSha).not.toBeNull();
  });
});

describe("state resources", () => {
  it("restores a state IN and saves what the job puts in OUT/<name>/state", async () => {
    const { run, blobs } = testRunner(dir);
    const seedRun = await run(makeSpec(scriptJob(['echo "serial=1" > "$JOB_STATE/terraform.tfstate"'])));
    const stateSha = seedRun.result.stateSha as string;

    const tfIn = makeDep("tf", "state", { version: { stateSha, versionName: stateSha } });
    const tfOut = makeDep("tf", "state", { operation: "OUT" });
    const empty = makeDep("unused", "state", { operation: "OUT" });
    const { result, rec } = await run(
      makeSpec(
        scriptJob([
          'cat "$JOB_PATH/IN/tf/state/terraform.tfstate"',
          'sed s/serial=1/serial=2/ "$JOB_PATH/IN/tf/state/terraform.tfstate" > "$JOB_PATH/OUT/tf/state/terraform.tfstate"',
        ]),
        { dependencies: [tfIn, tfOut, empty] },
      ),
    );
    expect(result.status).toBe("success");
    expect(rec.outputLines).toContain("serial=1");
    expect(Object.keys(result.outStateShas)).toEqual(["tf"]);
    await mkdir(`${dir}/check`);
    await restoreArchive(blobs, result.outStateShas.tf as string, `${dir}/check`);
    expect(await readFile(`${dir}/check/terraform.tfstate`, "utf8")).toBe("serial=2\n");
  });
});
