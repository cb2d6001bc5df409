import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { envExport, taskScript, type TaskScriptInput } from "../src/script.js";

describe("envExport", () => {
  it("exports every variable as a literal, one a line, that bash reads back exactly", () => {
    const env = { A: "plain", B: "it's $(id) `x` $HOME\nnext", EMPTY: "" };
    const text = envExport(env);
    expect(text.split("\n")[0]).toBe("export \\");
    const out = execFileSync("bash", ["-c", `${text}printf '%s\\0' "$A" "$B" "$EMPTY"`], { env: {} });
    expect(out.toString().split("\0").slice(0, 3)).toEqual([env.A, env.B, env.EMPTY]);
  });

  it("leaves out names bash cannot take as variables, and is empty for no variable", () => {
    const text = envExport({ "NOT-A-NAME": "1", UID: "0", SHELLOPTS: "errexit", KEPT: "yes" });
    expect(text).toBe("export \\\n  KEPT='yes'\n");
    expect(envExport({})).toBe("");
  });

  it("refuses a value holding NUL", () => {
    expect(() => envExport({ BAD: "a\0b" })).toThrow(/BAD holds a NUL/);
  });
});

describe("taskScript's locale", () => {
  const task = (env: Record<string, string>): TaskScriptInput => ({
    index: 1,
    name: "t",
    lines: ['printf "%s" "${LANG-none}" > "$OUT"'],
    onFailure: [],
    always: [],
    onSuccess: [],
    env,
  });
  // As a task worker that holds the runner's LANG (a shell variable) sources the script.
  const sourced = (env: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), "causeway-script-lang-"));
    try {
      writeFileSync(join(dir, "task.sh"), taskScript(task(env)));
      execFileSync("bash", ["-c", 'LANG=C.UTF-8; OUT="$1/lang.txt"; . "$1/task.sh"', "bash", dir], { env: {} });
      return readFileSync(join(dir, "lang.txt"), "utf8");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("unsets the worker's LANG when the task has none", () => {
    expect(sourced({ PATH: "/usr/bin:/bin" })).toBe("none");
  });

  it("gives the task its own LANG, the worker's or another", () => {
    expect(sourced({ PATH: "/usr/bin:/bin", LANG: "C.UTF-8" })).toBe("C.UTF-8");
    expect(sourced({ PATH: "/usr/bin:/bin", LANG: "C" })).toBe("C");
  });
});
