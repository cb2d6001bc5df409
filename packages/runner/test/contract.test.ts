import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadManifest } from "../src/index.js";
import { makeDep, makeSpec, scriptJob, tempDir, testRunner } from "./helpers.js";

/**
 * The workspace contract of docs/shipctl.md, exercised with the real shipctl: what the runner
 * lays out, and what it reads back.
 */

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

describe("the shipctl workspace contract", () => {
  it("reads back replicated OUT versions, outputVersion.json, .env outputs and notifications", async () => {
    const { run, blobs } = testRunner(dir);
    const imgIn = makeDep("img_in", "image", {
      version: { id: 5, versionNumber: 3, versionName: "1.0", propertyBag: { tag: "1.0", sourceName: "acme/app" } },
    });
    const imgOut = makeDep("img_out", "image", {
      operation: "OUT",
      version: { id: 6, versionNumber: 1, versionName: "0.9", propertyBag: { tag: "0.9" } },
    });
    const team = makeDep("team", "notification");
    const { result, rec } = await run(
      makeSpec(
        scriptJob([
          "shipctl replicate img_in img_out",
          'shipctl put_resource_state_multi img_out "extra=1"',
          'shipctl put_resource_state_multi "$JOB_NAME" "versionName=7"',
          'shipctl replicate img_in "$JOB_NAME"',
          "shipctl notify team --text=hello",
          'echo "version=$(shipctl get_resource_version_name img_in)"',
        ]),
        { dependencies: [imgIn, imgOut, team] },
      ),
    );
    expect(result.status, rec.text).toBe("success");
    expect(rec.outputLines).toContain("version=1.0");
    expect(result.outVersions).toEqual({
      img_out: { versionName: "1.0", propertyBag: { tag: "1.0", sourceName: "acme/app" } },
    });
    expect(result.jobVersion).toEqual({ versionName: "1.0", propertyBag: { tag: "1.0", sourceName: "acme/app" } });
    expect(result.outputs).toEqual({ img_out: [["extra", "1"]], job: [["versionName", "7"]] });
    expect(result.notifications).toEqual([
      { resource: "team", options: { text: "hello" }, createdAt: expect.any(String) as unknown },
    ]);
    const files = (await loadManifest(blobs, result.stateSha as string)).files.map((f) => f.path);
    expect(files).toEqual(["img_out.env", "job.env", "outputVersion.json"]);
  });

  it("ignores a version file nested past the limit, with a warning, and the run succeeds", async () => {
    const { run } = testRunner(dir);
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const { result, rec } = await run(
      makeSpec(
        scriptJob([`printf '{"versionName":"x","propertyBag":{"a":%s}}' '${deep}' > "$JOB_STATE/outputVersion.json"`]),
      ),
    );
    expect(result.status, rec.text).toBe("success");
    expect(result.jobVersion).toBeNull();
    expect(rec.text).toContain(
      "outputVersion.json is not {versionName?, propertyBag?} (or nests deeper than 64 levels)",
    );
  });

  it("gives a state resource that is both IN and OUT the IN's variables", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(scriptJob(['echo "$TF_OPERATION $TF_STATE"', 'echo "$(shipctl get_resource_state tf)"']), {
        dependencies: [makeDep("tf", "state"), makeDep("tf", "state", { operation: "OUT" })],
      }),
    );
    expect(result.status).toBe("success");
    const [vars, state] = rec.outputLines;
    expect(vars).toMatch(/^IN \/.*\/IN\/tf\/state$/);
    expect(state).toMatch(/\/IN\/tf\/state$/);
  });
});
