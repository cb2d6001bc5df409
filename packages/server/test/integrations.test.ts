import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fileIntegrations } from "../src/integrations.js";

let dir: string;
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string, mode = 0o600): Promise<void> {
  const path = join(dir, `${name}.json`);
  await writeFile(path, text, { mode });
  await chmod(path, mode);
}

describe("integrations kept as files", () => {
  it("reads an owner-only object of strings, at each call", async () => {
    dir = await mkdtemp(join(tmpdir(), "causeway-integrations-"));
    const integrations = fileIntegrations(dir);
    expect(await integrations.get("hook-key")).toBeUndefined();
    await write("hook-key", JSON.stringify({ webhookKey: "s3cret" }));
    expect(await integrations.get("hook-key")).toEqual({ webhookKey: "s3cret" });
    await write("hook-key", JSON.stringify({ webhookKey: "rotated" }));
    expect(await integrations.get("hook-key")).toEqual({ webhookKey: "rotated" });
  });

  it("never reads outside its directory", async () => {
    dir = await mkdtemp(join(tmpdir(), "causeway-integrations-"));
    const integrations = fileIntegrations(join(dir, "inner"));
    await write("outside", JSON.stringify({ k: "v" }));
    for (const name of ["../outside", "/etc/passwd", "", ".hidden", "a/b"])
      expect(await integrations.get(name)).toBeUndefined();
  });

  it("refuses a file others can read, a file that is not an object of strings, and a huge one", async () => {
    dir = await mkdtemp(join(tmpdir(), "causeway-integrations-"));
    const integrations = fileIntegrations(dir);
    const cases: [string, string, number, string][] = [
      ["open", JSON.stringify({ k: "v" }), 0o644, "can be read by other users (mode 644)"],
      ["torn", '{"k": "v"', 0o600, "is not JSON"],
      ["list", "[]", 0o600, "must hold one JSON object"],
      ["number", JSON.stringify({ port: 25 }), 0o600, 'field "port" must be a string'],
      ["huge", JSON.stringify({ k: "x".repeat(70_000) }), 0o600, "is over 65536 bytes"],
    ];
    for (const [name, text, mode, message] of cases) {
      await write(name, text, mode);
      await expect(integrations.get(name)).rejects.toMatchObject({
        code: "INTEGRATION_INVALID",
        message: expect.stringContaining(message),
      });
    }
  });
});
