import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NotificationSchema, RunSchema } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { silentLogger, startServer, type RunningServer } from "@causeway/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runCausewayCli } from "./fixtures.js";

// `causeway notifications` against the real server (docs/cli.md): a delivery to a port nobody
// listens on fails at once (one attempt), and is listed with its error; `retry` puts it back.

process.env.TZ = "UTC";

let root = "";
let server: RunningServer;
let port = 0;

/** A loopback port that nothing listens on (taken, then freed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const address = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return typeof address === "object" && address !== null ? address.port : 0;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "causeway-cli-notifications-"));
  port = await closedPort();
  const dir = join(root, "line");
  await mkdir(dir);
  await writeFile(
    join(dir, "causeway.yml"),
    `resources:
  - name: hook
    type: notification
    versionTemplate:
      recipients: ["http://127.0.0.1:${port}/h"]
jobs:
  - name: ping
    type: runSh
    steps:
      - TASK:
          script: [true]
    on_success:
      NOTIFY: hook
`,
  );
  server = await startServer({
    dir,
    port: 0,
    dataDir: join(root, "data"),
    env: passthroughEnv(process.env),
    logger: silentLogger,
    notifyMaxAttempts: 1,
    notifyTimeoutMs: 2000,
  });
}, 60_000);

afterAll(async () => {
  await server.stop();
  await rm(root, { recursive: true, force: true });
});

const cli = (argv: readonly string[]) => runCausewayCli([...argv, "--server", server.url, "--token", server.token], {});

async function untilFailed(): Promise<z.infer<typeof NotificationSchema>[]> {
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    const failed = z
      .array(NotificationSchema)
      .parse(JSON.parse((await cli(["notifications", "--failed", "--json"])).out));
    if (failed.length > 0) return failed;
    await new Promise((r) => setTimeout(r, delay));
  }
}

describe("causeway notifications", () => {
  it("lists deliveries with their state and last error, --failed only the failed ones, and retries one", async () => {
    expect((await cli(["notifications"])).out).toBe("no notification deliveries\n");
    const res = await fetch(`${server.url}/api/v1/jobs/ping/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
      body: "{}",
    });
    const run = RunSchema.parse(await res.json());
    const [failed] = await untilFailed();
    expect(failed).toMatchObject({ runId: run.id, job: "ping", event: "success", state: "failed", attempts: 1 });
    expect(failed?.lastError).toContain(`127.0.0.1:${port}`);

    const listed = await cli(["notifications", "--failed"]);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^ID +WHEN +JOB +EVENT +RESOURCE +TARGET +STATE +ATTEMPTS +LAST ERROR\n/);
    expect(listed.out).toContain(`ping (run ${run.id})`);
    expect(listed.out).toMatch(
      new RegExp(`success +hook \\(webhook\\) +http://127\\.0\\.0\\.1:${port}/h +failed +1 +127\\.0\\.0\\.1:${port}`),
    );

    const retried = await cli(["notifications", "retry", String(failed?.id)]);
    expect(retried).toMatchObject({ code: 0, out: `notification ${failed?.id} is pending again\n` });
    // Nobody listens yet: it fails again at once, after its one attempt.
    await untilFailed();
    const again = await cli(["notifications", "retry", "999"]);
    expect(again.code).toBe(1);
    expect(again.err).toContain("NOTIFICATION_NOT_FOUND");
    expect((await cli(["notifications", "--limit", "0"])).code).toBe(2);
  });
});
