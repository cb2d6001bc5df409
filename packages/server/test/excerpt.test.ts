import { describe, expect, it } from "vitest";
import { consoleExcerpt } from "../src/notify/excerpt.js";

// The console excerpt of a failure mail: what a person reads, from the markers of the console
// (docs/console-format.md).

const CONSOLE = [
  '__SH__GROUP__START__|{"type":"grp","sequenceNumber":1,"id":"t1","is_shown":"true"}|Task 1',
  '__SH__CMD__START__|{"type":"cmd","sequenceNumber":1,"id":"t1-1"}|echo building',
  "building",
  "",
  '__SH__CMD__END__|{"type":"cmd","sequenceNumber":1,"id":"t1-1","exitcode":"0","durationMs":3}|echo building',
  '__SH__CMD__START__|{"type":"cmd","sequenceNumber":2,"id":"t1-2"}|make \\\\\\n  all',
  "make: *** [all] Error 2",
  "",
  '__SH__CMD__END__|{"type":"cmd","sequenceNumber":2,"id":"t1-2","exitcode":"2","durationMs":9}|make all',
  '__SH__GROUP__END__|{"type":"grp","sequenceNumber":1,"id":"t1","is_shown":"false","exitcode":"2","durationMs":12}|Task 1',
  "__SH__SCRIPT_END_FAILURE__",
  "",
].join("\n");

describe("consoleExcerpt", () => {
  it("shows commands as $ lines, their output, and a failing exit code; no markers", () => {
    expect(consoleExcerpt(CONSOLE, false)).toBe(
      ["$ echo building", "building", "$ make \\\n  all", "make: *** [all] Error 2", "exit 2"].join("\n"),
    );
  });

  it("keeps the last lines, and drops the cut first line of a tail", () => {
    expect(consoleExcerpt(CONSOLE, false, 2)).toBe("make: *** [all] Error 2\nexit 2");
    expect(consoleExcerpt("half a line\nwhole\n", true)).toBe("whole");
  });
});
