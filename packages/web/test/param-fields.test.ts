import type { ParamSpecJson } from "@causeway/protocol";
import { describe, expect, it } from "vitest";
import { filledValues, initialValues, mustAsk } from "../src/panel/param-fields.js";

const spec = (over: Partial<ParamSpecJson>): ParamSpecJson => ({
  name: "P",
  type: "string",
  default: null,
  choices: [],
  required: false,
  description: null,
  ...over,
});

describe("the run form's typed parameters", () => {
  it("starts from each default as text, and knows none for a secret", () => {
    expect(
      initialValues([
        spec({ name: "N", type: "number", default: 3 }),
        spec({ name: "B", type: "boolean", default: false }),
        spec({ name: "S", type: "secret" }),
      ]),
    ).toEqual({ N: "3", B: "false" });
  });

  it("sends only the fields that hold something, so an emptied one takes the job's default", () => {
    expect(filledValues({ A: "x", B: "", C: "false" })).toEqual({ A: "x", C: "false" });
  });

  it.each([
    [spec({ required: true }), true],
    [spec({ required: true, default: "x" }), false],
    [spec({ required: false }), false],
  ])("asks for a parameter only when it is required with no default (%#)", (s, expected) => {
    expect(mustAsk(s)).toBe(expected);
  });
});
