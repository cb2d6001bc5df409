import { CausewayError } from "@causeway/core";
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ServerInfoSchema } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveServerMain, serverArgs } from "../src/commands/up.js";
import { runCausewayCli } from "./fixtures.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(REPO, "packages/cli/bin/causeway.js");

let root = "";
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "causeway-up-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("finding the server's entry point", () => {
  it("says when the server package cannot be found", () => {
    const error = (() => {
      try {
        resolveServerMain(() => {
          throw new Error("Cannot find package '@causeway/server'");
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CausewayError);
    expect((error as CausewayError).message).toMatch(/cannot find the server \(@causeway\/server\/main\)/);
    expect((error as CausewayError).hint).toMatch(/npm ci/);
  });

  it("says when the server is not built", () => {
    const missing = pathToFileURL(join(root, "dist", "main.js")).href;
    expect(() => resolveServerMain(() => missing)).toThrow(/the server is not built: .*main\.js does not exist/);
  });

  it("passes DIR and the options on as they were given", () => {
    expect(serverArgs("line", { port: "0", data: "d", host: "0.0.0.0" })).toEqual([
      "line",
      "--port",
      "0",
      "--data",
      "d",
      "--host",
      "0.0.0.0",
    ]);
    expect(serverArgs(undefined, {})).toEqual([]);
    expect(serverArgs(undefined, { logFormat: "json" })).toEqual(["--log-format", "json"]);
    expect(serverArgs(undefined, { public: true, newAdminToken: true })).toEqual(["--public", "--new-admin-token"]);
    expect(serverArgs(undefined, { sandbox: "required" })).toEqual(["--sandbox", "required"]);
    expect(serverArgs(undefined, { embeddedRunner: false })).toEqual(["--no-embedded-runner"]);
    expect(serverArgs(undefined, { embeddedRunner: true })).toEqual([]);
  });

  it.each([{ logFormat: "yaml" }, { sandbox: "maybe" }])(
    "refuses an option value the server does not have: %j",
    (opts) => {
      const error = (() => {
        try {
          return serverArgs(undefined, opts);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(CausewayError);
      expect((error as CausewayError).code).toBe("USAGE");
    },
  );
});

describe("causeway up (the built binary)", () => {
  beforeAll(() => {
    // `up` spawns the built server; build this checkout once when it never was.
    if (!existsSync(join(REPO, "packages/server/dist/main.js")) || !existsSync(join(REPO, "packages/cli/dist/main.js")))
      execFileSync(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-b"], { cwd: REPO });
  }, 180_000);

  it("starts the server on DIR, which other commands find by server.json; one Ctrl+C stops it gracefully", async () => {
    const dir = join(root, "line");
    const data = join(root, "data");
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, "causeway.yml"),
      "jobs:\n  - name: hello\n    type: runSh\n    steps:\n      - TASK:\n          script:\n            - echo hi\n",
    );
    const child = spawn(process.execPath, [BIN, "up", dir, "--port", "0", "--data", data], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!existsSync(join(data, "server.json"))) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the server did not start:\n${out}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const info = ServerInfoSchema.parse(JSON.parse(await readFile(join(data, "server.json"), "utf8")));
      expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const run = await runCausewayCli(["trigger", "hello", "--wait", "--data", data], { now: () => new Date() });
      expect(run.err).toBe("");
      expect(run.code).toBe(0);
      // A terminal's Ctrl+C reaches the CLI (and `npm start` forwards it again): the server
      // must see one SIGINT, a graceful stop, not a second one that exits at once.
      // Sent back to back: the CLI takes a repeat within 300 ms as the same Ctrl+C, and a pause
      // between them would be timing that a busy machine stretches past that window. (When the
      // kernel merges the two, the server still must stop gracefully, once.)
      child.kill("SIGINT");
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(out).toContain(`Causeway is running at ${info.url}`);
      expect(out).toMatch(/stopped/);
      // Kept: it holds the admin token, which the next start uses again.
      expect(existsSync(join(data, "server.json"))).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("on a port in use, prints the server's one line and exits 1, having written nothing", async () => {
    const dir = join(root, "busy-line");
    const data = join(root, "busy-data");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "causeway.yml"), "jobs: []\n");
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const address = other.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      const child = spawn(process.execPath, [BIN, "up", dir, "--port", String(port), "--data", data], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1" },
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
      expect(code).toBe(1);
      expect(out).toBe("");
      expect(err).toBe(
        `causeway-server: error CANNOT_LISTEN: cannot listen on 127.0.0.1:${port}: the port is in use` +
          ` (another Causeway? use --port N or stop it)\n`,
      );
      expect(existsSync(data)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });
});
