import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  RunnerClaimSchema,
  RunnerRegisteredSchema,
  RunnerSchema,
  RunnerSessionSchema,
  RunnerTokenSchema,
  RunSchema,
  type RunnerJson,
} from "@causeway/protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { agentArgs } from "../src/commands/runner.js";
import { expiryHours, runnerServerUrl } from "../src/commands/runner-token.js";
import { runCausewayCli, type CliRun } from "./fixtures.js";
import { startLineServer, type LineServer } from "./line-server.js";

// `causeway runner-token create`, `causeway runners` and `causeway runner drain|activate`
// (docs/cli.md) against the real server. Its runners are registered over the runner protocol
// (docs/runners.md) with plain fetch, as a runner process would: one whose session is open is
// active, one that never opened one is offline; runs of the pool `macos` are claimed and started
// by hand, so that a runner holds them.

/** Three jobs of the pool macos (a job runs one run at a time: three jobs, three runs at once). */
const LINE = `jobs:
${["build-mac", "test-mac", "sign-mac"]
  .map(
    (job) =>
      `  - name: ${job}\n    type: runSh\n    runtime: { nodePool: macos }\n    steps:\n      - TASK: { script: ["true"] }\n`,
  )
  .join("")}`;

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(REPO, "packages/cli/bin/causeway.js");
const HOUR = 3_600_000;

let line: LineServer;
let url = "";
let adminToken = "";
let viewerToken = "";
/** A URL where nothing listens: a command that asked a server there would fail to connect. */
let deadUrl = "";

beforeAll(async () => {
  // A lease far longer than the tests: a runner stays active between its calls.
  line = await startLineServer("runners", LINE, { runnerLeaseMs: 600_000, embeddedRunner: false });
  ({ url, token: adminToken } = line.server);
  const viewer = await cli(["token", "create", "--role", "viewer", "--name", "watcher"]);
  expect(viewer.code).toBe(0);
  viewerToken = viewer.out.trim();
  const dead = createServer();
  await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
  deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => dead.close(() => resolve()));
}, 60_000);

afterAll(async () => {
  await line.stop();
});

function cli(argv: readonly string[], token = adminToken, server = url): Promise<CliRun> {
  return runCausewayCli([...argv, "--server", server, "--token", token], { now: () => new Date() });
}

