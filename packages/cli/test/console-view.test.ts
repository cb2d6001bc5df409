import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConsoleParser, parseConsole } from "@causeway/core";
import { describe, expect, it } from "vitest";
import { makeStyle, type Style } from "../src/code-frame.js";
import { consoleText, LiveConsoleView, stepsTable } from "../src/console-view.js";

// Real consoles written by the embedded runner, shared with core's reader tests.
const real = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../core/test/console-logs/${name}.log`, import.meta.url)), "utf8");

/** Colours as visible tags, so a snapshot shows what is highlighted. */
const TAGS: Style = {
  red: (s) => `<red>${s}</red>`,
  green: (s) => `<green>${s}</green>`,
  yellow: (s) => `<yellow>${s}</yellow>`,
  blue: (s) => `<blue>${s}</blue>`,
  dim: (s) => `<dim>${s}</dim>`,
  bold: (s) => `<b>${s}</b>`,
};
const PLAIN = makeStyle(false);

/** What a live view prints when the log comes in chunks of `size` characters. */
function live(text: string, size: number, options: { style: Style; fold: boolean }): string {
  let out = "";
  const parser = new ConsoleParser();
  const view = new LiveConsoleView((s) => (out += s), options);
  for (let at = 0; at < text.length; at += size) view.show(parser.push(text.slice(at, at + size)));
  view.show(parser.end());
  return out;
}

describe("the console on a terminal", () => {
  it("one header per group with its result; commands once, with exit code and duration; failures in red; Setup and Cleanup folded", () => {
    expect(consoleText(parseConsole(real("task-failure")), { style: TAGS, fold: true })).toMatchInlineSnapshot(`
      "<dim>▸</dim> <b>Setup</b>  <green>✔</green> <dim>exit 0</dim><dim> · 2ms</dim><dim>  (2 lines folded)</dim>
      <dim>▾</dim> <b>Executing task: compile</b>  <green>✔</green> <dim>exit 0</dim><dim> · 7ms</dim>
      <b>$ echo "compiling $BUILD_NUMBER"</b>  <green>✔</green> <dim>exit 0</dim><dim> · 0ms</dim>
      compiling 1
      <b>$ echo one | tr a-z A-Z</b>
      <b>> echo two >&2</b>  <green>✔</green> <dim>exit 0</dim><dim> · 7ms</dim>
      ONE
      two
      <b>$ printf 'no newline'</b>  <green>✔</green> <dim>exit 0</dim><dim> · 0ms</dim>
      no newline
      <b>$ printf 'a\\n\\n'</b>  <green>✔</green> <dim>exit 0</dim><dim> · 0ms</dim>
      a

      <dim>▾</dim> <red><b>Executing task: test</b></red>  <red>✘ exit 2</red><dim> · 6ms</dim>
      <b>$ echo "about to fail"</b>  <green>✔</green> <dim>exit 0</dim><dim> · 0ms</dim>
      about to fail
      <red><b>$ ls /nope</b></red>  <red>✘ exit 2</red><dim> · 4ms</dim>
      ls: cannot access '/nope': No such file or directory
      <b>$ echo "it failed"</b>  <green>✔</green> <dim>exit 0</dim><dim> · 0ms</dim>
      it failed
      <b>$ echo always</b>  <green>✔</green> <dim>exit 0</dim><dim> · 0ms</dim>
      always
      <dim>▸</dim> <b>Cleanup</b>  <green>✔</green> <dim>exit 0</dim><dim> · 0ms</dim><dim>  (3 lines folded)</dim>
      "
    `);
  });

  it("a Setup that failed is unfolded", () => {
    expect(consoleText(parseConsole(real("setup-error")), { style: PLAIN, fold: true })).toMatchInlineSnapshot(`
      "▾ Setup  ✘ exit 1 · 156ms
      error: runtime.container is true but this runner has no container engine
      ▸ Cleanup  ✔ exit 0 · 0ms  (1 line folded)
      "
    `);
  });

  it("a run going on: open groups and commands are running, the last line so far is shown", () => {
    const parser = new ConsoleParser();
    parser.push(`${real("cancelled").split("Terminated")[0] ?? ""}half a li`);
    expect(consoleText(parser.model, { style: PLAIN, fold: true }, parser.partialLine)).toMatchInlineSnapshot(`
      "▸ Setup  ✔ exit 0 · 0ms  (1 line folded)
      ▾ Executing task: wait  ⋯ running
      $ echo "waiting"  ✔ exit 0 · 0ms
      waiting
      $ sleep 30  ⋯ running
      half a li
      "
    `);
  });

  it("a log cut short (a lost runner): what never ended did not finish", () => {
    const model = parseConsole(real("cancelled").split("Terminated")[0] ?? "");
    expect(consoleText(model, { style: PLAIN, fold: true })).toContain("$ sleep 30  ✘ did not finish\n");
  });
});

describe("the console through a pipe", () => {
  it("is the same text without colours, every group unfolded, output lines intact", () => {
    const text = consoleText(parseConsole(real("escapes")), { style: PLAIN, fold: false });
    // (Carriage returns shown as \r: a snapshot would take them for line breaks.)
    expect(text.replace(/\r/g, "\\r")).toMatchInlineSnapshot(`
      "▾ Setup  ✔ exit 0 · 0ms
      workspace: /dev/shm/causeway-0bf041354ece/3-1
      ▾ Executing task: pipes | and \\ back  ✔ exit 0 · 5ms
      $ echo 'a|b' | cut -d'|' -f2  ✔ exit 0 · 2ms
      b
      $ printf '%s\\n' 'C:\\dir' "tab	x"  ✔ exit 0 · 0ms
      C:\\dir
      tab	x
      $ printf 'progress 1\\rprogress 2\\r\\n'  ✔ exit 0 · 1ms
      progress 1\\rprogress 2\\r
      $ echo '__SH__not a marker'  ✔ exit 0 · 0ms
      __SH__not a marker
      $ seq 1 5  ✔ exit 0 · 2ms
      1
      2
      3
      4
      5
      ▾ Cleanup  ✔ exit 0 · 0ms
      state: empty
      workspace removed
      status: success
      "
    `);
    expect(text).toContain("progress 1\rprogress 2\r\n");
  });

  it("keeps a long output whole", () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${"x".repeat(i % 300)}`);
    const log = [
      '__SH__CMD__START__|{"type":"cmd","sequenceNumber":1,"id":"t1-1"}|gen',
      ...lines,
      "",
      '__SH__CMD__END__|{"type":"cmd","sequenceNumber":1,"id":"t1-1","exitcode":"0","durationMs":1400}|gen',
      "",
    ].join("\n");
    expect(consoleText(parseConsole(log), { style: PLAIN, fold: false })).toBe(
      `$ gen  ✔ exit 0 · 1.4s\n${lines.join("\n")}\n`,
    );
  });
});

