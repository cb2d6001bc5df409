import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { RESOURCE_TYPES, resourceKind } from "@causeway/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  filesMaterialiser,
  MATERIALISERS,
  materialiserFor,
  saveArchive,
  type MaterialiseContext,
} from "../src/index.js";
import { makeDep, MemoryBlobStore, tempDir } from "./helpers.js";

// The runner's side of the resource kinds (docs/architecture.md "Resource kinds"): what each
// kind puts in a workspace, with real files, a real archive and a real git repository.

const exec = promisify(execFile);
let dir: string;
let cleanup: () => Promise<void>;
let ctx: MaterialiseContext;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
  ctx = {
    blobs: new MemoryBlobStore(),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    graceMs: 1000,
    signal: new AbortController().signal,
  };
});
afterEach(() => cleanup());

describe("the runner's materialisers agree with core's kinds", () => {
  it.each([...RESOURCE_TYPES, "someVendorThing"].map((t) => [t]))("%s", (type) => {
    const kind = resourceKind(type);
    const m = materialiserFor({ kind: "resource", type });
    expect(m.savesOutFiles).toBe(kind.outFiles);
    expect(m === MATERIALISERS.gitRepo).toBe(kind.inData === "checkout");
  });

  it("a job used as a dependency gets its state files, whatever its type is called", () => {
    expect(materialiserFor({ kind: "job", type: "runSh" })).toBe(filesMaterialiser);
    expect(materialiserFor({ kind: "job", type: "gitRepo" })).toBe(filesMaterialiser);
  });
});

describe("files: an IN gets its version's files", () => {
  it("restores the version's archive into the data dir", async () => {
    const sha = await saveArchive(ctx.blobs, [
      { path: "terraform.tfstate", mode: 0o644, bytes: new TextEncoder().encode("{}\n") },
      { path: "sub/notes.txt", mode: 0o600, bytes: new TextEncoder().encode("n\n") },
    ]);
    const dep = makeDep("tf", "state", { version: { stateSha: sha } });
    await mkdir(`${dir}/state`);
    expect(await materialiserFor(dep).fillIn(dep, `${dir}/state`, ctx)).toBe("2 files restored");
    expect(await readFile(`${dir}/state/terraform.tfstate`, "utf8")).toBe("{}\n");
    expect(await readFile(`${dir}/state/sub/notes.txt`, "utf8")).toBe("n\n");
  });

  it("does nothing for a version without files, or no version", async () => {
    expect(await filesMaterialiser.fillIn(makeDep("p", "params", { version: {} }), dir, ctx)).toBe("");
    expect(await filesMaterialiser.fillIn(makeDep("p", "params"), dir, ctx)).toBe("");
  });
});

describe("gitRepo: an IN is a checkout of its version's commit", () => {
  it("checks out shaData.commitSha, detached, through git.ts", async () => {
    const source = `${dir}/src`;
    await mkdir(source);
    const git = async (...args: string[]): Promise<string> =>
      (
        await exec("git", ["-c", "user.name=T", "-c", "user.email=t@example.com", ...args], {
          cwd: source,
          env: { PATH: ctx.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: "1" },
        })
      ).stdout.trim();
    await git("init", "-q");
    await writeFile(`${source}/f.txt`, "one\n");
    await git("add", "f.txt");
    await git("commit", "-q", "-m", "one");
    const first = await git("rev-parse", "HEAD");
    await writeFile(`${source}/f.txt`, "two\n");
    await git("commit", "-q", "-am", "two");
    const dep = makeDep("repo", "gitRepo", {
      pointer: { sourceName: source },
      version: { versionName: "ignored", propertyBag: { shaData: { commitSha: first } } },
    });
    await mkdir(`${dir}/co`);
    const m = materialiserFor(dep);
    expect(m.announce).toBe("cloning...");
    expect(await m.fillIn(dep, `${dir}/co`, ctx)).toBe(`checked out ${first} from ${source}`);
    expect(await readFile(`${dir}/co/f.txt`, "utf8")).toBe("one\n");
  });
});