/** A call of the API (`/api/v1`) or the runner protocol (`/api/runner/v1`) with a bearer token. */
async function call(path: string, bearer: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json: unknown = await response.json();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function listed(name: string): Promise<RunnerJson | undefined> {
  const { runners } = z.object({ runners: z.array(RunnerSchema) }).parse(await call("/api/v1/runners", adminToken));
  return runners.find((r) => r.name === name);
}

/** Makes a registration token with the CLI. */
async function registrationToken(pool?: string): Promise<string> {
  const made = await cli(["runner-token", "create", ...(pool === undefined ? [] : ["--pool", pool])]);
  expect(made.code).toBe(0);
  return made.out.trim();
}

interface HandRunner {
  readonly credential: string;
  readonly session: string;
}

/** Registers a runner and, unless `connect` is false, opens its session (it is then active). */
async function register(
  name: string,
  spec: { pool?: string; labels?: string[]; capacity?: number },
  connect = true,
): Promise<HandRunner> {
  const labels = spec.labels ?? [];
  const capacity = spec.capacity ?? 1;
  const { credential } = RunnerRegisteredSchema.parse(
    await call("/api/runner/v1/register", "", {
      token: await registrationToken(spec.pool),
      name,
      ...(spec.pool === undefined ? {} : { pool: spec.pool }),
      labels,
      capacity,
    }),
  );
  if (!connect) return { credential, session: "" };
  const { session } = RunnerSessionSchema.parse(
    await call("/api/runner/v1/sessions", credential, { capacity, labels }),
  );
  return { credential, session };
}

/** Triggers a run of `job` and lets `runner` claim and start it: the runner then holds it. */
async function holdRun(runner: HandRunner, job: string): Promise<number> {
  const run = RunSchema.parse(await call(`/api/v1/jobs/${job}/runs`, adminToken, {}));
  const claim = RunnerClaimSchema.parse(
    await call("/api/runner/v1/claim", runner.credential, { session: runner.session, free: 1 }),
  );
  expect(claim.runId).toBe(run.id);
  await call(`/api/runner/v1/attempts/${claim.runId}/start`, claim.jobToken, { epoch: claim.epoch });
  return claim.runId;
}

/** LAST SEEN as a number of seconds ago, whatever the number. */
function anyRecentAge(text: string): string {
  return text.replace(/\b\d+s ago$/gm, "Ns ago");
}

describe("causeway runner-token create", () => {
  it("prints the token alone on standard output, and on standard error how to start a runner with it", async () => {
    const before = Date.now();
    const made = await cli(["runner-token", "create", "--pool", "linux", "--expires", "12h"]);
    const after = Date.now();
    expect(made.code).toBe(0);
    const token = made.out.trim();
    expect(made.out).toBe(`${token}\n`);
    expect(token).toMatch(/^cwreg_[A-Za-z0-9_-]{43}$/);
    const expires = /expires (\S+)\);/.exec(made.err)?.[1] ?? "";
    expect(Date.parse(expires)).toBeGreaterThanOrEqual(before + 12 * HOUR - 1000);
    expect(Date.parse(expires)).toBeLessThanOrEqual(after + 12 * HOUR);
    expect(made.err).toBe(
      `created a single-use runner registration token (pool linux, expires ${expires}); ` +
        "it registers one runner and follows, shown this once:\n" +
        "start a runner with it:\n" +
        `  causeway runner --server ${url} --token ${token} --pool linux\n` +
        "  (this URL is the server's as this machine reaches it: on another machine, give the runner an address it can reach)\n",
    );
    // The token is bound to the pool: a runner of another pool is refused (and the token stays unused).
    await expect(
      call("/api/runner/v1/register", "", { token, name: "elsewhere", pool: "macos", labels: [], capacity: 1 }),
    ).rejects.toThrow(/RUNNER_REGISTRATION_INVALID.*for pool linux, not macos/);
  });

  it("without --pool sends no pool, the server's default life applies, and the runner is started without one", async () => {
    const before = Date.now();
    const made = await cli(["runner-token", "create"]);
    expect(made.code).toBe(0);
    const expires = /\(any pool, expires (\S+)\);/.exec(made.err)?.[1] ?? "";
    expect(Date.parse(expires)).toBeGreaterThanOrEqual(before + 24 * HOUR - 1000);
    expect(Date.parse(expires)).toBeLessThanOrEqual(Date.now() + 24 * HOUR);
    expect(made.err).toContain(`--token ${made.out.trim()}\n`);
    expect(made.err).not.toContain("--pool");
  });

  it("--json prints the answer's body and nothing else", async () => {
    const made = await cli(["runner-token", "create", "--pool", "gpu", "--json"]);
    expect(made.code).toBe(0);
    expect(made.err).toBe("");
    const body = RunnerTokenSchema.strict().parse(JSON.parse(made.out));
    expect(body.pool).toBe("gpu");
    expect(body.token).toMatch(/^cwreg_[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    [["--expires", "soon"], "--expires must be a number of hours"],
    [["--expires", "0"], "--expires must be a number of hours"],
    [["--expires", "8761"], "at most 8760"],
    [["--pool", "two words"], "--pool must be 1 to 100 letters"],
  ])("refuses %j before asking the server (exit 2)", async (args, message) => {
    // Nothing listens at deadUrl: asking it would fail to connect instead.
    const refused = await cli(["runner-token", "create", ...args], adminToken, deadUrl);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(message);
  });

  it("needs an admin token: FORBIDDEN_ROLE, exit 1", async () => {
    const refused = await cli(["runner-token", "create"], viewerToken);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error FORBIDDEN_ROLE: /);
    expect(refused.out).toBe("");
  });
});

describe("causeway runners with none registered", () => {
  it("says how to register one", async () => {
    const list = await cli(["runners"], viewerToken);
    expect(list.code).toBe(0);
    expect(list.out).toBe(
      "no runners: `causeway runner-token create` makes a token that registers one (docs/cli.md)\n",
    );
  });
});

describe("with runners registered", () => {
  // mac-1 (pool macos, capacity 4) holds two runs, one (pool macos) a third; linux-a (the
  // default pool) holds none; old-box registered and never connected.
  let macRuns: number[] = [];
  let oneRun = 0;
  let registeredFrom = 0;

  beforeAll(async () => {
    registeredFrom = Date.now();
    const mac = await register("mac-1", { pool: "macos", labels: ["arm64", "xcode"], capacity: 4 });
    const one = await register("one", { pool: "macos" });
    await register("linux-a", {});
    await register("old-box", {}, false);
    macRuns = [await holdRun(mac, "build-mac"), await holdRun(mac, "test-mac")];
    oneRun = await holdRun(one, "sign-mac");
  }, 30_000);

  beforeEach(async () => {
    for (const name of ["mac-1", "one", "linux-a", "old-box"]) {
      await call(`/api/v1/runners/${name}/activate`, adminToken, {});
    }
  });

  describe("causeway runners", () => {
    it("lists the runners in a table with their runs and when they were last seen", async () => {
      const list = await cli(["runners"], viewerToken);
      expect(list.code).toBe(0);
      const [a, b] = macRuns;
      expect(`${a},${b},${oneRun}`).toMatch(/^\d,\d,\d$/); // one digit each: the columns below
      expect(anyRecentAge(list.out)).toBe(
        [
          "NAME     POOL     LABELS       CAPACITY  STATE    RUNS  LAST SEEN",
          `mac-1    macos    arm64,xcode  4         active   ${a},${b}   Ns ago`,
          `one      macos    -            1         active   ${oneRun}     Ns ago`,
          "linux-a  default  -            1         active   -     Ns ago",
          "old-box  default  -            1         offline  -     never",
          "",
        ].join("\n"),
      );
    });

    it("--json prints the body of GET /runners", async () => {
      const list = await cli(["runners", "--json"], viewerToken);
      expect(list.code).toBe(0);
      const body = z
        .object({ runners: z.array(RunnerSchema.strict()) })
        .strict()
        .parse(JSON.parse(list.out));
      expect(body.runners.map((r) => [r.name, r.pool, r.labels, r.capacity, r.state, r.runs])).toEqual([
        ["mac-1", "macos", ["arm64", "xcode"], 4, "active", macRuns],
        ["one", "macos", [], 1, "active", [oneRun]],
        ["linux-a", "default", [], 1, "active", []],
        ["old-box", "default", [], 1, "offline", []],
      ]);
      for (const r of body.runners) {
        expect(Date.parse(r.registeredAt)).toBeGreaterThanOrEqual(registeredFrom - 1000);
        if (r.name === "old-box") expect(r.lastSeenAt).toBeNull();
        else expect(Date.parse(r.lastSeenAt ?? "")).toBeGreaterThanOrEqual(Date.parse(r.registeredAt));
      }
    });
  });

  describe("causeway runner drain and activate", () => {
    it("drains a runner, which then shows draining, and activates it again", async () => {
      const [a, b] = macRuns;
      const drained = await cli(["runner", "drain", "mac-1"]);
      expect(drained.code).toBe(0);
      expect(drained.out).toBe(
        `runner mac-1 drains: it finishes its 2 runs (${a}, ${b}) and takes no more; ` +
          "`causeway runner activate mac-1` lets it take runs again\n",
      );
      expect((await listed("mac-1"))?.state).toBe("draining");
      expect((await cli(["runners"])).out).toMatch(new RegExp(`\\nmac-1 .* draining +${a},${b} `));

      const activated = await cli(["runner", "activate", "mac-1"]);
      expect(activated.code).toBe(0);
      expect(activated.out).toBe("runner mac-1 is active: it takes runs (2 of 4 running now)\n");
      expect((await cli(["runners"])).out).toMatch(new RegExp(`\\nmac-1 .* active +${a},${b} `));
    });

    it("says what a drain means for a runner with one run, none, or offline", async () => {
      expect((await cli(["runner", "drain", "one"])).out).toMatch(
        new RegExp(`^runner one drains: it finishes its run \\(${oneRun}\\) and`),
      );
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
      const before = await listed("linux-a");
      const drained = await cli(["runner", "drain", "linux-a", "--json"]);
      expect(drained.code).toBe(0);
      const body = z.object({ runner: RunnerSchema.strict() }).strict().parse(JSON.parse(drained.out));
      expect(body.runner).toEqual({ ...before, state: "draining" });
    });

    it("names an unknown runner: RUNNER_NOT_FOUND, exit 1, with the server's hint", async () => {
      const missing = await cli(["runner", "activate", "nope"]);
      expect(missing.code).toBe(1);
      expect(missing.err).toBe("error RUNNER_NOT_FOUND: no runner named nope\n  hint: causeway runners lists them\n");
    });

    it("needs an admin token: FORBIDDEN_ROLE, exit 1, and the runner is unchanged", async () => {
      const refused = await cli(["runner", "drain", "mac-1"], viewerToken);
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/^error FORBIDDEN_ROLE: /);
      expect((await listed("mac-1"))?.state).toBe("active");
    });

    it("needs a NAME: exit 2, before asking the server", async () => {
      const refused = await cli(["runner", "drain"], adminToken, deadUrl);
      expect(refused.code).toBe(2);
      expect(refused.err).toContain("missing required argument 'name'");
    });
  });
});