describe("the live console (logs --follow)", () => {
  it("prints groups and commands as they start; results on the prompt when nothing was printed, else below", () => {
    expect(live(real("task-failure"), 1_000_000, { style: PLAIN, fold: false })).toMatchInlineSnapshot(`
      "▾ Setup
      workspace: /dev/shm/causeway-0bf041354ece/1-1-6aa97b5c
      IN cfg (params): version 1
      ▴ Setup  ✔ exit 0 · 2ms
      ▾ Executing task: compile
      $ echo "compiling $BUILD_NUMBER"
      compiling 1
        ✔ exit 0 · 0ms
      $ echo one | tr a-z A-Z
      > echo two >&2
      ONE
      two
        ✔ exit 0 · 7ms
      $ printf 'no newline'
      no newline
        ✔ exit 0 · 0ms
      $ printf 'a\\n\\n'
      a

        ✔ exit 0 · 0ms
      ▴ Executing task: compile  ✔ exit 0 · 7ms
      ▾ Executing task: test
      $ echo "about to fail"
      about to fail
        ✔ exit 0 · 0ms
      $ ls /nope
      ls: cannot access '/nope': No such file or directory
        ✘ exit 2 · 4ms
      $ echo "it failed"
      it failed
        ✔ exit 0 · 0ms
      $ echo always
      always
        ✔ exit 0 · 0ms
      ▴ Executing task: test  ✘ exit 2 · 6ms
      ▾ Cleanup
      state: empty
      workspace removed
      status: failure (task "test" failed with exit code 2)
      ▴ Cleanup  ✔ exit 0 · 0ms
      "
    `);
  });

  it.each(["task-failure", "escapes", "setup-error", "cancelled"])(
    "%s: the same text whatever the chunks the log comes in",
    (name) => {
      const text = real(name);
      const whole = live(text, text.length, { style: PLAIN, fold: true });
      for (const size of [1, 5, 64]) expect(live(text, size, { style: PLAIN, fold: true })).toBe(whole);
    },
  );

  it("on a terminal, a group folded at first shows a transient title, then its header once it ended", () => {
    const out = live(real("setup-error"), 1_000_000, { style: PLAIN, fold: true });
    expect(out).toBe(
      "▸ Setup …\r\u001b[2K▾ Setup  ✘ exit 1 · 156ms\n" +
        "error: runtime.container is true but this runner has no container engine\n" +
        "▸ Cleanup …\r\u001b[2K▸ Cleanup  ✔ exit 0 · 0ms  (1 line folded)\n",
    );
  });

  it("a command with no output gets its result on its prompt line", () => {
    const out = live(real("cancelled"), 1_000_000, { style: PLAIN, fold: true });
    expect(out).toContain("$ sleep 30\nTerminated\n  ✘ exit 143 · 1.4s\n");
    expect(live(real("escapes"), 1, { style: PLAIN, fold: false })).toContain("$ echo 'a|b' | cut -d'|' -f2\nb\n");
  });
});

