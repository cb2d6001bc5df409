import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startCanned, startSse, type CannedServer } from "./canned-server.js";
import { makeRun, runCausewayCli } from "./fixtures.js";

// `logs --follow` across dropped connections: the view and the raw text go on where they
// stopped, even when the stream cuts a marker in two or a resumed stream repeats bytes.

let server: CannedServer;
beforeEach(async () => {
  server = await startCanned();
});
afterEach(() => server.close());

const LOG = [
  '__SH__GROUP__START__|{"type":"grp","sequenceNumber":1,"id":"t1","is_shown":"true"}|Executing task: build',
  '__SH__CMD__START__|{"type":"cmd","sequenceNumber":1,"id":"t1-1"}|echo héllo',
  "héllo",
  "",
  '__SH__CMD__END__|{"type":"cmd","sequenceNumber":1,"id":"t1-1","exitcode":"0","durationMs":86}|echo héllo',
  '__SH__CMD__START__|{"type":"cmd","sequenceNumber":2,"id":"t1-2"}|false',
  "",
  '__SH__CMD__END__|{"type":"cmd","sequenceNumber":2,"id":"t1-2","exitcode":"1","durationMs":1400}|false',
  '__SH__GROUP__END__|{"type":"grp","sequenceNumber":1,"id":"t1","is_shown":"false","exitcode":"1","durationMs":1486}|Executing task: build',
  "__SH__SCRIPT_END_FAILURE__",
  "",
].join("\n");
const bytes = Buffer.from(LOG, "utf8");

/** The log's bytes [from, to) as a log event (cut points fall on character boundaries). */
const event = (from: number, to: number): string =>
  `event: log\nid: ${to}\ndata: ${JSON.stringify({ offset: from, text: bytes.subarray(from, to).toString("utf8") })}\n\n`;

/**
 * Three connections: the first drops in the middle of the first command's START marker; the
 * second resumes where asked but repeats 10 bytes already sent (overlap), then drops after
 * "héllo"; the third sends the rest and the end.
 */
function serveWithDrops(): number[] {
  const asked: number[] = [];
  const cut1 = LOG.indexOf("|echo héllo") - 5;
  const cut2 = bytes.indexOf("héllo\n") + Buffer.byteLength("héllo\n");
  server.on("GET /api/v1/runs/9/logs/stream", (req, res) => {
    const offset = Number(req.query.get("offset"));
    asked.push(offset);
    startSse(res);
    if (asked.length === 1) res.end(event(0, cut1));
    else if (asked.length === 2) res.end(event(offset - 10, cut2));
    else {
      res.write(event(offset, bytes.byteLength));
      res.end(`event: end\ndata: ${JSON.stringify(makeRun({ id: 9, status: "failure" }))}\n\n`);
    }
  });
  return asked;
}

const cli = (...argv: string[]) => runCausewayCli([...argv, "--server", server.url, "--token", "t"]);

describe("logs --follow resumes without repeating text", () => {
  it("the view", async () => {
    const asked = serveWithDrops();
    const run = await cli("logs", "9", "--follow");
    expect(run.code).toBe(1);
    expect(run.out).toBe(
      [
        "▾ Executing task: build",
        "$ echo héllo",
        "héllo",
        "  ✔ exit 0 · 86ms",
        "$ false  ✘ exit 1 · 1.4s",
        "▴ Executing task: build  ✘ exit 1 · 1.4s",
        "",
      ].join("\n"),
    );
    expect(asked).toHaveLength(3);
  });

  it("--raw", async () => {
    serveWithDrops();
    const run = await cli("logs", "9", "--follow", "--raw");
    expect(run).toEqual({ code: 1, out: LOG, err: "" });
  });

  it("--json: each piece once, with its byte offset", async () => {
    serveWithDrops();
    const run = await cli("logs", "9", "--follow", "--json");
    const lines = run.out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind: string; offset?: number; text?: string });
    const pieces = lines.filter((l) => l.kind === "log");
    expect(pieces.map((p) => p.text).join("")).toBe(LOG);
    let at = 0;
    for (const p of pieces) {
      expect(p.offset).toBe(at);
      at += Buffer.byteLength(p.text ?? "");
    }
    expect(lines.at(-1)).toMatchObject({ kind: "end", run: { id: 9, status: "failure" } });
  });
});
