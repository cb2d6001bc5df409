import { describe, expect, it } from "vitest";
import {
  DEFAULT_KIND,
  mergeBag,
  RESOURCE_KINDS,
  RESOURCE_TYPES,
  resourceKind,
  type DependencyView,
  type ResourceKind,
} from "../src/index.js";
import { named } from "./helpers.js";

// One home per resource type (docs/architecture.md "Resource kinds"): each rule of
// docs/semantics.md that depends on a resource's type, read from its kind.

describe("the table of kinds", () => {
  it.each(RESOURCE_TYPES.map((t) => [t]))("%s has its own kind, named after it", (type) => {
    expect(resourceKind(type)).toBe(RESOURCE_KINDS[type]);
    expect(resourceKind(type).type).toBe(type);
    expect(Object.isFrozen(resourceKind(type))).toBe(true);
  });

  it.each([["someVendorThing"], ["runSh"], [""], ["constructor"], ["__proto__"]])(
    "%j (an unknown type, or a job's type) has the default kind",
    (type) => {
      expect(resourceKind(type)).toBe(DEFAULT_KIND);
    },
  );
});

type Rule = keyof Omit<ResourceKind, "type" | "holds" | "versionsFrom" | "env">;

// Each case: a sentence of docs/semantics.md, the rule, and the types for which it holds; it
// must hold for exactly those types and for no other.
describe.each(
  named<{ name: string; rule: Rule; value: unknown; types: readonly string[] }>([
    {
      name: "a YAML edit of a trigger resource triggers its consumers; of any other type it does not",
      rule: "yamlEditTriggers",
      value: true,
      types: ["trigger"],
    },
    {
      name: "a version from outside or from a job's OUT triggers the consumers, never for a state resource",
      rule: "versionsTrigger",
      value: false,
      types: ["state"],
    },
    {
      name: "only a state resource may be both IN and OUT of one job",
      rule: "inAndOutOfOneJob",
      value: true,
      types: ["state"],
    },
    {
      name: "the files a job puts in OUT/<name>/state/ become the version of a state resource, named after their archive",
      rule: "outFiles",
      value: true,
      types: ["state"],
    },
    {
      name: "a gitRepo IN is a checkout of its commit; every other IN gets its version's files",
      rule: "inData",
      value: "checkout",
      types: ["gitRepo"],
    },
    {
      name: "a hook's NOTIFY names a notification resource",
      rule: "notifyTarget",
      value: true,
      types: ["notification"],
    },
    {
      name: "key/values written for a params resource land under propertyBag.params",
      rule: "valuesKey",
      value: "params",
      types: ["params"],
    },
    {
      name: "a release job bumps the version of a version resource",
      rule: "releaseBase",
      value: true,
      types: ["version"],
    },
    {
      name: "a change of the definition data makes a version, for every type",
      rule: "yamlEditCreatesVersion",
      value: false,
      types: [],
    },
    {
      name: "an OUT whose output changed makes a version, for every type",
      rule: "outCreatesVersion",
      value: false,
      types: [],
    },
  ]),
)("%s", (_name, { rule, value, types }) => {
  it.each([...RESOURCE_TYPES, "someVendorThing"].map((t) => [t]))("%s", (type) => {
    expect(resourceKind(type)[rule] === value).toBe(types.includes(type));
  });
});

describe("repository kinds keep where a version came from", () => {
  it.each([["gitRepo"], ["syncRepo"], ["ciRepo"]])("%s: overwrite keeps and replicate copies the webhook data", (t) => {
    expect(resourceKind(t).originKeys).toEqual(["shaData", "webhookRequestHeaders", "webhookRequestBody"]);
  });
  it.each([["params"], ["image"], ["state"], ["someVendorThing"]])("%s: replicate copies the whole bag", (t) => {
    expect(resourceKind(t).originKeys).toBeUndefined();
  });
});

