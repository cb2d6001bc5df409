import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunningServer } from "@causeway/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCausewayCli } from "./fixtures.js";
import { startLineServer, type LineServer } from "./line-server.js";

// `causeway secret` against the real server (docs/cli.md): values go in from flags and files
// and are never printed back.

process.env.TZ = "UTC";

const LINE = "jobs: []\n";

let root = "";
let server: RunningServer;
let lineServer: LineServer;

beforeAll(async () => {
  lineServer = await startLineServer("secret", LINE);
  ({ root, server } = lineServer);
}, 60_000);

afterAll(async () => {
  await lineServer.stop();
});

const cli = (argv: readonly string[]) =>
  runCausewayCli([...argv, "--server", server.url, "--token", server.token], { cwd: root });

describe("causeway secret", () => {
  it("sets from a JSON file, flags and @files, lists names only, deletes, rotates; never prints a value", async () => {
    await writeFile(join(root, "aws.json"), JSON.stringify({ accessKey: "AKIA-file-value", region: "eu-west-1" }));
    await writeFile(join(root, "id_key"), "-----BEGIN KEY-----\nfile-key-body\n-----END KEY-----\n");
    const set = await cli([
      "secret",
      "set",
      "aws",
      "--from-file",
      "aws.json",
      "--field",
      "secretKey=flag-secret-value",
      "--field",
      "privateKey=@id_key",
    ]);
    expect(set).toMatchObject({ code: 0, out: "secret aws set: accessKey, privateKey, region, secretKey\n" });
    const listed = await cli(["secret", "list"]);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^NAME +FIELDS +UPDATED\naws +accessKey,privateKey,region,secretKey +\d{4}-/);
    const json = await cli(["secret", "list", "--json"]);
    const all = [set.out, listed.out, json.out, set.err, listed.err].join("\n");
    for (const value of ["AKIA-file-value", "flag-secret-value", "file-key-body"]) expect(all).not.toContain(value);

    const rotated = await cli(["secret", "rotate-key", "--json"]);
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.out)).toMatchObject({ resealed: 4 });

    expect(await cli(["secret", "delete", "aws"])).toMatchObject({ code: 0, out: "secret aws deleted\n" });
    const again = await cli(["secret", "delete", "aws"]);
    expect(again.code).toBe(1);
    expect(again.err).toContain("SECRET_NOT_FOUND");
    expect((await cli(["secret", "list"])).out).toBe("no secrets\n");
    // Newest first; the server's own first start (its admin token, its apply) comes before.
    const audit = await cli(["audit", "--json"]);
    const actions = (JSON.parse(audit.out) as { action: string }[]).map((e) => e.action);
    expect(actions.filter((a) => a.startsWith("secret-"))).toEqual([
      "secret-delete",
      "secret-rotate-key",
      "secret-set",
    ]);
    expect(actions.indexOf("secret-set")).toBeLessThan(actions.indexOf("apply"));
  });

  it.each([
    [["secret", "set", "x"], "give the secret's fields"],
    [["secret", "set", "x", "--field", "novalue"], "KEY=VALUE"],
    [["secret", "set", "x", "--from-file", "missing.json"], "missing.json"],
    [["secret", "set", "x", "--field", "k=@missing"], "missing"],
    [["secret", "set", "../bad", "--field", "k=v"], "SECRET_INVALID"],
  ])("refuses %j with exit code 2", async (argv, message) => {
    const res = await cli(argv);
    expect(res.code).toBe(2);
    expect(res.err).toContain(message);
  });
});
