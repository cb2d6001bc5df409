import { describe, expect, it } from "vitest";
import { envPrefix } from "../src/index.js";
import { brief, loadOne, yaml } from "./helpers.js";

// Design §2: drop every character outside [A-Za-z0-9_], drop leading digits, upper-case.
describe("envPrefix", () => {
  it.each([
    ["my-app.repo", "MYAPPREPO"],
    ["my_key_1", "MY_KEY_1"],
    ["1abc", "ABC"],
    ["123abc456", "ABC456"],
    ["9_lives", "_LIVES"],
    ["_private", "_PRIVATE"],
    ["app_img", "APP_IMG"],
    ["App.Img-2", "APPIMG2"],
    ["u16_aarch32_dd_repo", "U16_AARCH32_DD_REPO"],
    ["ship-bits.gcp", "SHIPBITSGCP"],
    ["a", "A"],
    ["A", "A"],
    ["already_UPPER", "ALREADY_UPPER"],
    ["-.-", ""],
    ["123", ""],
    ["1-2-3x", "X"],
    ["", ""],
    ["café", "CAF"],
    ["my app", "MYAPP"],
  ])("%j -> %j", (name, prefix) => {
    expect(envPrefix(name)).toBe(prefix);
  });

  it("never leaves a leading digit or a character outside [A-Z0-9_]", () => {
    for (let code = 0; code < 0x250; code++) {
      const p = envPrefix(`${String.fromCharCode(code)}1-x.${String.fromCharCode(code)}`);
      expect(p).toMatch(/^(?:[A-Z_][A-Z0-9_]*)?$/);
    }
  });

  it("is idempotent", () => {
    for (const name of ["my-app.repo", "1abc", "9_lives", "x.y-z_1"]) {
      expect(envPrefix(envPrefix(name))).toBe(envPrefix(name));
    }
  });
});

describe("env-prefix collisions in a job", () => {
  it.each([
    ["my-app", "myapp", "MYAPP"],
    ["my.app", "my-app", "MYAPP"],
    ["App", "app", "APP"],
    ["1repo", "repo", "REPO"],
  ])("%s and %s collide on %s", (a, b, prefix) => {
    const result = loadOne(yaml`
      resources:
        - { name: "${a}", type: params }
        - { name: "${b}", type: params }
      jobs:
        - name: j
          type: runSh
          steps:
            - IN: "${a}"
            - OUT: "${b}"
    `);
    expect(result.diagnostics.map(brief)).toEqual([
      {
        code: "PIPELINE_ENV_PREFIX_COLLISION",
        severity: "error",
        file: "shippable.yml",
        line: 9,
        col: 9,
        path: "jobs[0].steps[1].OUT",
      },
    ]);
    expect(result.diagnostics[0]?.message).toContain(prefix);
  });

  it("is no collision across two jobs", () => {
    const result = loadOne(yaml`
      resources:
        - { name: my-app, type: params }
        - { name: myapp, type: params }
      jobs:
        - { name: a, type: runSh, steps: [{ IN: my-app }] }
        - { name: b, type: runSh, steps: [{ IN: myapp }] }
    `);
    expect(result.diagnostics).toEqual([]);
  });

  it("is no collision when one resource is IN and OUT of the job", () => {
    const result = loadOne(yaml`
      resources:
        - { name: my-state, type: state }
      jobs:
        - { name: a, type: runSh, steps: [{ IN: my-state }, { OUT: my-state }] }
    `);
    expect(result.diagnostics).toEqual([]);
  });
});
