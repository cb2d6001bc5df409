import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CausewayError } from "@causeway/core";
import { RunSchema, type RunJson } from "@causeway/protocol";
import { chooseSandbox, passthroughEnv, SHIPCTL_DIR } from "@causeway/runner";
import { afterEach, describe, expect, it } from "vitest";
import { optionProblems, startServer, type RunningServer } from "../src/index.js";
import { collectingLogger, lineAndData, tempDir, yaml } from "./helpers.js";

// The server runs tasks in a bubblewrap sandbox with --sandbox auto, says how tasks run in one line at
// start, and a task cannot read the server's token or database. Real server, real store, real
// bwrap. Where bwrap cannot run, the sandboxed cases are skipped with one line, except in CI
// (.ci/run installs bubblewrap), where they fail.

const HERE = chooseSandbox({ mode: "auto", env: passthroughEnv(process.env), shipctlDir: SHIPCTL_DIR, hidden: [] });
const IN_CI = !["", "0", "false"].includes((process.env.CI ?? "").trim().toLowerCase());
const SKIP = HERE.kind === "bwrap" || IN_CI ? undefined : `sandbox tests skipped: ${HERE.reason}`;
if (SKIP !== undefined) console.warn(SKIP);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A line whose job prints the data directory's server.json and database, then succeeds. */
async function setup(): Promise<{ dir: string; dataDir: string }> {
  const root = await tempDir("sandbox");
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const { dir, dataDir } = await lineAndData(root, {});
  await writeFile(
    join(dir, "causeway.yml"),
    yaml`
      jobs:
        - name: peek
          type: runSh
          steps:
            - TASK:
                script:
                  - cat ${dataDir}/server.json
                  - head -c 15 ${dataDir}/causeway.db; echo
    `,
  );
  return { dir, dataDir };
}

async function start(options: Parameters<typeof startServer>[0]) {
  const logger = collectingLogger();
  const server = await startServer({
    port: 0,
    env: passthroughEnv(process.env),
    logger,
    cancelGraceMs: 500,
    ...options,
  });
  cleanups.push(() => server.stop());
  return Object.assign(server, { logger });
}

async function runPeek(server: RunningServer): Promise<{ run: RunJson; log: string }> {
  const headers = { authorization: `Bearer ${server.token}` };
  const created = await fetch(`${server.url}/api/v1/jobs/peek/runs`, { method: "POST", headers });
  const { id } = RunSchema.parse(await created.json());
  await server.engine.waitForRun(id);
  const run = RunSchema.parse(await (await fetch(`${server.url}/api/v1/runs/${id}`, { headers })).json());
  const log = await (await fetch(`${server.url}/api/v1/runs/${id}/logs`, { headers })).text();
  return { run, log };
}

describe.skipIf(SKIP !== undefined)("the server's sandbox", () => {
  it("with --sandbox auto: a task trying to read server.json and the database fails, and the log says so at start", async () => {
    const { dir, dataDir } = await setup();
    const server = await start({ dir, dataDir, sandbox: "auto" });
    expect(server.logger.entries).toContainEqual({
      level: "info",
      msg: expect.stringMatching(/^tasks run in a bubblewrap sandbox \(\/\S+\/bwrap, bubblewrap \d/),
      fields: { event: "sandbox", sandboxed: true },
    });
    const { run, log } = await runPeek(server);
    expect(run.status).toBe("failure");
    expect(log).toContain(`cat: ${dataDir}/server.json: No such file or directory`);
    expect(log).not.toContain(server.token);
    await server.stop();

    // The default is the sandbox where bwrap works.
    const byDefault = await start({ dir, dataDir });
    expect(byDefault.logger.entries).toContainEqual(
      expect.objectContaining({ fields: { event: "sandbox", sandboxed: true } }),
    );
    expect((await runPeek(byDefault)).run.status).toBe("failure");
    await byDefault.stop();

    // The same job without the sandbox reads both: what the sandbox takes away.
    const open = await start({ dir, dataDir, sandbox: "off" });
    expect(open.logger.entries).toContainEqual({
      level: "info",
      msg: "tasks run WITHOUT a sandbox: the sandbox is off (--sandbox off)",
      fields: { event: "sandbox", sandboxed: false },
    });
    const plain = await runPeek(open);
    expect(plain.run.status).toBe("success");
    expect(plain.log).toContain(open.token);
    expect(plain.log).toContain("SQLite format 3");
  });
});

describe("a server where bwrap is missing", () => {
  it("runs tasks without a sandbox and says so plainly (auto); refuses to start (required)", async () => {
    const { dir, dataDir } = await setup();
    const env = { PATH: join(dataDir, "no-bin") };
    const server = await start({ dir, dataDir, env, sandbox: "auto" });
    expect(server.logger.entries).toContainEqual({
      level: "warn",
      msg: "tasks run WITHOUT a sandbox: bwrap not found (apt-get install bubblewrap)",
      fields: { event: "sandbox", sandboxed: false },
    });
    await server.stop();
    const error = await start({ dir, dataDir, env, sandbox: "required" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CausewayError);
    expect((error as CausewayError).code).toBe("RUNNER_SANDBOX_UNAVAILABLE");
    const bad = await startServer({ dir, dataDir, sandbox: "maybe" as "auto" }).catch((e: unknown) => e);
    expect(optionProblems(bad)).toEqual([expect.stringMatching(/^sandbox: /)]);
  });
});
