import { describe, expect, it } from "vitest";
import {
  DIAGNOSTIC_CODES,
  groupDiagnostics,
  loadPipelineDirectory,
  type Diagnostic,
  type DiagnosticCode,
  type LoadResult,
  type Severity,
} from "../src/index.js";
import { brief, codes, loadFiles, loadOne, memoryFs, only, withCode, yaml, type Brief } from "./helpers.js";

// Every YAML below is dedented by `yaml`: line 1 is the line after the opening backtick, and
// list items written `  - name:` start their mapping at column 5.

function at(code: DiagnosticCode, severity: Severity, file: string, line: number, col: number, path: string): Brief {
  return { code, severity, file, line, col, path };
}

const F = "shippable.yml";

/** A billion-laughs document: 9 anchors, each a list of 9 aliases of the previous one (9^9 nodes). */
function aliasBomb(): string {
  const lines = [`a: &a [${Array.from({ length: 9 }, () => '"lol"').join(", ")}]`];
  const letters = "abcdefghi";
  for (let i = 1; i < letters.length; i++) {
    const prev = letters[i - 1] ?? "a";
    const cur = letters[i] ?? "b";
    lines.push(`${cur}: &${cur} [${Array.from({ length: 9 }, () => `*${prev}`).join(", ")}]`);
  }
  lines.push("jobs:", "  - name: boom", "    type: runSh", "    steps:", "      - TASK:", "          script: *i");
  return `${lines.join("\n")}\n`;
}

interface Case {
  readonly load: () => LoadResult | Promise<LoadResult>;
  /** Every diagnostic of the case's code, in order. */
  readonly expected: readonly Brief[];
}

