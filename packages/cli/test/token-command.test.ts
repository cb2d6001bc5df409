import { TokenCreatedSchema, TokenJsonSchema } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runCausewayCli, type CliRun } from "./fixtures.js";
import { startLineServer, type LineServer } from "./line-server.js";

// `causeway token create|list|revoke` against the real server (SQLite, engine), found by the
// server.json of its temp data directory, whose admin token the CLI uses; the tokens it makes
// are then used with --token and CAUSEWAY_TOKEN.
const LINE = `jobs:
  - name: hello
    type: runSh
    steps:
      - TASK:
          script:
            - echo hello
`;

let dataDir = "";
let lineServer: LineServer;

beforeAll(async () => {
  lineServer = await startLineServer("tokens", LINE);
  ({ dataDir } = lineServer);
}, 60_000);

afterAll(async () => {
  await lineServer.stop();
});

function cli(argv: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCausewayCli([...argv, "--data", dataDir], { env: { USER: "alice", ...env }, now: () => new Date() });
}

describe("causeway token", () => {
  it("creates a token shown once, which works with its role and no more", async () => {
    const created = await cli(["token", "create", "--role", "viewer", "--name", "dash", "--expires", "30d"]);
    expect(created.code).toBe(0);
    expect(created.err).toContain("created API token dash (viewer, expires ");
    const secret = created.out.trim();
    expect(secret).toMatch(/^cw_[A-Za-z0-9_-]{43}$/);

    // A viewer reads...
    const jobs = await cli(["runs", "--token", secret]);
    expect(jobs.code).toBe(0);
    // ...and may not trigger: FORBIDDEN_ROLE, exit 1, naming the role needed.
    const trigger = await cli(["trigger", "hello"], { CAUSEWAY_TOKEN: secret });
    expect(trigger.code).toBe(1);
    expect(trigger.err).toContain("error FORBIDDEN_ROLE:");
    expect(trigger.err).toContain("needs the operator role");
    // ...nor manage tokens.
    expect((await cli(["token", "list", "--token", secret])).err).toContain("FORBIDDEN_ROLE");
  });

  it("lists the tokens without their secrets, and --json gives the protocol shape", async () => {
    const made = await cli(["token", "create", "--role", "operator", "--name", "ci", "--json"]);
    const { token: secret } = TokenCreatedSchema.parse(JSON.parse(made.out));
    const list = await cli(["token", "list"]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^NAME +ROLE +STATE/);
    expect(list.out).toMatch(/\nadmin +admin +active +\S+ ago +system +never/);
    expect(list.out).toMatch(/\nci +operator +active +\S+ ago +alice +never +never/);
    expect(list.out).not.toContain(secret);
    const json = z.array(TokenJsonSchema).parse(JSON.parse((await cli(["token", "list", "--json"])).out));
    expect(json.map((t) => t.name)).toEqual(["admin", "dash", "ci"]);
  });

  it("revokes a token: refused from then on", async () => {
    const made = await cli(["token", "create", "--role", "operator", "--name", "temp"]);
    const secret = made.out.trim();
    expect((await cli(["runs", "--token", secret])).code).toBe(0);
    const revoked = await cli(["token", "revoke", "temp"]);
    expect(revoked.out).toBe("revoked API token temp\n");
    const refused = await cli(["runs", "--token", secret]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("error UNAUTHORIZED:");
    expect((await cli(["token", "revoke", "temp"])).err).toContain("error TOKEN_NOT_FOUND:");
    expect((await cli(["token", "list"])).out).toMatch(/\ntemp +operator +revoked/);
  });

  it("refuses bad arguments before asking the server", async () => {
    const role = await cli(["token", "create", "--role", "root"]);
    expect(role.code).toBe(2);
    expect(role.err).toContain("--role must be one of viewer, operator, admin");
    const expires = await cli(["token", "create", "--role", "viewer", "--expires", "soon"]);
    expect(expires.code).toBe(2);
    expect((await cli(["token", "create", "--role", "viewer", "--name", "dash"])).err).toContain("TOKEN_EXISTS");
  });
});
