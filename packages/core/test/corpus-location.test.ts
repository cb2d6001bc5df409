import { describe, expect, it } from "vitest";
import { isCi, locateCorpus, type CorpusLocation } from "./corpus-location.js";

// A plain clone has no ../shared beside it: its `npm test` must pass, with the external
// corpus's tests skipped for a stated reason; where CI runs, or where CAUSEWAY_CORPUS names a
// corpus, those tests are mandatory.

const DEFAULT = "/src/shared/corpus/shippable";
const OTHER = "/data/corpus";

interface Case {
  readonly what: string;
  readonly CI?: string;
  readonly CAUSEWAY_CORPUS?: string;
  /** The directories that exist. */
  readonly dirs: readonly string[];
  readonly expected: CorpusLocation;
}

const skipped: CorpusLocation = {
  kind: "skip",
  reason: `no external corpus at ${DEFAULT}: its tests are skipped (CAUSEWAY_CORPUS=DIR names another place)`,
};
const requiredInCi: CorpusLocation = {
  kind: "missing",
  reason: `no external corpus at ${DEFAULT}, and CI is set: put the corpus there or set CAUSEWAY_CORPUS=DIR`,
};

describe("locateCorpus", () => {
  it.each<Case>([
    { what: "a plain clone: skipped, naming the folder", dirs: [], expected: skipped },
    { what: "the default folder", dirs: [DEFAULT], expected: { kind: "found", dir: DEFAULT } },
    { what: "CI=false is not CI", CI: "false", dirs: [], expected: skipped },
    { what: "CI=0 is not CI", CI: "0", dirs: [], expected: skipped },
    { what: "an empty CI is not CI", CI: "", dirs: [], expected: skipped },
    { what: "CI=true without the corpus: an error", CI: "true", dirs: [], expected: requiredInCi },
    { what: "CI=1 without the corpus: an error", CI: "1", dirs: [], expected: requiredInCi },
    { what: "CI=true with the corpus", CI: "true", dirs: [DEFAULT], expected: { kind: "found", dir: DEFAULT } },
    {
      what: "CAUSEWAY_CORPUS wins over the default folder",
      CAUSEWAY_CORPUS: OTHER,
      dirs: [DEFAULT, OTHER],
      expected: { kind: "found", dir: OTHER },
    },
    {
      what: "a relative CAUSEWAY_CORPUS is resolved against the working directory",
      CAUSEWAY_CORPUS: "../corpus",
      dirs: [OTHER],
      expected: { kind: "found", dir: OTHER },
    },
    {
      what: "CAUSEWAY_CORPUS naming nothing: an error, even with the default folder there",
      CAUSEWAY_CORPUS: "/nowhere",
      dirs: [DEFAULT],
      expected: { kind: "missing", reason: "CAUSEWAY_CORPUS names /nowhere, which is not a directory" },
    },
    {
      what: "CAUSEWAY_CORPUS naming nothing: an error outside CI too",
      CAUSEWAY_CORPUS: "/nowhere",
      CI: "false",
      dirs: [],
      expected: { kind: "missing", reason: "CAUSEWAY_CORPUS names /nowhere, which is not a directory" },
    },
    { what: "an empty CAUSEWAY_CORPUS is unset", CAUSEWAY_CORPUS: " ", dirs: [], expected: skipped },
  ])("$what", ({ CI, CAUSEWAY_CORPUS, dirs, expected }) => {
    const location = locateCorpus({
      env: { CI, CAUSEWAY_CORPUS },
      cwd: "/data/work",
      defaultDir: DEFAULT,
      isDirectory: (dir) => dirs.includes(dir),
    });
    expect(location).toEqual(expected);
  });

  it("names the missing folder in the one line of a skip", () => {
    const location = locateCorpus({ env: {}, cwd: "/", defaultDir: DEFAULT, isDirectory: () => false });
    expect(location.kind).toBe("skip");
    if (location.kind === "skip") {
      expect(location.reason).toContain(DEFAULT);
      expect(location.reason).not.toContain("\n");
    }
  });
});

describe("isCi", () => {
  it.each([
    [undefined, false],
    ["", false],
    ["0", false],
    ["false", false],
    ["FALSE", false],
    ["true", true],
    ["1", true],
    ["yes", true],
  ])("%j is %j", (value, ci) => {
    expect(isCi(value)).toBe(ci);
  });
});