describe("mergeBag: a version put from outside merges into the current one", () => {
  it.each(
    named<{ name: string; type: string; current: object; given: object; expected: object }>([
      {
        name: "given keys win over the current bag's",
        type: "image",
        current: { sourceName: "acme/app", tag: "1" },
        given: { tag: "2" },
        expected: { sourceName: "acme/app", tag: "2" },
      },
      {
        name: "a params resource takes bare keys as parameters, under params",
        type: "params",
        current: { params: { A: "1", B: "2" } },
        given: { B: "3" },
        expected: { params: { A: "1", B: "3" } },
      },
      {
        name: "a params resource also takes a params mapping; bare keys win over it",
        type: "params",
        current: { params: { A: "1" } },
        given: { params: { A: "2", C: "4" }, A: "3" },
        expected: { params: { A: "3", C: "4" } },
      },
      {
        name: "a params resource without params starts from none",
        type: "params",
        current: { other: true },
        given: { K: "v" },
        expected: { other: true, params: { K: "v" } },
      },
      {
        name: "an unknown type merges like any other",
        type: "someVendorThing",
        current: { params: { A: "1" } },
        given: { A: "2" },
        expected: { params: { A: "1" }, A: "2" },
      },
    ]),
  )("%s", (_name, { type, current, given, expected }) => {
    expect(mergeBag(type, current as Record<string, unknown>, given as Record<string, unknown>)).toEqual(expected);
  });
});

function dep(type: string, bag: Record<string, unknown>, pointer: Record<string, unknown> = {}): DependencyView {
  return {
    name: "x",
    operation: "IN",
    type,
    objectId: "1",
    version: { id: 7, versionNumber: 3, versionName: "abc123", propertyBag: bag },
    pointer,
    seed: {},
    path: "/w/IN/x",
    stateDir: `/w/IN/x/${type}`,
  };
}

describe("what a job sees of a kind (the kind-specific variables)", () => {
  it("a params resource: each key as <N>_PARAMS_<KEY> and, as user data, bare; never `secure`", () => {
    const d = dep("params", { params: { "api-url": "http://x", "1st": "one", secure: "cipher", n: { a: 1 } } });
    expect(resourceKind("params").env("X", d, d.version?.propertyBag ?? {})).toEqual({
      platform: { X_PARAMS_APIURL: "http://x", X_PARAMS_1ST: "one", X_PARAMS_N: '{"a":1}' },
      user: { apiurl: "http://x", st: "one", n: '{"a":1}' },
    });
  });

  it("a gitRepo: its commit, from shaData, else the version name and the pointer's branch", () => {
    const d = dep("gitRepo", {}, { sourceName: "/srv/app", branch: "main" });
    expect(resourceKind("gitRepo").env("X", d, {}).platform).toMatchObject({
      X_BRANCH: "main",
      X_COMMIT: "abc123",
      X_PULL_REQUEST: "false",
      X_IS_GIT_TAG: "false",
      X_HTTPS_URL: "/srv/app",
    });
    const bag = { shaData: { commitSha: "def", branchName: "dev", isPullRequest: true, pullRequestNumber: 9 } };
    expect(resourceKind("gitRepo").env("X", dep("gitRepo", bag), bag).platform).toMatchObject({
      X_BRANCH: "dev",
      X_COMMIT: "def",
      X_PULL_REQUEST: "9",
      X_IS_PULL_REQUEST: "true",
    });
  });

  it.each([...RESOURCE_TYPES.filter((t) => t !== "params" && t !== "gitRepo"), "runSh"].map((t) => [t]))(
    "%s adds nothing of its own",
    (type) => {
      const bag = { params: { A: "1" }, shaData: { commitSha: "c" } };
      expect(resourceKind(type).env("X", dep(type, bag), bag)).toEqual({ platform: {}, user: {} });
    },
  );
});

describe("a kind's jobSees names every variable its env adds", () => {
  it.each([...RESOURCE_TYPES].map((t) => [t]))("%s", (type) => {
    const bag = { shaData: { commitSha: "c" } };
    const { platform } = resourceKind(type).env("X", dep(type, bag), bag);
    for (const name of Object.keys(platform)) expect(resourceKind(type).jobSees).toContain(`<N>${name.slice(1)}`);
  });
});
