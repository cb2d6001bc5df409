import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  ConsoleParser,
  consoleFailed,
  parseConsole,
  unescapeMarkerText,
  type ConsoleCommand,
  type ConsoleEvent,
  type ConsoleGroup,
  type ConsoleLine,
  type ConsoleModel,
} from "../src/index.js";

// Real consoles, written by the embedded runner (`causeway up` on a small line, then the
// data directory's logs/<run>.log): a failing task with hooks, escapes in titles and commands,
// a Setup error, a cancelled run.
const LOGS = join(dirname(fileURLToPath(import.meta.url)), "console-logs");
const real = (name: string): string => readFileSync(join(LOGS, `${name}.log`), "utf8");
const REAL = ["task-failure", "escapes", "setup-error", "cancelled"] as const;

/** The model as indented text: one line per group, command, output line and plain line. */
function describeModel(model: ConsoleModel): string {
  const out: string[] = [];
  const result = (x: ConsoleGroup | ConsoleCommand): string =>
    x.status === "ended" ? `exit ${x.exitCode ?? "?"} ${x.durationMs ?? "?"}ms` : x.status;
  const entry = (e: ConsoleGroup | ConsoleCommand | ConsoleLine, indent: string): void => {
    if (e.kind === "line") out.push(`${indent}. ${JSON.stringify(e.text)}`);
    else if (e.kind === "command") {
      out.push(`${indent}$ ${e.id} ${JSON.stringify(e.text)} ${result(e)}${e.endsWithLineBreak ? "" : " (no eol)"}`);
      for (const line of e.output) out.push(`${indent}  | ${JSON.stringify(line)}`);
    } else {
      const script = e.scriptEnd === null ? "" : ` script ${e.scriptEnd}`;
      out.push(`${indent}# ${e.id} ${JSON.stringify(e.title)} ${e.shown ? "shown" : "folded"} ${result(e)}${script}`);
      for (const inner of e.entries) entry(inner, `${indent}  `);
    }
  };
  for (const e of model.entries) entry(e, "");
  return out.join("\n");
}

/** The events as short strings, to compare streams read in different chunks. */
function describeEvents(events: readonly ConsoleEvent[]): string[] {
  return events.map((e) => {
    if (e.type === "line") return `line ${e.command?.id ?? e.group?.id ?? "-"} ${JSON.stringify(e.text)}`;
    if (e.type === "script-end") return `script-end ${e.result} ${e.group?.id ?? "-"}`;
    if (e.type === "group-start" || e.type === "group-end") return `${e.type} ${e.group.id}`;
    return `${e.type} ${e.command.id}`;
  });
}

/** Reads `text` in chunks of `size` characters; returns the model and every event. */
function readInChunks(text: string, size: number): { model: ConsoleModel; events: string[] } {
  const parser = new ConsoleParser();
  const events: ConsoleEvent[] = [];
  for (let at = 0; at < text.length; at += size) events.push(...parser.push(text.slice(at, at + size)));
  events.push(...parser.end());
  return { model: parser.model, events: describeEvents(events) };
}

function readAll(text: string): { model: ConsoleModel; events: string[] } {
  return readInChunks(text, Math.max(1, text.length));
}

