import { execFileSync } from "node:child_process";
import { appendFile, mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_AUTHOR, DEMO_BRANCH, ensureDemoRepo } from "./demo-repo.mjs";

// The repository `npm start` creates for examples/hello-line (scripts/start.mjs), on a machine
// without any git configuration.
describe("ensureDemoRepo", () => {
  let root = "";
  let env: NodeJS.ProcessEnv = {};
  const git = (dir: string, ...args: string[]): string =>
    execFileSync("git", ["-C", dir, ...args], { env, encoding: "utf8" }).trim();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "causeway-demo-repo-"));
    await mkdir(join(root, "home"));
    env = { PATH: process.env.PATH, HOME: join(root, "home"), GIT_CONFIG_NOSYSTEM: "1" };
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("creates a repository with one commit of the tiny app on main, then leaves it as it is", async () => {
    const dir = join(root, "line", "app-repo");
    const first = ensureDemoRepo(dir, { env });
    expect(first.created).toBe(true);
    expect(git(dir, "rev-parse", "HEAD")).toBe(first.head);
    expect(git(dir, "symbolic-ref", "--short", "HEAD")).toBe(DEMO_BRANCH);
    expect(git(dir, "log", "--format=%an <%ae> %s")).toBe(
      `${DEMO_AUTHOR.name} <${DEMO_AUTHOR.email}> Create hello-app`,
    );
    expect(git(dir, "ls-files").split("\n")).toEqual(["README.md", "hello.sh"]);
    expect((await stat(join(dir, "hello.sh"))).mode & 0o111).not.toBe(0);
    expect(execFileSync(join(dir, "hello.sh"), { encoding: "utf8" })).toBe("Hello from hello-app dev\n");
    // Nothing left over next to it (it is built aside and renamed into place).
    expect(await readdir(join(root, "line"))).toEqual(["app-repo"]);

    // A commit by hand works with the repository's own identity (no global config here).
    await appendFile(join(dir, "README.md"), "Hello again\n");
    git(dir, "commit", "-qam", "Say hello again");
    const head = git(dir, "rev-parse", "HEAD");

    expect(ensureDemoRepo(dir, { env })).toEqual({ created: false, head });
    expect(git(dir, "rev-list", "--count", "HEAD")).toBe("2");
  });

  it("refuses a directory that exists but is not a git repository", async () => {
    const dir = join(root, "not-a-repo");
    await mkdir(dir);
    expect(() => ensureDemoRepo(dir, { env })).toThrow(/not a git repository/);
    expect(await readdir(dir)).toEqual([]);
  });
});