describe("causeway runner without drain or activate", () => {
  it("passes its options to the agent as given", () => {
    expect(
      agentArgs({
        server: "http://ci.example:4810",
        token: "cwreg_x",
        workDir: "/var/runner",
        pool: "linux",
        labels: "a,b",
        capacity: "2",
        name: "build-7",
        sandbox: "auto",
        logFlushMs: "50",
      }),
    ).toEqual([
      "--server",
      "http://ci.example:4810",
      "--token",
      "cwreg_x",
      "--work-dir",
      "/var/runner",
      "--pool",
      "linux",
      "--labels",
      "a,b",
      "--capacity",
      "2",
      "--name",
      "build-7",
      "--sandbox",
      "auto",
      "--log-flush-ms",
      "50",
    ]);
    expect(agentArgs({ server: "http://ci.example:4810" })).toEqual(["--server", "http://ci.example:4810"]);
  });

  it("starts the agent, whose options stay its own: the agent, not the CLI, checks them", async () => {
    const workDir = await mkdtemp(join(tmpdir(), "causeway-runner-agent-"));
    try {
      // --server and --token go to the agent (not to drain's options); it refuses --capacity 0 at once.
      const agent = await new Promise<{ code: number; err: string }>((resolve) => {
        execFile(
          process.execPath,
          [BIN, "runner", "--server", url, "--token", "cwreg_x", "--work-dir", workDir, "--capacity", "0"],
          { env: { ...process.env, NO_COLOR: "1" } },
          (error, _out, err) => resolve({ code: error === null ? 0 : Number(error.code), err }),
        );
      });
      expect(agent.code).toBe(2);
      expect(agent.err).toMatch(
        /^causeway runner: --capacity must be an integer from 1 to 256\n\nusage: causeway runner /,
      );
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("the runner agent's refusals", () => {
  const agent = (workDir: string, args: string[]): Promise<{ code: number; err: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [BIN, "runner", "--server", "http://127.0.0.1:9", "--work-dir", workDir, ...args],
        { env: { ...process.env, NO_COLOR: "1" } },
        (error, _out, err) => resolve({ code: error === null ? 0 : Number(error.code), err }),
      );
    });

  it("says which option is wrong: --log-flush-ms", async () => {
    const workDir = await mkdtemp(join(tmpdir(), "causeway-runner-agent-"));
    try {
      const { code, err } = await agent(workDir, ["--token", "cwreg_x", "--log-flush-ms", "soon"]);
      expect(code).toBe(2);
      expect(err).toMatch(/^causeway runner: --log-flush-ms must be a number of milliseconds from 0 to 60000\n/);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }, 30_000);

  it.each([
    ["not JSON", "{ server:"],
    ["without its credential", JSON.stringify({ server: "http://127.0.0.1:9", name: "r" })],
  ])(
    "names a credential file that is %s, and how to mend it",
    async (_what, content) => {
      const workDir = await mkdtemp(join(tmpdir(), "causeway-runner-agent-"));
      try {
        await writeFile(join(workDir, "runner.json"), content, { mode: 0o600 });
        const { code, err } = await agent(workDir, []);
        expect(code).toBe(1);
        expect(err).toContain(`causeway runner: cannot read the credential in ${join(workDir, "runner.json")}: `);
        expect(err).toContain("remove the file and register again with a new token");
        expect(err).not.toMatch(/\n\s+at /);
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    },
    30_000,
  );
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