describe("real consoles", () => {
  it("a failing task: commands with their output, the failing one's exit code, the hooks, folded Setup and Cleanup", () => {
    expect(describeModel(parseConsole(real("task-failure")))).toMatchInlineSnapshot(`
      "# setup "Setup" folded exit 0 2ms
        . "workspace: /dev/shm/causeway-0bf041354ece/1-1-6aa97b5c"
        . "IN cfg (params): version 1"
      # t1 "Executing task: compile" shown exit 0 7ms script success
        $ t1-1 "echo \\"compiling $BUILD_NUMBER\\"" exit 0 0ms
          | "compiling 1"
        $ t1-2 "echo one | tr a-z A-Z\\necho two >&2" exit 0 7ms
          | "ONE"
          | "two"
        $ t1-3 "printf 'no newline'" exit 0 0ms (no eol)
          | "no newline"
        $ t1-4 "printf 'a\\\\n\\\\n'" exit 0 0ms
          | "a"
          | ""
      # t2 "Executing task: test" shown exit 2 6ms script failure
        $ t2-1 "echo \\"about to fail\\"" exit 0 0ms
          | "about to fail"
        $ t2-2 "ls /nope" exit 2 4ms
          | "ls: cannot access '/nope': No such file or directory"
        $ t2-4 "echo \\"it failed\\"" exit 0 0ms
          | "it failed"
        $ t2-5 "echo always" exit 0 0ms
          | "always"
      # cleanup "Cleanup" folded exit 0 0ms
        . "state: empty"
        . "workspace removed"
        . "status: failure (task \\"test\\" failed with exit code 2)""
    `);
  });

  it("escapes undone; `|` after the second `|` belongs to the text; a line starting __SH__ that is no marker is output", () => {
    const model = parseConsole(real("escapes"));
    const task = model.entries[1] as ConsoleGroup;
    expect(task.title).toBe("Executing task: pipes | and \\ back");
    const commands = task.entries as ConsoleCommand[];
    expect(commands.map((c) => c.text)).toEqual([
      "echo 'a|b' | cut -d'|' -f2",
      "printf '%s\\n' 'C:\\dir' \"tab\tx\"",
      "printf 'progress 1\\rprogress 2\\r\\n'",
      "echo '__SH__not a marker'",
      "seq 1 5",
    ]);
    expect(commands.map((c) => c.output)).toEqual([
      ["b"],
      ["C:\\dir", "tab\tx"],
      ["progress 1\rprogress 2\r"],
      ["__SH__not a marker"],
      ["1", "2", "3", "4", "5"],
    ]);
  });

  it("a Setup error: the group fails with the reason as its last line, no task group", () => {
    expect(describeModel(parseConsole(real("setup-error")))).toMatchInlineSnapshot(`
      "# setup "Setup" folded exit 1 156ms
        . "error: runtime.container is true but this runner has no container engine"
      # cleanup "Cleanup" folded exit 0 0ms
        . "status: error (runtime.container is true but this runner has no container engine)""
    `);
  });

  it("a cancelled run: the running command and its group end with 143", () => {
    const model = parseConsole(real("cancelled"));
    const task = model.entries[1] as ConsoleGroup;
    expect(task).toMatchObject({ status: "ended", exitCode: 143, durationMs: 1413, scriptEnd: "failure" });
    expect(task.entries[1]).toMatchObject({ text: "sleep 30", exitCode: 143, output: ["Terminated"] });
    expect(consoleFailed(task)).toBe(true);
  });

  it.each(REAL.flatMap((name) => [1, 2, 3, 7, 64, 1000].map((size) => [name, size] as const)))(
    "%s read in chunks of %d characters gives the same model and events as read at once",
    (name, size) => {
      const text = real(name);
      const whole = readAll(text);
      const chunked = readInChunks(text, size);
      expect(describeModel(chunked.model)).toBe(describeModel(whole.model));
      expect(chunked.events).toEqual(whole.events);
    },
  );

  it("events come in the order of the log, each output line once", () => {
    const { events } = readAll(real("cancelled"));
    expect(events).toEqual([
      "group-start setup",
      'line setup "workspace: /dev/shm/causeway-0bf041354ece/5-1"',
      "group-end setup",
      "group-start t1",
      "command-start t1-1",
      'line t1-1 "waiting"',
      "command-end t1-1",
      "command-start t1-2",
      'line t1-2 "Terminated"',
      "command-end t1-2",
      "group-end t1",
      "script-end failure t1",
      "group-start cleanup",
      'line cleanup "state: empty"',
      'line cleanup "workspace removed"',
      'line cleanup "status: cancelled (cancelled by a user)"',
      "group-end cleanup",
    ]);
  });
});

const START = '__SH__CMD__START__|{"type":"cmd","sequenceNumber":1000,"id":"t1-1"}|cmd';
const END = '__SH__CMD__END__|{"type":"cmd","sequenceNumber":1000,"id":"t1-1","exitcode":"0","durationMs":5}|cmd';

describe("exactly one line break before a command's END is the runner's", () => {
  // The runner writes START, the output as the command wrote it, then "\n" and the END.
  it.each([
    ["no output", "", [], false],
    ["a line", "a\n", ["a"], true],
    ["no final line break", "a", ["a"], false],
    ["a blank line after", "a\n\n", ["a", ""], true],
    ["two blank lines after", "a\n\n\n", ["a", "", ""], true],
    ["only a line break", "\n", [""], true],
    ["blank lines before", "\n\na", ["", "", "a"], false],
    ["a line then an unterminated one", "a\nb", ["a", "b"], false],
  ])("%s", (_what, output, lines, eol) => {
    const log = `${START}\n${output}\n${END}\n`;
    for (const size of [1, 2, log.length]) {
      const { model } = readInChunks(log, size);
      const command = model.entries[0] as ConsoleCommand;
      expect(command).toMatchObject({ status: "ended", exitCode: 0, durationMs: 5, output: lines });
      expect(command.endsWithLineBreak).toBe(eol);
      expect(command.output.join("\n") + (command.endsWithLineBreak ? "\n" : "")).toBe(output);
    }
  });
});

