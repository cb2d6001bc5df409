import { describe, expect, it } from "vitest";
import {
  CausewayError,
  collectSources,
  type SourceArgProblem,
  type SourceArgsIo,
  checkSources,
  defaultSourceName,
  displayUrl,
  redactUrls,
  isGitUrl,
  loadPipelineDirectory,
  parseProjectFile,
  sourceOfFile,
  sourcesFs,
  splitGitUrl,
  unreadableSourceFs,
} from "../src/index.js";
import { memoryFs, yaml } from "./helpers.js";

// A line from several sources (Shippable's sync repositories sharing one namespace).

function thrown(fn: () => unknown): CausewayError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CausewayError) return error;
    throw error;
  }
  throw new Error("expected a CausewayError");
}

describe("git URLs and default names", () => {
  it.each([
    ["https://github.com/acme/app-config.git", true, "app-config"],
    ["file:///srv/repos/infra", true, "infra"],
    ["ssh://git@host/acme/x.git", true, "x"],
    ["git@github.com:acme/ops.git", true, "ops"],
    ["../infra", false, "infra"],
    ["./app/", false, "app"],
    ["/abs/line", false, "line"],
  ])("%s: a URL %s, named %s", (text, url, name) => {
    expect(isGitUrl(text)).toBe(url);
    expect(defaultSourceName(text)).toBe(name);
  });

  it.each([
    ["file:///r/app.git#release", { url: "file:///r/app.git", branch: "release" }],
    ["file:///r/app.git", { url: "file:///r/app.git" }],
    ["file:///r/app.git#", { url: "file:///r/app.git" }],
  ])("%s splits into URL and branch", (text, parts) => {
    expect(splitGitUrl(text)).toEqual(parts);
  });
});

describe("displayUrl", () => {
  it.each([
    ["https://ci:s3cr3t@git.example.com/acme/ops.git", "https://***@git.example.com/acme/ops.git"],
    ["https://ghp_token@github.com/a.git", "https://***@github.com/a.git"],
    ["ssh://git:pw@host/a.git", "ssh://git:***@host/a.git"],
    ["ssh://git@host/a.git", "ssh://git@host/a.git"],
    ["file:///srv/a.git", "file:///srv/a.git"],
  ])("%s is shown as %s", (url, shown) => {
    expect(displayUrl(url)).toBe(shown);
  });
});

it("redactUrls hides the credentials of every URL in git's messages", () => {
  expect(redactUrls("fatal: unable to access 'https://ci:pw@host/a.git/': 403")).toBe(
    "fatal: unable to access 'https://***@host/a.git/': 403",
  );
});

describe("checkSources", () => {
  it("accepts distinct names that can be path segments", () => {
    expect(() =>
      checkSources([
        { name: "app", path: "a" },
        { name: "infra.v2", url: "file:///x" },
      ]),
    ).not.toThrow();
  });

  it.each([
    [
      "two sources of one name",
      [
        { name: "config", path: "a/config" },
        { name: "config", path: "b/config" },
      ],
      "two sources are named config (a/config and b/config)",
    ],
    ["a name starting with a dot", [{ name: ".hidden", path: "x" }], "not starting with ."],
    ["a name with a slash", [{ name: "a/b", path: "x" }], "a name is letters"],
    ["neither path nor url", [{ name: "x" }], "give either a path or a url"],
  ])("refuses %s (PROJECT_INVALID)", (_what, sources, message) => {
    const error = thrown(() => checkSources(sources));
    expect(error.code).toBe("PROJECT_INVALID");
    expect(error.message).toContain(message);
  });
});

describe("parseProjectFile", () => {
  it("reads directories and repositories, names defaulting to the last segment", () => {
    const text = yaml`
      sources:
        - path: ./app
        - name: ops
          url: file:///srv/infra.git
          branch: main
    `;
    expect(parseProjectFile(text, "causeway.project.yml")).toEqual([
      { name: "app", path: "./app" },
      { name: "ops", url: "file:///srv/infra.git", branch: "main" },
    ]);
  });

  it.each([
    ["no sources key", "jobs: []\n", "causeway.project.yml:1:1 expected a mapping with a list under sources:"],
    [
      "a source without path or url",
      "sources:\n  - name: x\n",
      "causeway.project.yml:2:5 a source needs a path or a url",
    ],
    ["an unknown key", "sources:\n  - path: a\n    dir: b\n", 'causeway.project.yml:3:5 unknown key "dir"'],
    ["a branch without url", "sources:\n  - path: a\n    branch: main\n", "branch goes with a url"],
    ["both path and url", "sources:\n  - path: a\n    url: file:///a\n", "not both"],
    [
      "a value that is not a string",
      "sources:\n  - path: [a]\n",
      "causeway.project.yml:2:11 path must be a non-empty string",
    ],
    ["broken YAML", "sources: [\n", "causeway.project.yml:2:1"],
    [
      "a url that is not a git URL",
      "sources:\n  - url: ext::sh -c true\n",
      'causeway.project.yml:2:5 url "ext::sh -c true" is not a git URL',
    ],
    ["two sources of one name", "sources:\n  - path: a/x\n  - path: b/x\n", "two sources are named x"],
  ])("refuses %s with its position (PROJECT_INVALID)", (_what, text, message) => {
    const error = thrown(() => parseProjectFile(text, "causeway.project.yml"));
    expect(error.code).toBe("PROJECT_INVALID");
    expect(error.message).toContain(message);
  });
});

