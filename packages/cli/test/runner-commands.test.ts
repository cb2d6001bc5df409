import { RunnerSchema, RunnerTokenSchema, type RunnerJson } from "@causeway/protocol";
import type { Command } from "commander";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { registerRunnerAdmin } from "../src/commands/runner-admin.js";
import { expiryHours, runnerServerUrl } from "../src/commands/runner-token.js";
import type { Io } from "../src/io.js";
import { buildProgram } from "../src/program.js";
import { runCausewayCli, type CliRun } from "./fixtures.js";
import { startRunnerRoutes, type RunnerRoutes } from "./runner-routes.js";

// `causeway runner-token create`, `causeway runners` and `causeway runner drain|activate`
// (docs/cli.md) against a real HTTP server that answers the runner routes as the server will
// (runner-routes.ts), until the server has them.

const NOW = new Date("2030-01-02T10:05:00.000Z");

let routes: RunnerRoutes;

beforeAll(async () => {
  routes = await startRunnerRoutes(() => NOW);
});

afterAll(async () => {
  await routes.close();
});

function runner(over: Partial<RunnerJson> & Pick<RunnerJson, "name">): RunnerJson {
  return {
    pool: "default",
    labels: [],
    capacity: 1,
    state: "active",
    runs: [],
    registeredAt: "2030-01-01T09:00:00.000Z",
    lastSeenAt: "2030-01-02T10:04:57.000Z",
    ...over,
  };
}

beforeEach(() => {
  routes.runners = [
    runner({ name: "mac-1", pool: "macos", labels: ["arm64", "xcode"], capacity: 4, runs: [12, 15] }),
    runner({ name: "linux-a", lastSeenAt: "2030-01-02T09:02:00.000Z" }),
    runner({ name: "old-box", state: "offline", lastSeenAt: null }),
  ];
});

/**
 * The CLI's program with a stand-in for the runner agent's `causeway runner` command (runner.ts,
 * written with the agent), which registers the admin subcommands as runner.ts does.
 */
function withRunnerCommand(io: Io): Command {
  const program = buildProgram(io);
  const agent = program
    .command("runner")
    .description("the runner agent (stand-in)")
    .option("--server <url>")
    .option("--token <token>")
    .option("--pool <name>")
    .action((opts: { server?: string; token?: string }) => {
      io.out(`agent for ${opts.server ?? "-"} with ${opts.token ?? "-"}\n`);
      io.exitCode(0);
    });
  registerRunnerAdmin(agent, io);
  return program;
}

function cli(argv: readonly string[], token = routes.adminToken): Promise<CliRun> {
  return runCausewayCli([...argv, "--server", routes.url, "--token", token], {
    now: () => NOW,
    build: withRunnerCommand,
  });
}

describe("causeway runner-token create", () => {
  it("prints the token alone on standard output, and on standard error how to start a runner with it", async () => {
    const made = await cli(["runner-token", "create", "--pool", "linux", "--expires", "12h"]);
    expect(made.code).toBe(0);
    expect(routes.calls.at(-1)).toEqual({
      method: "POST",
      path: "/api/v1/runner-tokens",
      body: { pool: "linux", expiresInHours: 12 },
    });
    const token = made.out.trim();
    expect(made.out).toBe(`${routes.madeTokens.at(-1)?.token}\n`);
    expect(token).toMatch(/^cwreg_[A-Za-z0-9_-]{43}$/);
    expect(made.err).toBe(
      "created a single-use runner registration token (pool linux, expires 2030-01-02T22:05:00.000Z); " +
        "it registers one runner and follows, shown this once:\n" +
        "start a runner with it:\n" +
        `  causeway runner --server ${routes.url} --token ${token} --pool linux\n` +
        "  (this URL is the server's as this machine reaches it: on another machine, give the runner an address it can reach)\n",
    );
  });

  it("without --pool sends no pool, and the runner is started without one", async () => {
    const made = await cli(["runner-token", "create"]);
    expect(made.code).toBe(0);
    expect(routes.calls.at(-1)?.body).toEqual({});
    expect(made.err).toContain("(any pool, expires 2030-01-03T10:05:00.000Z)");
    expect(made.err).toContain(`--token ${made.out.trim()}\n`);
    expect(made.err).not.toContain("--pool");
  });

  it("--json prints the answer's body and nothing else", async () => {
    const made = await cli(["runner-token", "create", "--pool", "gpu", "--json"]);
    expect(made.code).toBe(0);
    expect(made.err).toBe("");
    expect(RunnerTokenSchema.strict().parse(JSON.parse(made.out))).toEqual(routes.madeTokens.at(-1));
  });

  it.each([
    [["--expires", "soon"], "--expires must be a number of hours"],
    [["--expires", "0"], "--expires must be a number of hours"],
    [["--expires", "8761"], "at most 8760"],
    [["--pool", "two words"], "--pool must be 1 to 100 letters"],
  ])("refuses %j before asking the server (exit 2)", async (args, message) => {
    const before = routes.calls.length;
    const refused = await cli(["runner-token", "create", ...args]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(message);
    expect(routes.calls.length).toBe(before);
  });

  it("needs an admin token: FORBIDDEN_ROLE, exit 1", async () => {
    const refused = await cli(["runner-token", "create"], routes.viewerToken);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error FORBIDDEN_ROLE: /);
    expect(refused.out).toBe("");
  });
});

