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

describe("RunLog marks and rewinds (a restart under a remote runner)", () => {
  async function opened(id: number): Promise<{ log: RunLog; file: string }> {
    const dir = await mkdtemp(join(tmpdir(), "causeway-run-log-"));
    dirs.push(dir);
    const log = new RunLog(new FileLogStore(dir), id, () => undefined, 64);
    expect(await log.create()).toBe(true);
    return { log, file: join(dir, `${id}.log`) };
  }

  it("says the log's length, and what the redactor holds back as it came", async () => {
    const { log } = await opened(3);
    log.write(enc("plain\n"));
    expect(await log.flushed()).toEqual({ length: 6, held: 0 });
    log.redact([SECRET]);
    log.write(enc(`a ${SECRET.slice(0, 5)}`));
    // Everything is held: it may be the start of the secret.
    expect(await log.flushed()).toEqual({ length: 6, held: 7 });
    log.write(enc(`${SECRET.slice(5)} b\n`));
    const mark = await log.flushed();
    expect(mark.held).toBeGreaterThan(0);
    await log.close();
  });

  it("cuts a reopened log back, then appends after what it kept; past the limit it stays capped", async () => {
    const { log, file } = await opened(4);
    log.write(enc("kept\nlost\n"));
    await log.flushed();
    await log.close();
    const again = new RunLog(new FileLogStore(join(file, "..")), 4, () => undefined, 64);
    expect(await again.reopen()).toBe(true);
    await again.rewind(5);
    again.write(enc("more\n"));
    expect(await again.flushed()).toEqual({ length: 10, held: 0 });
    expect(await again.close()).toBeUndefined();
    expect(await readFile(file, "utf8")).toBe("kept\nmore\n");
  });

  it("a reopened log already at its limit takes no more bytes and no second marker", async () => {
    const { log, file } = await opened(5);
    log.write(enc("x".repeat(100)));
    await log.close();
    const before = await readFile(file, "utf8");
    expect(before).toContain("reached its limit");
    const again = new RunLog(new FileLogStore(join(file, "..")), 5, () => undefined, 64);
    expect(await again.reopen()).toBe(true);
    again.write(enc("late\n"));
    await again.close();
    expect(await readFile(file, "utf8")).toBe(before);
  });
});

describe("LogRedactor across chunk boundaries", () => {
  it("writes the same text however the console is cut, and after a restart from the bytes it held", () => {
    const secrets = [SECRET, "ab-ab-ab-ab"];
    const text = `x ${SECRET} y ab-ab-ab-ab-ab-ab ${SECRET}${SECRET} ${Buffer.from(SECRET).toString("base64")} z\n`;
    const whole = LogRedactor.of(secrets)!;
    const expected = Buffer.concat([whole.push(enc(text)), whole.flush()]).toString();
    expect(expected).not.toContain(SECRET);
    for (let size = 1; size <= 23; size++) {
      const redactor = LogRedactor.of(secrets)!;
      const out: Buffer[] = [];
      let taken = 0;
      for (let i = 0; i < text.length; i += size) {
        const chunk = enc(text.slice(i, i + size));
        out.push(redactor.push(chunk));
        taken += chunk.byteLength;
        // A restart here: what was written, then the console again from the held bytes on,
        // through a new redactor, is the same text.
        const fresh = LogRedactor.of(secrets)!;
        const resumed = [...out, fresh.push(enc(text.slice(taken - redactor.held))), fresh.flush()];
        expect(Buffer.concat(resumed).toString(), `restart after ${taken} bytes`).toBe(expected);
      }
      out.push(redactor.flush());
      expect(Buffer.concat(out).toString(), `chunks of ${size}`).toBe(expected);
    }
  });
});