describe("sourcesFs: one namespace over several sources", () => {
  //   app/causeway.yml: cfg ──► build          infra/causeway.yml: build ──► deploy
  const app = memoryFs({
    "causeway.yml": yaml`
      resources:
        - name: cfg
          type: params
      jobs:
        - name: build
          type: runSh
          steps:
            - IN: cfg
            - TASK:
                script: [make]
    `,
  });
  const infra = (job: string) =>
    memoryFs({
      "deploy/causeway.yml": yaml`
        jobs:
          - name: ${job}
            type: runSh
            steps:
              - IN: build
              - TASK:
                  script: [./deploy]
      `,
    });

  it("resolves names across sources; each file's path starts with its source", async () => {
    const fs = sourcesFs([
      { name: "app", fs: app },
      { name: "infra", fs: infra("deploy") },
    ]);
    const result = await loadPipelineDirectory(fs);
    expect(result.ok).toBe(true);
    expect(result.files).toEqual(["app/causeway.yml", "infra/deploy/causeway.yml"]);
    const deploy = result.pipeline.jobs.find((j) => j.name === "deploy");
    expect(deploy?.consistent).toBe(true);
    expect(sourceOfFile(deploy?.origin.file ?? "")).toBe("infra");
  });

  it("a name defined in two sources is an error naming both files and positions", async () => {
    const fs = sourcesFs([
      { name: "app", fs: app },
      { name: "infra", fs: infra("build") },
    ]);
    const result = await loadPipelineDirectory(fs);
    const dup = result.diagnostics.find((d) => d.code === "PIPELINE_DUPLICATE_NAME");
    expect(dup).toMatchObject({ file: "infra/deploy/causeway.yml", line: 2, col: 5 });
    expect(dup?.message).toBe("job build is already defined as a job at app/causeway.yml:5:5");
  });
});

describe("unreadableSourceFs: a source that cannot be read keeps its objects", () => {
  it("refuses the files the line has from it, so an apply keeps what they define", async () => {
    const app = memoryFs({
      "causeway.yml":
        "jobs:\n  - name: build\n    type: runSh\n    steps:\n      - IN: cfg\n      - TASK:\n          script: [make]\n",
    });
    const gone = unreadableSourceFs(["conf/causeway.yml"], "source infra: /srv/infra does not exist");
    const applied = new Map([["cfg", "infra/conf/causeway.yml"]]);
    const result = await loadPipelineDirectory(
      sourcesFs([
        { name: "app", fs: app },
        { name: "infra", fs: gone },
      ]),
      { applied },
    );
    expect(result.refused.map((r) => [r.path, r.reason.code])).toEqual([
      ["infra/conf/causeway.yml", "PIPELINE_FILE_UNREADABLE"],
    ]);
    expect(result.refused[0]?.reason.message).toContain("source infra: /srv/infra does not exist");
    // The reference to cfg, kept with its refused file, resolves.
    expect(result.pipeline.jobs[0]?.consistent).toBe(true);
  });
});

describe("collectSources: what the arguments of validate, plan, apply and up name", () => {
  // A machine of a few paths: directories, and files with their text.
  const dirs = new Set(["/w/app", "/w/infra", "/w/proj"]);
  const files = new Map([
    [
      "/w/proj/causeway.project.yml",
      "sources:\n  - { name: app, path: ../app }\n  - { name: ops, url: https://git.example.com/ops.git, branch: main }\n",
    ],
    ["/w/notes.txt", "hello"],
  ]);
  const io: SourceArgsIo = {
    resolve: (base, path) => (path.startsWith("/") ? path : `${base}/${path}`.replace(/\/\.\/?$/, "")),
    dirname: (path) => path.slice(0, path.lastIndexOf("/")),
    basename: (path) => path.slice(path.lastIndexOf("/") + 1),
    join: (dir, name) => `${dir}/${name}`,
    kind: (path) => Promise.resolve(dirs.has(path) ? "dir" : files.has(path) ? "file" : undefined),
    readText: (path) => Promise.resolve(files.get(path)),
  };
  const fail = ({ arg, problem }: SourceArgProblem) => new Error(`${problem}: ${arg}`);
  const collect = (...args: string[]) => collectSources(args, "/w", io, fail);

  it.each([
    [["app"], false, [{ name: "app", path: "/w/app", base: "/w" }], []],
    [
      ["app", "infra"],
      true,
      [
        { name: "app", path: "/w/app", base: "/w" },
        { name: "infra", path: "/w/infra", base: "/w" },
      ],
      [],
    ],
    [
      ["https://git.example.com/ops.git#release"],
      true,
      [{ name: "ops", url: "https://git.example.com/ops.git", branch: "release", base: "/w" }],
      [],
    ],
    [
      ["proj"],
      true,
      [
        { name: "app", path: "../app", base: "/w/proj" },
        { name: "ops", url: "https://git.example.com/ops.git", branch: "main", base: "/w/proj" },
      ],
      ["/w/proj/causeway.project.yml"],
    ],
  ])("%j: named %s", async (args, named, specs, projects) => {
    expect(await collect(...args)).toEqual({ specs, named, projects });
  });

  it("hands an argument that names nothing to the caller's error, and refuses two sources of one name", async () => {
    await expect(collect("nowhere")).rejects.toThrow("missing: nowhere");
    await expect(collect("notes.txt")).rejects.toThrow("not-a-directory: notes.txt");
    await expect(collect("app", "proj")).rejects.toMatchObject({ code: "PROJECT_INVALID" });
  });
});
