import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { envExport } from "../src/script.js";

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
