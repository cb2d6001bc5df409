import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApplyRecordSchema, PlanResultSchema } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { silentLogger, startServer, type RunningServer } from "@causeway/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runCausewayCli, type CliRun } from "./fixtures.js";

// `causeway plan` and lines from several sources, against the real server (SQLite, engine),
// started in-process on a free port with a temp data directory.
//
//   app/:   cfg ──► build            infra/:  build ──► deploy

const APP = (target: string) => `resources:
  - name: cfg
    type: params
    versionTemplate:
      params:
        TARGET: ${target}
jobs:
  - name: build
    type: runSh
    steps:
      - IN: cfg
      - TASK:
          script: [echo build]
`;

const INFRA = `jobs:
  - name: deploy
    type: runSh
    steps:
      - IN: build
      - TASK:
          script: [echo deploy]
`;

let root = "";
let dataDir = "";
let server: RunningServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "causeway-cli-lines-"));
  dataDir = join(root, "data");
  server = await startServer({
    port: 0,
    dataDir,
    env: passthroughEnv(process.env),
    cancelGraceMs: 500,
    logger: silentLogger,
  });
}, 60_000);

afterAll(async () => {
  await server.stop();
  await rm(root, { recursive: true, force: true });
});

function cli(...argv: string[]): Promise<CliRun> {
  return runCausewayCli([...argv, "--data", dataDir], { env: { USER: "tester" }, now: () => new Date(), cwd: root });
}

async function dir(name: string, files: Record<string, string>): Promise<string> {
  const path = join(root, name);
  await mkdir(path, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(path, file), text);
  return path;
}

async function applies(): Promise<z.infer<typeof ApplyRecordSchema>[]> {
  const run = await cli("applies", "--json");
  return z.array(ApplyRecordSchema).parse(JSON.parse(run.out));
}

describe("causeway plan", () => {
  it("previews an apply, applies nothing, and exits as apply would", async () => {
    const line = await dir("plan-line", { "causeway.yml": APP("staging") });
    expect((await cli("apply", line)).code).toBe(0);
    const history = await applies();

    await writeFile(join(line, "causeway.yml"), APP("production"));
    await writeFile(join(line, "broken.causeway.yml"), INFRA.replace("IN: build", "IN: nowhere"));
    const text = await cli("plan", line);
    expect(text.err).toBe("");
    expect(text.code).toBe(1);
    expect(text.out).toContain("error PIPELINE_UNKNOWN_REFERENCE");
    expect(text.out).toContain("plan: 1 to add, 1 to change, 0 to remove; 1 newly invalid");
    expect(text.out).toMatch(/^ {2}\+ deploy$/m);
    expect(text.out).toMatch(/^ {2}~ cfg$/m);
    expect(text.out).toMatch(/^ {2}! deploy: has an error/m);
    expect(text.out).toContain("nothing applied");

    const json = await cli("plan", line, "--json");
    expect(json.code).toBe(1);
    expect(PlanResultSchema.parse(JSON.parse(json.out))).toMatchObject({
      added: ["deploy"],
      changed: ["cfg"],
      removed: [],
      invalid: ["deploy"],
      versioned: ["cfg"],
    });
    // Nothing applied: no new entry in the apply history.
    expect(await applies()).toEqual(history);

    await rm(join(line, "broken.causeway.yml"));
    const clean = await cli("plan", line);
    expect(clean.code).toBe(0);
    expect(clean.out).toContain("plan: 0 to add, 1 to change, 0 to remove\n");
  });

  it("is a usage error (exit 2) for a directory that does not exist", async () => {
    const run = await cli("plan", join(root, "nowhere"));
    expect(run.code).toBe(2);
  });
});