// One case per code of the catalog; `satisfies` makes a new code without a case a type error.
const CASES = {
  PIPELINE_YAML_SYNTAX: {
    load: () =>
      loadOne(yaml`
        jobs:
          - name: a: b
            type: runSh
      `),
    expected: [at("PIPELINE_YAML_SYNTAX", "error", F, 2, 11, "")],
  },
  PIPELINE_YAML_UNKNOWN_ALIAS: {
    load: () =>
      loadOne(yaml`
        jobs:
          - name: a
            type: runSh
            steps:
              - TASK:
                  script: *nowhere
      `),
    expected: [at("PIPELINE_YAML_UNKNOWN_ALIAS", "error", F, 6, 19, "jobs[0].steps[0].TASK.script")],
  },
  PIPELINE_YAML_DUPLICATE_KEY: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: repo
            type: gitRepo
            name: repo2
      `),
    expected: [at("PIPELINE_YAML_DUPLICATE_KEY", "error", F, 4, 5, "resources[0].name")],
  },
  PIPELINE_YAML_ALIAS_LIMIT: {
    load: () => loadOne(aliasBomb()),
    // Where the expansion runs out of budget, so only the file is pinned here; see the bomb test.
    expected: [
      {
        ...at("PIPELINE_YAML_ALIAS_LIMIT", "error", F, 1, 1, ""),
        line: expect.any(Number) as number,
        col: expect.any(Number) as number,
        path: expect.any(String) as string,
      },
    ],
  },
  PIPELINE_FILE_TOO_LARGE: {
    load: () => loadOne(`jobs: []\n${"#".repeat(200)}\n`, F, { maxFileBytes: 100 }),
    expected: [at("PIPELINE_FILE_TOO_LARGE", "error", F, 1, 1, "")],
  },
  PIPELINE_DIR_TOO_LARGE: {
    load: () =>
      loadPipelineDirectory(
        memoryFs({
          "a/shippable.yml": "jobs:\n  - name: a\n    type: runSh\n",
          "b/shippable.yml": "jobs:\n  - name: b\n    type: runSh\n",
        }),
        { maxTotalBytes: 40 },
      ),
    expected: [at("PIPELINE_DIR_TOO_LARGE", "error", "b/shippable.yml", 1, 1, "")],
  },
  PIPELINE_FILE_UNREADABLE: {
    load: () => {
      const fs = memoryFs({ "a/shippable.yml": "jobs: []\n", "b/shippable.yml": "jobs: []\n" });
      return loadPipelineDirectory({
        list: (dir) => fs.list(dir),
        read: (path) => (path === "b/shippable.yml" ? Promise.reject(new Error("EACCES")) : fs.read(path)),
      });
    },
    expected: [at("PIPELINE_FILE_UNREADABLE", "error", "b/shippable.yml", 1, 1, "")],
  },
  PIPELINE_NO_FILES: {
    load: () => loadPipelineDirectory(memoryFs({ "README.md": "# hi\n", "src/ci.yml": "jobs: []\n" })),
    expected: [at("PIPELINE_NO_FILES", "warning", ".", 1, 1, "")],
  },
  PIPELINE_TEMPLATES_OBJECTS: {
    load: () =>
      loadFiles({
        "shippable.templates.yml": "tpl: &tpl [echo hi]\nresources:\n  - name: from_templates\n    type: params\n",
        "a/shippable.yml": "jobs:\n  - name: a\n    type: runSh\n    steps:\n      - TASK:\n          script: *tpl\n",
      }),
    expected: [at("PIPELINE_TEMPLATES_OBJECTS", "error", "shippable.templates.yml", 2, 1, "resources")],
  },
  PIPELINE_TEMPLATES_REFUSED: {
    load: () =>
      loadFiles({
        "shippable.templates.yml": "tpl: &tpl [echo hi\n",
        "a/shippable.yml": "jobs:\n  - name: a\n    type: runSh\n    steps:\n      - TASK:\n          script: *tpl\n",
      }),
    expected: [at("PIPELINE_TEMPLATES_REFUSED", "error", "a/shippable.yml", 1, 1, "")],
  },
  PIPELINE_NOT_A_MAPPING: {
    load: () => loadOne("- name: a\n  type: runSh\n"),
    expected: [at("PIPELINE_NOT_A_MAPPING", "error", F, 1, 1, "")],
  },
  PIPELINE_CI_KEY_IGNORED: {
    load: () =>
      loadOne(yaml`
        language: node_js
        build:
          ci:
            - npm test
        jobs: []
      `),
    expected: [
      at("PIPELINE_CI_KEY_IGNORED", "info", F, 1, 1, "language"),
      at("PIPELINE_CI_KEY_IGNORED", "info", F, 2, 1, "build"),
    ],
  },
  PIPELINE_UNKNOWN_TOP_LEVEL_KEY: {
    load: () =>
      loadOne(yaml`
        resources: []
        job:
          - name: a
            type: runSh
      `),
    expected: [at("PIPELINE_UNKNOWN_TOP_LEVEL_KEY", "warning", F, 2, 1, "job")],
  },
  PIPELINE_SCHEMA: {
    load: () =>
      loadOne(yaml`
        jobs:
          - name: a
            type: runSh
            priority: high
      `),
    expected: [at("PIPELINE_SCHEMA", "error", F, 4, 15, "jobs[0].priority")],
  },
  PIPELINE_UNKNOWN_KEY: {
    load: () =>
      loadOne(yaml`
        jobs:
          - name: a
            type: runSh
            dependancyMode: strict
      `),
    expected: [at("PIPELINE_UNKNOWN_KEY", "warning", F, 4, 5, "jobs[0].dependancyMode")],
  },
  PIPELINE_IGNORED_KEY: {
    load: () =>
      loadOne(yaml`
        jobs:
          - name: a
            type: runSh
            versionTemplate:
              x: 1
      `),
    expected: [at("PIPELINE_IGNORED_KEY", "info", F, 4, 5, "jobs[0].versionTemplate")],
  },
  PIPELINE_INVALID_NAME: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: my repo
            type: gitRepo
        jobs:
          - name: a
            type: runSh
            steps:
              - IN: my repo
      `),
    expected: [
      at("PIPELINE_INVALID_NAME", "error", F, 2, 11, "resources[0].name"),
      at("PIPELINE_INVALID_NAME", "error", F, 8, 13, "jobs[0].steps[0].IN"),
    ],
  },
  PIPELINE_DUPLICATE_NAME: {
    load: () =>
      loadFiles({
        "a.shippable.yml": "resources:\n  - name: thing\n    type: params\n",
        "b/shippable.yml": "jobs:\n  - name: other\n    type: runSh\n  - name: thing\n    type: runSh\n",
      }),
    expected: [at("PIPELINE_DUPLICATE_NAME", "error", "b/shippable.yml", 4, 5, "jobs[1].name")],
  },
  PIPELINE_UNKNOWN_REFERENCE: {
    load: () =>
      loadOne(yaml`
        jobs:
          - name: a
            type: runSh
            steps:
              - IN: nope
              - OUT: nothing
      `),
    expected: [
      at("PIPELINE_UNKNOWN_REFERENCE", "error", F, 5, 9, "jobs[0].steps[0].IN"),
      at("PIPELINE_UNKNOWN_REFERENCE", "error", F, 6, 9, "jobs[0].steps[1].OUT"),
    ],
  },
  PIPELINE_REFERENCE_ELSEWHERE: {
    // One file validated alone: its references to objects of the other files are infos.
    load: () =>
      loadOne(
        yaml`
        jobs:
          - name: a
            type: runSh
            steps:
              - IN: repo
              - OUT: nope
      `,
        "shippable.jobs.yml",
        { elsewhere: new Map([["repo", "shippable.resources.yml"]]) },
      ),
    expected: [at("PIPELINE_REFERENCE_ELSEWHERE", "info", "shippable.jobs.yml", 5, 9, "jobs[0].steps[0].IN")],
  },
  PIPELINE_WRONG_REFERENCE_TYPE: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: repo
            type: gitRepo
        jobs:
          - name: a
            type: runSh
            steps:
              - IN: repo
            on_failure:
              NOTIFY: repo
      `),
    expected: [at("PIPELINE_WRONG_REFERENCE_TYPE", "error", F, 5, 5, "jobs[0].on_failure.NOTIFY")],
  },
  PIPELINE_IN_AND_OUT: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: conf
            type: params
        jobs:
          - name: a
            type: runSh
            steps:
              - IN: conf
              - OUT: conf
      `),
    expected: [at("PIPELINE_IN_AND_OUT", "error", F, 9, 9, "jobs[0].steps[1].OUT")],
  },
  PIPELINE_CYCLE: {
    //   r1 --> a --> r2 --> b --> r1
    load: () =>
      loadOne(yaml`
        resources:
          - name: r1
            type: params
          - name: r2
            type: params
        jobs:
          - name: a
            type: runSh
            steps:
              - IN: r1
              - OUT: r2
          - name: b
            type: runSh
            steps:
              - IN: r2
              - OUT: r1
      `),
    expected: [at("PIPELINE_CYCLE", "error", F, 7, 5, "jobs[0]")],
  },
  PIPELINE_ENV_PREFIX_COLLISION: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: my-app
            type: params
          - name: myapp
            type: params
        jobs:
          - name: a
            type: runSh
            steps:
              - IN: my-app
              - IN: myapp
      `),
    expected: [at("PIPELINE_ENV_PREFIX_COLLISION", "error", F, 11, 9, "jobs[0].steps[1].IN")],
  },
  PIPELINE_PIN_CONFLICT: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: img
            type: image
        jobs:
          - name: a
            type: runSh
            steps:
              - IN: img
                versionName: "1.2"
                versionNumber: 3
      `),
    expected: [at("PIPELINE_PIN_CONFLICT", "error", F, 8, 9, "jobs[0].steps[0]")],
  },
  PIPELINE_INVALID_SCHEDULE: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: nightly
            type: time
            seed:
              interval: "0 25 * * *"
          - name: hourly
            type: time
            versionTemplate:
              interval: "@hourly"
              timeZone: Mars/Olympus
          - name: never
            type: time
            versionTemplate: {}
        jobs:
          - name: a
            type: runSh
            steps:
              - IN: nightly
              - IN: hourly
              - IN: never
      `),
    expected: [
      at("PIPELINE_INVALID_SCHEDULE", "error", F, 5, 17, "resources[0].seed.interval"),
      at("PIPELINE_INVALID_SCHEDULE", "error", F, 10, 17, "resources[1].versionTemplate.timeZone"),
      at("PIPELINE_INVALID_SCHEDULE", "error", F, 13, 22, "resources[2].versionTemplate.interval"),
    ],
  },
  PIPELINE_NOTIFICATION_METHOD: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: team
            type: notification
            versionTemplate:
              method: pigeon
        jobs:
          - name: a
            type: runSh
            steps:
              - TASK:
                  script: [make]
            on_failure:
              NOTIFY: team
      `),
    expected: [at("PIPELINE_NOTIFICATION_METHOD", "error", F, 5, 15, "resources[0].versionTemplate.method")],
  },
  PIPELINE_NOTIFICATION_RECIPIENT: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: mail
            type: notification
            versionTemplate:
              method: email
              recipients: [ops@example.com, not-an-address]
          - name: chat
            type: notification
            integration: slack
            pointer:
              method: slack
              recipients:
                - deploys
          - name: hook
            type: notification
            versionTemplate:
              method: webhook
              recipients: ["ftp://example.com/x"]
          - name: mixed
            type: notification
            versionTemplate:
              recipients: ["#deploys", ops@example.com]
        jobs:
          - name: a
            type: runSh
            steps:
              - TASK:
                  script: [make]
            always:
              NOTIFY: [mail, chat, hook, mixed]
      `),
    expected: [
      at("PIPELINE_NOTIFICATION_RECIPIENT", "error", F, 6, 37, "resources[0].versionTemplate.recipients[1]"),
      at("PIPELINE_NOTIFICATION_RECIPIENT", "error", F, 13, 11, "resources[1].pointer.recipients[0]"),
      at("PIPELINE_NOTIFICATION_RECIPIENT", "error", F, 18, 20, "resources[2].versionTemplate.recipients[0]"),
      at("PIPELINE_NOTIFICATION_RECIPIENT", "error", F, 22, 19, "resources[3].versionTemplate.recipients"),
    ],
  },
  PIPELINE_NOTIFICATION_NOT_DELIVERED: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: irc
            type: notification
            pointer:
              method: irc
              recipients: ["chat.freenode.net#causeway"]
        jobs:
          - name: a
            type: runSh
            steps:
              - TASK:
                  script: [make]
            on_success:
              - NOTIFY: irc
      `),
    expected: [at("PIPELINE_NOTIFICATION_NOT_DELIVERED", "warning", F, 5, 15, "resources[0].pointer.method")],
  },
  PIPELINE_REPLICATE_SOURCE: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: img_in
            type: image
          - name: img_out
            type: image
        jobs:
          - name: a
            type: runSh
            steps:
              - OUT: img_out
                replicate: img_in
      `),
    expected: [at("PIPELINE_REPLICATE_SOURCE", "error", F, 10, 9, "jobs[0].steps[0].replicate")],
  },
  PIPELINE_PROVIDER_TYPE: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: k8s
            type: cluster
            integration: my-kube
        jobs:
          - name: a
            type: runSh
            steps:
              - IN: k8s
      `),
    expected: [at("PIPELINE_PROVIDER_TYPE", "warning", F, 3, 11, "resources[0].type")],
  },
  PIPELINE_UNKNOWN_RESOURCE_TYPE: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: repo
            type: gitrepoo
        jobs:
          - name: a
            type: runSh
            steps:
              - IN: repo
      `),
    expected: [at("PIPELINE_UNKNOWN_RESOURCE_TYPE", "warning", F, 3, 11, "resources[0].type")],
  },
  PIPELINE_UNSUPPORTED_JOB_TYPE: {
    load: () =>
      loadOne(yaml`
        jobs:
          - name: ship
            type: deploy
      `),
    expected: [at("PIPELINE_UNSUPPORTED_JOB_TYPE", "warning", F, 3, 11, "jobs[0].type")],
  },
  PIPELINE_UNKNOWN_JOB_TYPE: {
    load: () =>
      loadOne(yaml`
        jobs:
          - name: a
            type: runShh
      `),
    expected: [at("PIPELINE_UNKNOWN_JOB_TYPE", "error", F, 3, 11, "jobs[0].type")],
  },
  PIPELINE_DEPRECATED: {
    load: () =>
      loadOne(yaml`
        jobs:
          - name: a
            type: runCLI
      `),
    expected: [at("PIPELINE_DEPRECATED", "info", F, 3, 11, "jobs[0].type")],
  },
  PIPELINE_ORPHAN_RESOURCE: {
    load: () =>
      loadOne(yaml`
        resources:
          - name: used
            type: params
          - name: lonely
            type: params
        jobs:
          - name: a
            type: runSh
            steps:
              - IN: used
      `),
    expected: [at("PIPELINE_ORPHAN_RESOURCE", "info", F, 4, 5, "resources[1]")],
  },
} as const satisfies Record<DiagnosticCode, Case>;

describe("diagnostic catalog", () => {
  it("has one case per code", () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(DIAGNOSTIC_CODES).sort());
  });

  it.each(Object.entries(CASES) as [DiagnosticCode, Case][])("%s", async (code, { load, expected }) => {
    const result = await load();
    expect(withCode(result, code).map(brief)).toEqual(expected);
    for (const d of expected) expect(d.severity).toBe(DIAGNOSTIC_CODES[code].severity);
    expect(result.ok).toBe(!result.diagnostics.some((d) => d.severity === "error"));
  });
});

describe("hints and messages that must name things", () => {
  it("names an unknown alias and suggests an anchor of shippable.templates.yml", () => {
    const result = loadFiles({
      "shippable.templates.yml": yaml`
        docker_login_tpl: &setup_docker
          - docker login
        docker_build_tpl: &build_image
          - docker build .
      `,
      "images/shippable.yml": yaml`
        jobs:
          - name: build
            type: runSh
            steps:
              - TASK:
                  script:
                    - *setup_dokcer
                    - *build_image
      `,
    });
    const d = only(result, "PIPELINE_YAML_UNKNOWN_ALIAS");
    expect(brief(d)).toEqual(
      at("PIPELINE_YAML_UNKNOWN_ALIAS", "error", "images/shippable.yml", 7, 15, "jobs[0].steps[0].TASK.script[0]"),
    );
    expect(d.message).toContain("setup_dokcer");
    expect(d.hint).toContain('did you mean "setup_docker"?');
  });

  it("lists the anchors in scope when no anchor is close to an unknown alias", () => {
    const result = loadOne(yaml`
      tpl: &shared_steps
        - echo hi
      jobs:
        - name: a
          type: runSh
          steps:
            - TASK:
                script: *completely_different
    `);
    expect(only(result, "PIPELINE_YAML_UNKNOWN_ALIAS").hint).toContain("&shared_steps");
  });

  it('suggests "jobs" for a top-level "job"', () => {
    const result = CASES.PIPELINE_UNKNOWN_TOP_LEVEL_KEY.load();
    expect(only(result, "PIPELINE_UNKNOWN_TOP_LEVEL_KEY").hint).toBe('did you mean "jobs"?');
  });

  it('suggests "dependencyMode" for "dependancyMode"', () => {
    const result = CASES.PIPELINE_UNKNOWN_KEY.load();
    expect(only(result, "PIPELINE_UNKNOWN_KEY").hint).toBe('did you mean "dependencyMode"?');
  });

  it("suggests a known resource type for a misspelt one", () => {
    const result = CASES.PIPELINE_UNKNOWN_RESOURCE_TYPE.load();
    expect(only(result, "PIPELINE_UNKNOWN_RESOURCE_TYPE").hint).toBe('did you mean "gitRepo"?');
  });

  it("suggests a known job type for a misspelt one", () => {
    const result = CASES.PIPELINE_UNKNOWN_JOB_TYPE.load();
    expect(only(result, "PIPELINE_UNKNOWN_JOB_TYPE").hint).toBe('did you mean "runSh"?');
  });

  it("lists the allowed values of an enum", () => {
    const result = loadOne(yaml`
      jobs:
        - name: a
          type: runSh
          triggerMode: sometimes
    `);
    const d = only(result, "PIPELINE_SCHEMA");
    expect(brief(d)).toEqual(at("PIPELINE_SCHEMA", "error", F, 4, 18, "jobs[0].triggerMode"));
    expect(d.hint).toContain('"serial"');
    expect(d.hint).toContain('"parallel"');
  });

  it("explains a reference to the job Shippable created for a CI repository", () => {
    const result = loadOne(yaml`
      jobs:
        - name: deploy_app
          type: runSh
          steps:
            - IN: myrepo_runCI
    `);
    const d = only(result, "PIPELINE_UNKNOWN_REFERENCE");
    expect(brief(d)).toEqual(at("PIPELINE_UNKNOWN_REFERENCE", "error", F, 5, 9, "jobs[0].steps[0].IN"));
    expect(d.message).toContain("myrepo_runCI");
    expect(d.hint).toContain("myrepo_runCI");
    expect(d.hint).toContain("runSh");
  });

  it("explains a reference to the gitRepo Shippable created for a CI repository", () => {
    const result = loadOne(yaml`
      jobs:
        - name: deploy_app
          type: runSh
          steps:
            - IN: myrepo_ciRepo
    `);
    expect(only(result, "PIPELINE_UNKNOWN_REFERENCE").hint).toContain("gitRepo");
  });

  it("suggests a defined name for a misspelt reference", () => {
    const result = loadOne(yaml`
      resources:
        - name: app_repo
          type: gitRepo
      jobs:
        - name: a
          type: runSh
          steps:
            - IN: app_rpeo
            - IN: app_repo
    `);
    expect(only(result, "PIPELINE_UNKNOWN_REFERENCE").hint).toBe('did you mean "app_repo"?');
  });

  it("names both places of a duplicate name", () => {
    const result = CASES.PIPELINE_DUPLICATE_NAME.load();
    const d = only(result, "PIPELINE_DUPLICATE_NAME");
    expect(d.message).toContain("thing");
    expect(d.message).toContain("a.shippable.yml:2:5");
  });

  it("names both names of an env-prefix collision", () => {
    const d = only(CASES.PIPELINE_ENV_PREFIX_COLLISION.load(), "PIPELINE_ENV_PREFIX_COLLISION");
    expect(d.message).toContain("my-app");
    expect(d.message).toContain("myapp");
    expect(d.message).toContain("MYAPP");
  });
});

describe("templates files", () => {
  it("never load the objects a templates file defines, in any file it applies to", () => {
    const result = CASES.PIPELINE_TEMPLATES_OBJECTS.load();
    expect(result.pipeline.resources).toEqual([]);
    expect(result.pipeline.jobs.map((j) => j.name)).toEqual(["a"]);
    expect(result.pipeline.jobs[0]?.steps[0]).toMatchObject({ kind: "TASK", script: ["echo hi"] });
  });
});

describe("YAML limits", () => {
  it("rejects a 9-by-9 alias bomb at once, and loads nothing of that document", { timeout: 5_000 }, () => {
    const text = aliasBomb();
    expect(text.length).toBeLessThan(1200);
    const result = loadOne(text);
    expect(result.diagnostics.map((d) => d.code)).toEqual(["PIPELINE_YAML_ALIAS_LIMIT"]);
    expect(result.pipeline.jobs).toEqual([]);
    expect(result.ok).toBe(false);
  });

  it("counts alias expansion against maxAliasNodes", () => {
    // *c expands to 1 + 10 * (1 + 10 * (1 + 10)) = 1,111 nodes, ten times: over 10,000.
    const text = yaml`
      a: &a [x, x, x, x, x, x, x, x, x, x]
      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
      jobs:
        - name: j
          type: runSh
          steps:
            - TASK:
                script: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
    `;
    expect(codes(loadOne(text))).toEqual([]);
    expect(codes(loadOne(text, F, { maxAliasNodes: 3_000 }))).toEqual(["PIPELINE_YAML_ALIAS_LIMIT"]);
  });

  it("rejects an alias that refers to itself", () => {
    const result = loadOne("loop: &loop [*loop]\njobs: []\n");
    expect(codes(result)).toEqual(["PIPELINE_YAML_ALIAS_LIMIT"]);
    expect(result.diagnostics[0]).toMatchObject({ file: F, line: 1, col: 14 });
  });

  it("reports a tab used as indentation at its line", () => {
    const result = loadOne("jobs:\n\t- name: a\n");
    expect(result.diagnostics.map(brief)).toEqual([at("PIPELINE_YAML_SYNTAX", "error", F, 2, 1, "")]);
  });

  it("reports a syntax error in one file and still loads the others", () => {
    const result = loadFiles({
      "a/shippable.yml": "jobs:\n  - name: a: b\n",
      "b/shippable.yml": "jobs:\n  - name: good\n    type: runSh\n",
    });
    expect(result.diagnostics.map(brief)).toEqual([at("PIPELINE_YAML_SYNTAX", "error", "a/shippable.yml", 2, 11, "")]);
    expect(result.pipeline.jobs.map((j) => j.name)).toEqual(["good"]);
  });

  it("checks the file size cap in loadPipelineDirectory before reading the file", async () => {
    const files = {
      "shippable.yml": "jobs:\n  - name: a\n    type: runSh\n",
      "big/shippable.yml": `jobs: []\n${"#".repeat(500)}\n`,
    };
    const reads: string[] = [];
    const fs = memoryFs(files);
    const result = await loadPipelineDirectory(
      { list: (dir) => fs.list(dir), read: (path) => (reads.push(path), fs.read(path)) },
      { maxFileBytes: 100 },
    );
    expect(result.diagnostics.map(brief)).toEqual([
      at("PIPELINE_FILE_TOO_LARGE", "error", "big/shippable.yml", 1, 1, ""),
    ]);
    expect(reads).toEqual(["shippable.yml"]);
    expect(result.pipeline.jobs.map((j) => j.name)).toEqual(["a"]);
  });

  it("stops reading once the directory cap is passed but keeps what it read", async () => {
    const result = await CASES.PIPELINE_DIR_TOO_LARGE.load();
    expect(result.files).toEqual(["a/shippable.yml"]);
    expect(result.pipeline.jobs.map((j) => j.name)).toEqual(["a"]);
  });
});

describe("warnings and infos never make an object inconsistent", () => {
  it.each([
    ["PIPELINE_UNSUPPORTED_JOB_TYPE", CASES.PIPELINE_UNSUPPORTED_JOB_TYPE.load],
    ["PIPELINE_DEPRECATED", CASES.PIPELINE_DEPRECATED.load],
    ["PIPELINE_UNKNOWN_KEY", CASES.PIPELINE_UNKNOWN_KEY.load],
    ["PIPELINE_IGNORED_KEY", CASES.PIPELINE_IGNORED_KEY.load],
    ["PIPELINE_PROVIDER_TYPE", CASES.PIPELINE_PROVIDER_TYPE.load],
    ["PIPELINE_UNKNOWN_RESOURCE_TYPE", CASES.PIPELINE_UNKNOWN_RESOURCE_TYPE.load],
    ["PIPELINE_ORPHAN_RESOURCE", CASES.PIPELINE_ORPHAN_RESOURCE.load],
  ] as const)("%s", (_code, load) => {
    const result = load();
    expect(result.ok).toBe(true);
    expect(result.diagnostics.every((d) => d.severity !== "error")).toBe(true);
    for (const def of [...result.pipeline.resources, ...result.pipeline.jobs]) expect(def.consistent).toBe(true);
  });

  it("keeps an unsupported job in the line, drawn and never an error", () => {
    const result = CASES.PIPELINE_UNSUPPORTED_JOB_TYPE.load();
    expect(result.pipeline.jobs).toMatchObject([{ name: "ship", type: "deploy", support: "unsupported" }]);
  });
});

describe("references", () => {
  it("reports a replicate of an undefined IN once, as an unknown reference", () => {
    const result = loadOne(yaml`
      resources:
        - { name: img, type: image }
      jobs:
        - name: a
          type: runSh
          steps:
            - IN: ghost
            - OUT: img
              replicate: ghost
    `);
    expect(result.diagnostics.map(brief)).toEqual([
      at("PIPELINE_UNKNOWN_REFERENCE", "error", F, 7, 9, "jobs[0].steps[0].IN"),
    ]);
  });

  it("accepts a replicate of an IN of the job", () => {
    const result = loadOne(yaml`
      resources:
        - { name: img, type: image }
        - { name: img_prod, type: image }
      jobs:
        - name: promote
          type: runSh
          steps:
            - IN: img
            - OUT: img_prod
              replicate: img
    `);
    expect(result.diagnostics).toEqual([]);
  });

  it("counts a notification used only by NOTIFY as used, and reports an undefined one", () => {
    const result = loadOne(yaml`
      resources:
        - { name: team, type: notification }
      jobs:
        - name: a
          type: runSh
          on_success:
            NOTIFY: team
          on_failure:
            - NOTIFY: nobody
    `);
    expect(result.diagnostics.map(brief)).toEqual([
      at("PIPELINE_UNKNOWN_REFERENCE", "error", F, 4, 5, "jobs[0].on_failure.NOTIFY"),
    ]);
  });

  it("accepts an OUT to a job (trigger it when this one finishes)", () => {
    //   a ───> b
    const result = loadOne(yaml`
      jobs:
        - { name: a, type: runSh, steps: [{ OUT: b }] }
        - { name: b, type: runSh }
    `);
    expect(result.diagnostics).toEqual([]);
  });

  it("gives an undefined reference the name of the job and the step", () => {
    const d = only(
      loadOne("jobs:\n  - name: a\n    type: runSh\n    steps:\n      - IN: ghost\n"),
      "PIPELINE_UNKNOWN_REFERENCE",
    );
    expect(d.message).toContain("ghost");
    expect(d.hint).toContain("ghost");
  });
});

describe("state resources", () => {
  it("may be IN and OUT of one job", () => {
    const result = loadOne(yaml`
      resources:
        - name: tf_state
          type: state
      jobs:
        - name: provision
          type: runSh
          steps:
            - IN: tf_state
            - OUT: tf_state
    `);
    expect(result.diagnostics).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it("break cycles: a loop through a state resource is no error", () => {
    //   src --> a --> st(state) --> b --> out
    //            ^                  |
    //            +----- st <--------+   (b also writes st, a reads it)
    const result = loadOne(yaml`
      resources:
        - name: src
          type: gitRepo
        - name: st
          type: state
        - name: out
          type: params
      jobs:
        - name: a
          type: runSh
          steps:
            - IN: src
            - IN: st
            - OUT: st
        - name: b
          type: runSh
          steps:
            - IN: st
            - OUT: st
            - OUT: out
    `);
    expect(result.diagnostics).toEqual([]);
  });

  it("a job-to-job loop is a cycle, reported once", () => {
    //   a --> b --> a   (OUT to a job triggers it)
    const result = loadOne(yaml`
      jobs:
        - name: a
          type: runSh
          steps:
            - OUT: b
        - name: b
          type: runSh
          steps:
            - OUT: a
    `);
    expect(withCode(result, "PIPELINE_CYCLE").map(brief)).toEqual([at("PIPELINE_CYCLE", "error", F, 2, 5, "jobs[0]")]);
    expect(result.pipeline.jobs.map((j) => j.consistent)).toEqual([false, false]);
  });

  it("a range ends where its node's content does, never under a trailing comment", () => {
    const result = loadOne(yaml`
      jobs:
        - name: build
          type: runSh
          steps:
            - IN: rpo   # a typo
            - TASK:
                - script: "true"   # fine
    `);
    const [found] = withCode(result, "PIPELINE_UNKNOWN_REFERENCE");
    // \`      - IN: rpo\`: the step runs from column 9 to the end of "rpo", column 16.
    expect([found?.line, found?.col, found?.endLine, found?.endCol]).toEqual([5, 9, 5, 16]);
  });

  it("gives the name a finding is about, and groups one problem met in many places", () => {
    const result = loadOne(yaml`
      jobs:
        - name: a
          type: runSh
          steps:
            - IN: ghost
            - IN: other
        - name: b
          type: runSh
          steps:
            - IN: ghost
        - name: c
          type: runSh
          steps:
            - IN: ghost
    `);
    const unknown = withCode(result, "PIPELINE_UNKNOWN_REFERENCE");
    expect(unknown.map((d) => d.subject)).toEqual(["ghost", "other", "ghost", "ghost"]);
    const groups = groupDiagnostics(result.diagnostics);
    expect(groups.map((g) => [g.first.subject, g.all.length, g.all.map((d) => d.line)])).toEqual([
      ["ghost", 3, [5, 10, 14]],
      ["other", 1, [6]],
    ]);
    const orphan = { ...unknown[0], code: "PIPELINE_ORPHAN_RESOURCE", subject: undefined } as Diagnostic;
    expect(groupDiagnostics([orphan, orphan]).map((g) => g.all.length)).toEqual([1, 1]);
  });

  it("a name that starts with . or - is invalid: it could not be a path segment, a directory or an argument", () => {
    const result = loadOne(yaml`
      resources:
        - name: ..
          type: params
          version: { a: 1 }
        - name: .hidden
          type: params
          version: { a: 1 }
      jobs:
        - name: -rf
          type: runSh
          steps:
            - IN: ..
            - TASK:
                - script: "true"
        - name: _ok-1.2
          type: runSh
          steps:
            - IN: .hidden
            - TASK:
                - script: "true"
    `);
    expect(withCode(result, "PIPELINE_INVALID_NAME").map((d) => [d.line, d.path, d.message])).toEqual([
      [2, "resources[0].name", "name: must start with a letter, a digit or _"],
      [5, "resources[1].name", "name: must start with a letter, a digit or _"],
      [9, "jobs[0].name", "name: must start with a letter, a digit or _"],
      [12, "jobs[0].steps[0].IN", "IN: must start with a letter, a digit or _"],
      [18, "jobs[1].steps[0].IN", "IN: must start with a letter, a digit or _"],
    ]);
    expect(withCode(result, "PIPELINE_INVALID_NAME")[0]?.hint).toMatch(
      /URL path segment, a directory name and a command-line argument/,
    );
    // Each loads inconsistent (never triggered); `_ok-1.2` is a good name, inconsistent only by its IN.
    expect(result.pipeline.jobs.map((j) => [j.name, j.consistent])).toEqual([
      ["-rf", false],
      ["_ok-1.2", false],
    ]);
  });
});
