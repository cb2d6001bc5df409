import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileLogStore } from "@causeway/store";
import { afterEach, describe, expect, it } from "vitest";
import { LogRedactor } from "../src/log-redactor.js";
import { RunLog } from "../src/run-log.js";

// A run's console is redacted as it is written (issue 11): a secret in any of its forms, even
// split across two chunks, never reaches the log file.

const SECRET = "hunter2-very-secret";
const enc = (text: string): Uint8Array => new TextEncoder().encode(text);

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Writes `chunks` through a RunLog redacting `secrets` into a real log store; the file's text. */
async function logged(secrets: readonly string[], chunks: readonly string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "causeway-run-log-"));
  dirs.push(dir);
  const logs = new FileLogStore(dir);
  const log = new RunLog(logs, 1, () => undefined);
  expect(await log.create()).toBe(true);
  log.redact(secrets);
  for (const chunk of chunks) log.write(enc(chunk));
  expect(await log.close()).toBeUndefined();
  return readFile(join(dir, "1.log"), "utf8");
}

describe("RunLog redaction", () => {
  it.each([
    ["plain", [`token ${SECRET}\n`], "token ***\n"],
    ["split across two chunks", [`token ${SECRET.slice(0, 7)}`, `${SECRET.slice(7)} done\n`], "token *** done\n"],
    ["split across many chunks", [...`a ${SECRET} b\n`], "a *** b\n"],
    ["base64", [`b64 ${Buffer.from(SECRET).toString("base64")}\n`], "b64 ***\n"],
    ["inside a longer base64 text", [`${Buffer.from(`user:${SECRET}`).toString("base64")}\n`], "dXNlcjp***\n"],
    ["JSON-escaped", [`{"v":${JSON.stringify('q"' + SECRET)}}\n`], '{"v":"***"}\n'],
  ])("%s", async (_what, chunks, expected) => {
    const secrets = _what === "JSON-escaped" ? ['q"' + SECRET] : [SECRET];
    expect(await logged(secrets, chunks)).toBe(expected);
  });

  it("a multi-line secret, split inside a line", async () => {
    const key = "-----BEGIN-----\nAAAABBBBCCCC\n-----END-----";
    expect(await logged([key], ["before\n-----BEGIN-----\nAAAA", "BBBBCCCC\n-----END-----\nafter\n"])).toBe(
      "before\n***\nafter\n",
    );
  });

  it("keeps every other byte, multi-byte characters cut between chunks included", async () => {
    const text = "héllo wörld ✓\n";
    const bytes = Buffer.from(text);
    const dir = await mkdtemp(join(tmpdir(), "causeway-run-log-"));
    dirs.push(dir);
    const log = new RunLog(new FileLogStore(dir), 2, () => undefined);
    await log.create();
    log.redact([SECRET]);
    for (let i = 0; i < bytes.length; i += 3) log.write(bytes.subarray(i, i + 3));
    await log.close();
    expect(await readFile(join(dir, "2.log"), "utf8")).toBe(text);
  });

  it("holds back at most the longest form less one byte, and nothing for values too short to redact", () => {
    const redactor = LogRedactor.of([SECRET])!;
    const out = redactor.push(enc("x".repeat(100)));
    const held = 100 - out.length;
    expect(held).toBeLessThan(Buffer.from(SECRET).toString("base64").length + 1);
    expect(held).toBeGreaterThan(0);
    expect(redactor.flush().length).toBe(held);
    expect(LogRedactor.of(["abc"])).toBeUndefined();
  });
});
