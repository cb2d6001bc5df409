import { describe, expect, it } from "vitest";
import { failingCommand } from "../src/failing-command.js";

// Consoles written as docs/console-format.md describes them.
const T = 1795791839745;
const groupStart = (id: string, title: string): string =>
  `__SH__GROUP__START__|{"type":"grp","sequenceNumber":${T},"id":"${id}","is_shown":"true"}|${title}`;
const groupEnd = (id: string, title: string, exit: number): string =>
  `__SH__GROUP__END__|{"type":"grp","sequenceNumber":${T},"id":"${id}","is_shown":"false","exitcode":"${exit}","durationMs":14}|${title}`;
const command = (id: string, text: string, exit: number, output = ""): string[] => [
  `__SH__CMD__START__|{"type":"cmd","sequenceNumber":${T},"id":"${id}"}|${text}`,
  ...(output === "" ? [] : [output]),
  "",
  `__SH__CMD__END__|{"type":"cmd","sequenceNumber":${T},"id":"${id}","exitcode":"${exit}","durationMs":3}|${text}`,
];
const setup = [groupStart("setup", "Setup"), "workspace: /tmp/w", groupEnd("setup", "Setup", 0)];
const cleanup = (status: string): string[] => [
  groupStart("cleanup", "Cleanup"),
  "workspace removed",
  `status: ${status}`,
  groupEnd("cleanup", "Cleanup", 0),
];
const consoleOf = (...lines: (string | string[])[]): string => `${lines.flat().join("\n")}\n`;

describe("failingCommand", () => {
  it("finds the command that stopped the task, not the on_failure hook that failed after it", () => {
    const text = consoleOf(
      setup,
      groupStart("t1", "Executing task: test"),
      command("t1-1", "echo testing", 0, "testing"),
      command("t1-2", "make test", 2, "make: *** [test] Error 2"),
      command("t1-3", "notify-team", 127, "bash: notify-team: command not found"),
      groupEnd("t1", "Executing task: test", 2),
      "__SH__SCRIPT_END_FAILURE__",
      cleanup('failure (task "test" failed with exit code 2)'),
    );
    expect(failingCommand(text)).toEqual({ command: "make test", exitCode: 2, task: "test" });
  });

  it("finds it in a later task, after tasks that succeeded", () => {
    const text = consoleOf(
      setup,
      groupStart("t1", "Executing task: build"),
      command("t1-1", "true", 0),
      groupEnd("t1", "Executing task: build", 0),
      "__SH__SCRIPT_END_SUCCESS__",
      groupStart("t2", "Task 2"),
      command("t2-1", "grep -q x a|b", 1),
      groupEnd("t2", "Task 2", 1),
      "__SH__SCRIPT_END_FAILURE__",
      cleanup("failure"),
    );
    // The command's text may hold `|`; a task without a name has no task name.
    expect(failingCommand(text)).toEqual({ command: "grep -q x a|b", exitCode: 1, task: undefined });
  });

  it("finds a command whose start (and most of its output) was cut from the tail", () => {
    const whole = consoleOf(
      groupStart("t1", "Executing task: test"),
      command("t1-1", "npm test", 1, "x".repeat(1000)),
      groupEnd("t1", "Executing task: test", 1),
      cleanup("failure"),
    );
    const tail = whole.slice(whole.indexOf("xxxxx") + 500);
    expect(failingCommand(tail)).toEqual({ command: "npm test", exitCode: 1, task: "test" });
  });

  it("undoes the escapes of a block command", () => {
    const text = consoleOf(
      groupStart("t1", "Executing task: deploy"),
      command("t1-1", String.raw`cd app\nprintf 'a\\b'\nexit 4`, 4),
      groupEnd("t1", "Executing task: deploy", 4),
    );
    expect(failingCommand(text)?.command).toBe("cd app\nprintf 'a\\b'\nexit 4");
  });

  it("takes the last failed command when the task's group never ended (killed, or cut from the tail)", () => {
    const text = consoleOf(
      "lines of output whose start was cut",
      command("t3-4", "run-suite --fast", 1),
      command("t3-5", "sleep 1000", 137),
    );
    expect(failingCommand(text)).toEqual({ command: "sleep 1000", exitCode: 137, task: undefined });
  });

  it.each([
    ["a console where every command succeeded", consoleOf(setup, command("t1-1", "true", 0), cleanup("success"))],
    [
      "a setup that failed before any task",
      consoleOf(groupStart("setup", "Setup"), "error: git clone failed", groupEnd("setup", "Setup", 1)),
    ],
    [
      "broken markers",
      consoleOf("__SH__CMD__END__|{not json|x", '__SH__CMD__END__|{"id":"t1-1","exitcode":2}|x', "__SH__CMD__END__|"),
    ],
    ["no console at all", ""],
  ])("finds nothing in %s", (_what, text) => {
    expect(failingCommand(text)).toBeUndefined();
  });
});
