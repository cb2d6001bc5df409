import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The README's tour, word for word, as a newcomer follows it on a fresh clone: `npm start` in one
// terminal (here `node scripts/start.mjs`, what `npm start` runs), then every `npx causeway ...`
// line of the "A short tour" section in another, at the root of the clone. The clone is a temp
// directory with the repository's scripts and example copied (so `npm start` creates the
// example's application repository as on a fresh clone) and its packages linked.

const REPO = fileURLToPath(new URL("../", import.meta.url));
const BIN = join(REPO, "packages/cli/bin/causeway.js");
const TOUR_HEADING = "## A short tour";

/** The `npx causeway ...` lines of the README's tour, in order. */
async function tourCommands(): Promise<string[][]> {
  const readme = await readFile(join(REPO, "README.md"), "utf8");
  const start = readme.indexOf(`\n${TOUR_HEADING}\n`);
  expect(start, "the README has a tour").toBeGreaterThan(0);
  const rest = readme.slice(start + TOUR_HEADING.length + 2);
  const section = rest.slice(0, rest.search(/^## /m));
  const commands: string[][] = [];
  for (const block of section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    for (const line of (block[1] ?? "").split("\n")) {
      const text = line.trim();
      if (text === "") continue;
      // Every line of the tour is a causeway command a test can run as written.
      expect(text).toMatch(/^npx causeway [\w ./-]+$/);
      commands.push(text.split(/\s+/).slice(2));
    }
  }
  return commands;
}

interface Ran {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

function causeway(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env, timeout: 60_000 }, (error, out, err) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, out, err });
    });
  });
}

describe("the README's tour", () => {
  let root = "";
  let env: NodeJS.ProcessEnv = {};
  let start: ChildProcess | undefined;
  let startOutput = "";

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "causeway-tour-"));
    const clone = join(root, "causeway");
    await mkdir(join(clone, "examples"), { recursive: true });
    await cp(join(REPO, "examples/hello-line"), join(clone, "examples/hello-line"), {
      recursive: true,
      filter: (path) => !path.includes("app-repo"),
    });
    await cp(join(REPO, "scripts"), join(clone, "scripts"), { recursive: true });
    await symlink(join(REPO, "packages"), join(clone, "packages"));
    await symlink(join(REPO, "node_modules"), join(clone, "node_modules"));
    // Any free port (the server.json names it), and the deployments of the example in the temp dir.
    env = { ...process.env, CAUSEWAY_PORT: "0", TMPDIR: root, NO_COLOR: "1" };
    start = spawn(process.execPath, [join(clone, "scripts/start.mjs")], { cwd: clone, env });
    start.stdout?.on("data", (d: Buffer) => (startOutput += d.toString()));
    start.stderr?.on("data", (d: Buffer) => (startOutput += d.toString()));
    // A newcomer reads the tour while the first commit goes through: wait for its smoke test.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const runs = await causeway(["runs", "--job", "smoke_test", "--json"], clone, env);
      if (runs.code === 0 && (JSON.parse(runs.out) as { status: string }[]).some((r) => r.status === "success")) break;
      if (Date.now() > deadline || start.exitCode !== null)
        throw new Error(`npm start did not get the first commit through:\n${startOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 120_000);

  afterAll(async () => {
    if (start !== undefined && start.exitCode === null) start.kill("SIGKILL");
    await rm(root, { recursive: true, force: true });
  });

  it("runs every command of the tour as written, each exiting 0 with what the README says", async () => {
    const clone = join(root, "causeway");
    const commands = await tourCommands();
    expect(commands.map((c) => c[0])).toEqual(
      expect.arrayContaining(["validate", "graph", "runs", "trigger", "logs", "why", "trace"]),
    );
    const said = new Map<string, string>();
    for (const args of commands) {
      const ran = await causeway(args, clone, env);
      const line = `causeway ${args.join(" ")}`;
      expect({ line, code: ran.code, err: ran.err }).toEqual({ line, code: 0, err: "" });
      expect(ran.out, line).not.toBe("");
      said.set(args.join(" "), ran.out);
    }
    // What the tour's prose promises of some of them.
    expect(said.get("validate examples/hello-line")).toMatch(/^valid: .*\n {2}all 4 jobs will run$/m);
    expect(said.get("runs")).toMatch(/^3 +smoke_test +1 +success/m);
    expect(said.get("logs 4")).toMatch(/^▾ Executing task: package/m);
    expect(said.get("why deploy_production")).toContain("input smoke_test has switch: off");
    expect(said.get("trace deploy_production")).toMatch(/^ *<- app_repo #\d+ "[0-9a-f]{7}" {2}\(by git, /m);
  });

  it("stops npm start with Ctrl+C, cleanly", async () => {
    const exited = new Promise<number | null>((resolve) => start?.once("exit", (code) => resolve(code)));
    start?.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(startOutput).toMatch(/stopped\n$/);
  });
});