describe("causeway runners", () => {
  it("lists the runners in a table with their runs and when they were last seen", async () => {
    const list = await cli(["runners"], routes.viewerToken);
    expect(list.code).toBe(0);
    expect(list.out).toBe(
      [
        "NAME     POOL     LABELS       CAPACITY  STATE    RUNS   LAST SEEN",
        "mac-1    macos    arm64,xcode  4         active   12,15  3s ago",
        "linux-a  default  -            1         active   -      1h ago",
        "old-box  default  -            1         offline  -      never",
        "",
      ].join("\n"),
    );
  });

  it("--json prints the body of GET /runners", async () => {
    const list = await cli(["runners", "--json"], routes.viewerToken);
    const body = z
      .object({ runners: z.array(RunnerSchema.strict()) })
      .strict()
      .parse(JSON.parse(list.out));
    expect(body.runners).toEqual(routes.runners);
  });

  it("says how to register one when there is none", async () => {
    routes.runners = [];
    const list = await cli(["runners"]);
    expect(list.out).toBe(
      "no runners: `causeway runner-token create` makes a token that registers one (docs/cli.md)\n",
    );
  });
});

describe("causeway runner drain and activate", () => {
  it("drains a runner, which then shows draining, and activates it again", async () => {
    const drained = await cli(["runner", "drain", "mac-1"]);
    expect(drained.code).toBe(0);
    expect(drained.out).toBe(
      "runner mac-1 drains: it finishes its 2 runs (12, 15) and takes no more; " +
        "`causeway runner activate mac-1` lets it take runs again\n",
    );
    expect(routes.calls.at(-1)).toMatchObject({ method: "POST", path: "/api/v1/runners/mac-1/drain" });
    expect((await cli(["runners"])).out).toMatch(/\nmac-1 .* draining +12,15 /);

    const activated = await cli(["runner", "activate", "mac-1"]);
    expect(activated.code).toBe(0);
    expect(activated.out).toBe("runner mac-1 is active: it takes runs (2 of 4 running now)\n");
    expect((await cli(["runners"])).out).toMatch(/\nmac-1 .* active +12,15 /);
  });

  it("says what a drain means for a runner with one run, none, or offline", async () => {
    routes.runners = [runner({ name: "one", runs: [7] }), ...routes.runners];
    expect((await cli(["runner", "drain", "one"])).out).toMatch(/^runner one drains: it finishes its run \(7\) and/);
    expect((await cli(["runner", "drain", "linux-a"])).out).toMatch(
      /^runner linux-a drains: it runs nothing now and takes no more;/,
    );
    expect((await cli(["runner", "drain", "old-box"])).out).toMatch(
      /^runner old-box drains: it is offline, and takes no runs when it comes back;/,
    );
    expect((await cli(["runner", "activate", "old-box"])).out).toBe(
      "runner old-box is active, but offline: it takes runs when it comes back\n",
    );
  });

  it("--json prints the body of the answer", async () => {
    const drained = await cli(["runner", "drain", "linux-a", "--json"]);
    const body = z.object({ runner: RunnerSchema.strict() }).strict().parse(JSON.parse(drained.out));
    expect(body.runner).toEqual({
      ...runner({ name: "linux-a", lastSeenAt: "2030-01-02T09:02:00.000Z" }),
      state: "draining",
    });
  });

  it("names an unknown runner: RUNNER_NOT_FOUND, exit 1, with the server's hint", async () => {
    const missing = await cli(["runner", "activate", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe("error RUNNER_NOT_FOUND: no runner named nope\n  hint: `causeway runners` lists them\n");
  });

  it("needs an admin token: FORBIDDEN_ROLE, exit 1, and the runner is unchanged", async () => {
    const refused = await cli(["runner", "drain", "mac-1"], routes.viewerToken);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error FORBIDDEN_ROLE: /);
    expect(routes.runners[0]?.state).toBe("active");
  });

  it("leaves any other use of `causeway runner` to the agent, whose options stay its own", async () => {
    const agent = await runCausewayCli(["runner", "--server", "http://example.test:4810", "--token", "cwreg_x"], {
      build: withRunnerCommand,
    });
    expect(agent).toEqual({ code: 0, out: "agent for http://example.test:4810 with cwreg_x\n", err: "" });
    // A name is required; nothing is sent without one.
    const before = routes.calls.length;
    expect((await cli(["runner", "drain"])).code).toBe(2);
    expect(routes.calls.length).toBe(before);
  });
});

describe("the arguments of runner-token create", () => {
  it.each([
    ["12", 12],
    ["12h", 12],
    [" 0.5h ", 0.5],
    ["8760", 8760],
  ])("--expires %j is %d hours", (text, hours) => {
    expect(expiryHours(text)).toBe(hours);
  });

  it.each([
    ["http://ci.example:4810/", "http://ci.example:4810"],
    ["http://ci.example:4810/api/v1", "http://ci.example:4810"],
    ["https://ci.example/causeway/", "https://ci.example/causeway"],
  ])("gives the runner %j as %j", (url, expected) => {
    expect(runnerServerUrl(url)).toBe(expected);
  });
});