describe("groups and commands left open", () => {
  // A run whose task was killed by SIGKILL, or a log read while the run goes on.
  const truncated = real("cancelled").split("Terminated")[0] ?? "";

  it("stay open while the log may grow", () => {
    const parser = new ConsoleParser();
    parser.push(`${truncated}half a li`);
    const task = parser.model.entries[1] as ConsoleGroup;
    expect(task.status).toBe("open");
    expect(task.entries[1]).toMatchObject({ text: "sleep 30", status: "open", output: [] });
    expect(parser.partialLine).toBe("half a li");
  });

  it("are closed at the end of the log, with no exit code; the last line without a line break is read", () => {
    const parser = new ConsoleParser();
    parser.push(`${truncated}half a li`);
    const events = describeEvents(parser.end());
    expect(events).toEqual(['line t1-2 "half a li"', "command-end t1-2", "group-end t1"]);
    const task = parser.model.entries[1] as ConsoleGroup;
    expect(task).toMatchObject({ status: "unfinished", exitCode: null, durationMs: null });
    expect(task.entries[1]).toMatchObject({ status: "unfinished", exitCode: null, output: ["half a li"] });
    expect(consoleFailed(task)).toBe(true);
    expect(parser.end()).toEqual([]);
    expect(parser.push("more\n")).toEqual([]);
  });

  it("a group start closes the open command and group as unfinished (the next group of a killed task)", () => {
    const model = parseConsole(
      `${truncated}\n\n__SH__GROUP__START__|{"type":"grp","sequenceNumber":2,"id":"cleanup","is_shown":"false"}|Cleanup\nstatus: lost\n`,
    );
    expect(describeModel(model)).toContain(`$ t1-2 "sleep 30" unfinished\n    | ""\n    | ""`);
    expect(model.entries[2]).toMatchObject({ id: "cleanup", status: "unfinished", shown: false });
  });

  it("a command start closes the open command", () => {
    const model = parseConsole(`${START}\nx\n${START.replace("t1-1", "t1-2")}\n`);
    expect(model.entries.map((e) => (e as ConsoleCommand).status)).toEqual(["unfinished", "unfinished"]);
  });
});

describe("malformed and unmatched markers are plain text, never an error", () => {
  const GROUP = '__SH__GROUP__START__|{"type":"grp","sequenceNumber":1,"id":"t1","is_shown":"true"}|Task';
  it.each([
    ["no `|`", "__SH__GROUP__START__"],
    ["one `|`", '__SH__GROUP__START__|{"id":"x"}'],
    ["bad JSON", "__SH__CMD__START__|{id: x}|cmd"],
    ["JSON not an object", "__SH__CMD__START__|[1]|cmd"],
    ["no id", '__SH__CMD__START__|{"type":"cmd"}|cmd'],
    ["a number id", '__SH__CMD__START__|{"id":3}|cmd'],
    ["an unknown kind", '__SH__STEP__START__|{"id":"x"}|step'],
    ["a CMD END with no command open", '__SH__CMD__END__|{"id":"t1-9","exitcode":"0"}|cmd'],
    ["a GROUP END of another group", '__SH__GROUP__END__|{"id":"t9","exitcode":"0"}|Other'],
    ["a script end with more text", "__SH__SCRIPT_END_SUCCESS__ "],
    ["a marker not at the start of a line", ` ${START}`],
  ])("%s", (_what, line) => {
    const model = parseConsole(`${GROUP}\n${line}\n`);
    expect((model.entries[0] as ConsoleGroup).entries).toEqual([{ kind: "line", text: line }]);
  });

  it("inside a command, they are its output", () => {
    const bad = '__SH__CMD__END__|{"id":"t1-7","exitcode":"0"}|other';
    const model = parseConsole(`${START}\n${bad}\n\n${END}\n`);
    expect(model.entries[0]).toMatchObject({ status: "ended", output: [bad] });
  });

  it("exit codes and durations that are not numbers are null", () => {
    const model = parseConsole(`${START}\n\n${END.replace('"exitcode":"0","durationMs":5', '"exitcode":"x"')}\n`);
    expect(model.entries[0]).toMatchObject({ status: "ended", exitCode: null, durationMs: null });
    expect(consoleFailed(model.entries[0] as ConsoleCommand)).toBe(true);
  });

  it("never throws on arbitrary text (a deterministic sample)", () => {
    const pieces = [START, END, "__SH__", "|", "{", "}", '"id":"t1-1"', "\n", "\r", "x", "__SH__SCRIPT_END_FAILURE__"];
    let seed = 7;
    const next = (n: number): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    for (let i = 0; i < 500; i++) {
      const parser = new ConsoleParser();
      for (let j = 0; j < 20; j++) parser.push(pieces[next(pieces.length)] ?? "");
      expect(() => parser.end()).not.toThrow();
    }
  });
});

describe("plain lines and script ends", () => {
  it("lines outside groups are top-level; script end markers are not lines and mark the last group", () => {
    const model = parseConsole(
      `before\n${real("escapes").split('__SH__GROUP__START__|{"type":"grp","sequenceNumber":1796279051353')[0]}after\n`,
    );
    expect(model.entries[0]).toEqual({ kind: "line", text: "before" });
    expect(model.entries.at(-1)).toEqual({ kind: "line", text: "after" });
    expect((model.entries[2] as ConsoleGroup).scriptEnd).toBe("success");
  });
});

describe("unescapeMarkerText", () => {
  it.each([
    ["a\\\\b", "a\\b"],
    ["a\\nb", "a\nb"],
    ["a\\rb", "a\rb"],
    ["a\\\\nb", "a\\nb"],
    ["a\\tb", "a\\tb"],
    ["trailing \\", "trailing \\"],
  ])("%s -> %j", (text, plain) => expect(unescapeMarkerText(text)).toBe(plain));
});