describe("docs/console-format.md", () => {
  it("'Reading a console' shows what logs prints for the document's example", () => {
    const doc = readFileSync(fileURLToPath(new URL("../../../docs/console-format.md", import.meta.url)), "utf8");
    const blockAfter = (heading: string): string => {
      const at = doc.indexOf("```text\n", doc.indexOf(heading)) + "```text\n".length;
      return doc.slice(at, doc.indexOf("```\n", at));
    };
    const example = blockAfter("## Example");
    expect(example).toContain("__SH__CMD__START__");
    expect(consoleText(parseConsole(example), { style: PLAIN, fold: true })).toBe(blockAfter("## Reading a console"));
  });
});

describe("the steps of a run (causeway run)", () => {
  it("one row per group and command, with result, exit code and duration", () => {
    expect(stepsTable(parseConsole(real("task-failure")), PLAIN)).toMatchInlineSnapshot(`
      "   EXIT  DURATION  STEP
      ✔  0     2ms       Setup
      ✔  0     7ms       Executing task: compile
      ✔  0     0ms         $ echo "compiling $BUILD_NUMBER"
      ✔  0     7ms         $ echo one | tr a-z A-Z …
      ✔  0     0ms         $ printf 'no newline'
      ✔  0     0ms         $ printf 'a\\n\\n'
      ✘  2     6ms       Executing task: test
      ✔  0     0ms         $ echo "about to fail"
      ✘  2     4ms         $ ls /nope
      ✔  0     0ms         $ echo "it failed"
      ✔  0     0ms         $ echo always
      ✔  0     0ms       Cleanup
      "
    `);
  });

  it("is empty for a run with no console yet", () => {
    expect(stepsTable(parseConsole(""), PLAIN)).toBe("");
  });
});
