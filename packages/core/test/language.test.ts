import { describe, expect, it } from "vitest";
import { DEFAULT_PRIORITY, DEFAULT_TIMEOUT_MINUTES, loadPipelineDirectory } from "../src/index.js";
import { brief, job, loadFiles, loadOne, memoryFs, resource, withCode, yaml } from "./helpers.js";

// How the loader normalises what real files write: templates, merge keys, the two syntaxes of
// resources, TASK and hooks, defaults and Causeway's extensions. Diagnostics per code are in
// diagnostics.test.ts.

const TEMPLATES = yaml`
  # Shared scripts, as Shippable__buildami writes them.
  login_tpl: &docker_login
    - docker login -u "$USER" -p "$PASS"

  build_tpl: &docker_build
    - docker build -t "$IMG" .
    - docker push "$IMG"

  job_defaults: &job_defaults
    type: runSh
    dependencyMode: strict
`;

describe("shippable.templates.yml", () => {
  it("lends its anchors to a file in a sub-directory, with positions in the user file", () => {
    const result = loadFiles({
      "shippable.templates.yml": TEMPLATES,
      "images/app/shippable.yml": yaml`
        jobs:
          - <<: *job_defaults
            name: build_app
            steps:
              - IN: app_rpo
              - TASK:
                  script:
                    - *docker_login
                    - *docker_build
                    - echo done
            priorty: 1
      `,
    });
    expect(result.diagnostics.map(brief)).toEqual([
      {
        code: "PIPELINE_UNKNOWN_REFERENCE",
        severity: "error",
        file: "images/app/shippable.yml",
        line: 5,
        col: 9,
        path: "jobs[0].steps[0].IN",
      },
      {
        code: "PIPELINE_UNKNOWN_KEY",
        severity: "warning",
        file: "images/app/shippable.yml",
        line: 11,
        col: 5,
        path: "jobs[0].priorty",
      },
    ]);
    const build = job(result, "build_app");
    expect(build).toMatchObject({ type: "runSh", dependencyMode: "strict" });
    expect(build.origin).toMatchObject({ file: "images/app/shippable.yml", path: "jobs[0]" });
    expect(build.origin.range).toMatchObject({ line: 2, col: 5 });
    expect(build.steps[1]).toMatchObject({
      kind: "TASK",
      script: ['docker login -u "$USER" -p "$PASS"', 'docker build -t "$IMG" .', 'docker push "$IMG"', "echo done"],
    });
    expect(result.files).toEqual(["images/app/shippable.yml", "shippable.templates.yml"]);
  });

  it("keeps positions right when the user file starts with a document marker", () => {
    const result = loadFiles({
      "shippable.templates.yml": TEMPLATES,
      "ci/shippable.yml":
        "# the line\n---\njobs:\n  - name: a\n    type: runShh\n    steps:\n      - TASK:\n          script: *docker_login\n",
    });
    expect(result.diagnostics.map(brief)).toEqual([
      {
        code: "PIPELINE_UNKNOWN_JOB_TYPE",
        severity: "error",
        file: "ci/shippable.yml",
        line: 5,
        col: 11,
        path: "jobs[0].type",
      },
    ]);
    expect(job(result, "a").steps[0]).toMatchObject({ script: ['docker login -u "$USER" -p "$PASS"'] });
  });

  it("reports a YAML error of the user file at the user file's line", () => {
    const result = loadFiles({
      "shippable.templates.yml": TEMPLATES,
      "deep/er/shippable.yml": "jobs:\n  - name: a\n    type: runSh\n  - name: b: c\n",
    });
    expect(result.diagnostics.map(brief)).toEqual([
      { code: "PIPELINE_YAML_SYNTAX", severity: "error", file: "deep/er/shippable.yml", line: 4, col: 11, path: "" },
    ]);
  });

  it("applies the nearest templates file only, and never a sibling directory's", () => {
    const result = loadFiles({
      "shippable.templates.yml": "root_tpl: &tpl\n  - echo root\n",
      "a/shippable.templates.yml": "a_tpl: &tpl\n  - echo a\n",
      "a/x/shippable.yml": "jobs:\n  - name: ax\n    type: runSh\n    steps:\n      - TASK:\n          script: *tpl\n",
      "b/shippable.yml": "jobs:\n  - name: b\n    type: runSh\n    steps:\n      - TASK:\n          script: *tpl\n",
      "c/shippable.yml": "jobs:\n  - name: c\n    type: runSh\n    steps:\n      - TASK:\n          script: *a_only\n",
    });
    expect(job(result, "ax").steps[0]).toMatchObject({ script: ["echo a"] });
    expect(job(result, "b").steps[0]).toMatchObject({ script: ["echo root"] });
    expect(withCode(result, "PIPELINE_YAML_UNKNOWN_ALIAS").map(brief)).toEqual([
      {
        code: "PIPELINE_YAML_UNKNOWN_ALIAS",
        severity: "error",
        file: "c/shippable.yml",
        line: 6,
        col: 19,
        path: "jobs[0].steps[0].TASK.script",
      },
    ]);
  });

  it("reports a problem of the templates file once, in the templates file", () => {
    const result = loadFiles({
      "shippable.templates.yml": "tpl: &tpl\n  - echo a\ntpl: &other\n  - echo b\n",
      "a/shippable.yml": "jobs:\n  - name: a\n    type: runSh\n",
      "b/shippable.yml": "jobs:\n  - name: b\n    type: runSh\n",
    });
    expect(result.diagnostics.map(brief)).toEqual([
      {
        code: "PIPELINE_YAML_DUPLICATE_KEY",
        severity: "error",
        file: "shippable.templates.yml",
        line: 3,
        col: 1,
        path: "tpl",
      },
    ]);
    expect(result.pipeline.jobs.map((j) => j.name)).toEqual(["a", "b"]);
  });
});

describe("merge keys", () => {
  it("merge one mapping or a list of mappings; keys written in place win", () => {
    const result = loadOne(yaml`
      base: &base
        type: runSh
        dependencyMode: strict
        priority: 5
      slow: &slow
        runtime:
          timeoutMinutes: 240
      jobs:
        - <<: *base
          name: a
        - <<: [*base, *slow]
          name: b
          priority: 1
    `);
    expect(result.diagnostics).toEqual([]);
    expect(job(result, "a")).toMatchObject({ type: "runSh", dependencyMode: "strict", priority: 5 });
    expect(job(result, "b")).toMatchObject({
      type: "runSh",
      dependencyMode: "strict",
      priority: 1,
      runtime: { timeoutMinutes: 240 },
    });
  });
});

describe("legacy triggers", () => {
  it("counts the items of a triggers: list as resources", () => {
    const result = loadFiles({
      "shippable.triggers.yml": "triggers:\n  - name: redeploy\n    type: trigger\n    version:\n      counter: 1\n",
      "shippable.jobs.yml": "jobs:\n  - name: deploy\n    type: runSh\n    steps:\n      - IN: redeploy\n",
    });
    expect(result.diagnostics).toEqual([]);
    expect(resource(result, "redeploy")).toMatchObject({
      type: "trigger",
      legacyTrigger: true,
      template: { counter: 1 },
      consistent: true,
    });
    expect(result.summary).toEqual({ resources: 1, jobs: 1, edges: 1 });
  });

  it("rejects an item of triggers: that is not a trigger", () => {
    const result = loadOne("triggers:\n  - name: repo\n    type: gitRepo\n", "shippable.triggers.yml");
    expect(withCode(result, "PIPELINE_SCHEMA").map(brief)).toEqual([
      {
        code: "PIPELINE_SCHEMA",
        severity: "error",
        file: "shippable.triggers.yml",
        line: 3,
        col: 11,
        path: "triggers[0].type",
      },
    ]);
    expect(resource(result, "repo").consistent).toBe(false);
  });
});

describe("resources", () => {
  it("normalise versionTemplate and the legacy pointer/seed/version to the same template", () => {
    const result = loadOne(yaml`
      resources:
        - name: new_style
          type: image
          integration: hub
          versionTemplate:
            sourceName: org/app
            isPull: false
            versionName: "1.0"
        - name: old_style
          type: image
          integration: hub
          pointer:
            sourceName: org/app
            isPull: false
          seed:
            versionName: "1.0"
      jobs:
        - name: j
          type: runSh
          steps:
            - IN: new_style
            - IN: old_style
    `);
    expect(result.diagnostics).toEqual([]);
    const a = resource(result, "new_style");
    const b = resource(result, "old_style");
    expect(a.syntax).toBe("versionTemplate");
    expect(b.syntax).toBe("legacy");
    expect(b.template).toEqual(a.template);
    expect(a.template).toEqual({ sourceName: "org/app", isPull: false, versionName: "1.0" });
    expect(b.pointer).toEqual({ sourceName: "org/app", isPull: false });
    expect(b.seed).toEqual({ versionName: "1.0" });
    expect([a.integration, b.integration]).toEqual(["hub", "hub"]);
    expect([a.support, b.support]).toEqual(["generic", "generic"]);
  });

  it("classifies types: generic, provider, system, unknown", () => {
    const result = loadOne(yaml`
      resources:
        - { name: r1, type: params }
        - { name: r2, type: cluster }
        - { name: r3, type: ciRepo }
        - { name: r4, type: spaceship }
    `);
    expect(result.pipeline.resources.map((r) => [r.name, r.support])).toEqual([
      ["r1", "generic"],
      ["r2", "provider"],
      ["r3", "system"],
      ["r4", "unknown"],
    ]);
  });
});

describe("TASK", () => {
  it("accepts the mapping form, the legacy list form and managed", () => {
    const result = loadOne(yaml`
      jobs:
        - name: mapping_form
          type: runSh
          steps:
            - TASK:
                name: build
                script:
                  - npm ci
                  - [npm test, npm pack]
                runtime:
                  container: true
                  options:
                    imageName: node
                    imageTag: 20
                    options: "--privileged"
                    env:
                      - CI: true
                      - NODE_ENV: test
            - TASK:
                script: echo second
        - name: list_form
          type: runSh
          steps:
            - TASK:
                - script: npm ci
                - script:
                    - npm test
                    - npm pack
        - name: managed_form
          type: release
          steps:
            - TASK: managed
              bump: patch
    `);
    expect(result.diagnostics).toEqual([]);
    const [first, second] = job(result, "mapping_form").steps;
    expect(first).toMatchObject({
      kind: "TASK",
      name: "build",
      managed: false,
      script: ["npm ci", "npm test", "npm pack"],
      container: true,
      image: { name: "node", tag: "20" },
      containerOptions: "--privileged",
      env: { CI: "true", NODE_ENV: "test" },
    });
    expect(second).toMatchObject({ name: "Task 2", script: ["echo second"], container: undefined, image: undefined });
    expect(job(result, "list_form").steps).toMatchObject([
      { kind: "TASK", name: "Task 1", managed: false, script: ["npm ci", "npm test", "npm pack"] },
    ]);
    const managed = job(result, "managed_form");
    expect(managed.steps).toMatchObject([{ kind: "TASK", managed: true, script: [], options: { bump: "patch" } }]);
    expect(managed.options).toEqual({ bump: "patch" });
  });

  it("defaults the image tag to latest", () => {
    const result = loadOne(yaml`
      jobs:
        - name: j
          type: runSh
          steps:
            - TASK:
                script: [make]
                runtime:
                  options:
                    imageName: alpine
    `);
    expect(job(result, "j").steps[0]).toMatchObject({ image: { name: "alpine", tag: "latest" } });
  });
});

describe("hooks", () => {
  it("accept the object form and the legacy list form", () => {
    const result = loadOne(yaml`
      resources:
        - name: team
          type: notification
      jobs:
        - name: object_form
          type: runSh
          on_start:
            NOTIFY: team
          on_success:
            script:
              - echo ok
              - echo really
            NOTIFY: team
          on_failure:
            script: echo failed
          always:
            script: [echo always]
        - name: list_form
          type: runSh
          on_success:
            - script: echo ok
            - script: echo really
            - NOTIFY: team
          on_failure:
            - script: echo failed
          on_cancel:
            - NOTIFY: [team]
          always:
            - script: echo always
    `);
    expect(result.diagnostics).toEqual([]);
    const a = job(result, "object_form").hooks;
    const b = job(result, "list_form").hooks;
    const team = { name: "team", sendFailingSnippet: false };
    expect(a.on_success).toEqual({ script: ["echo ok", "echo really"], notify: [team] });
    expect(b.on_success).toEqual(a.on_success);
    expect(b.on_failure).toEqual(a.on_failure);
    expect(b.always).toEqual(a.always);
    expect(a.on_start).toEqual({ script: [], notify: [team] });
    expect(b.on_cancel).toEqual({ script: [], notify: [team] });
    expect(a.on_cancel).toEqual({ script: [], notify: [] });
  });

  it("read NOTIFY items as names or {name, sendFailingSnippet}, in both forms", () => {
    const result = loadOne(yaml`
      resources:
        - name: team
          type: notification
          versionTemplate:
            method: email
            recipients: [ops@example.com]
        - name: chat
          type: notification
          integration: slack
          pointer:
            recipients: ["#deploys"]
      jobs:
        - name: object_form
          type: runSh
          on_failure:
            script: echo failed
            NOTIFY:
              - name: team
                sendFailingSnippet: true
              - chat
        - name: list_form
          type: runSh
          on_failure:
            - NOTIFY:
                name: team
                sendFailingSnippet: true
            - NOTIFY: chat
    `);
    expect(result.diagnostics).toEqual([]);
    const expected = [
      { name: "team", sendFailingSnippet: true },
      { name: "chat", sendFailingSnippet: false },
    ];
    expect(job(result, "object_form").hooks.on_failure.notify).toEqual(expected);
    expect(job(result, "list_form").hooks.on_failure.notify).toEqual(expected);
  });
});

describe("IN steps", () => {
  it("read switch: off (a string) and switch: false alike", () => {
    const result = loadOne(yaml`
      resources:
        - { name: r1, type: params }
        - { name: r2, type: params }
        - { name: r3, type: params }
        - { name: r4, type: params }
        - { name: r5, type: params }
      jobs:
        - name: j
          type: runSh
          steps:
            - IN: r1
              switch: off
            - IN: r2
              switch: false
            - IN: r3
              switch: "Off"
            - IN: r4
              switch: on
            - IN: r5
    `);
    expect(result.diagnostics).toEqual([]);
    expect(job(result, "j").steps.map((s) => s.kind === "IN" && s.switchOff)).toEqual([true, true, true, false, false]);
  });

  it("keep pins, per-input dependencyMode and other options", () => {
    const result = loadOne(yaml`
      resources:
        - { name: img, type: image }
        - { name: repo, type: gitRepo }
      jobs:
        - name: j
          type: runSh
          steps:
            - IN: img
              versionName: "2.1"
              pull: true
            - IN: repo
              versionNumber: 7
              dependencyMode: immediate
              showBuildStatus: true
    `);
    expect(result.diagnostics).toEqual([]);
    expect(job(result, "j").steps).toMatchObject([
      { kind: "IN", name: "img", versionName: "2.1", versionNumber: undefined, options: { pull: true } },
      {
        kind: "IN",
        name: "repo",
        versionNumber: 7,
        dependencyMode: "immediate",
        options: { showBuildStatus: true },
      },
    ]);
  });
});

describe("OUT steps", () => {
  it("keep replicate, overwrite and on_failure", () => {
    const result = loadOne(yaml`
      resources:
        - { name: src_img, type: image }
        - { name: dst_img, type: image }
      jobs:
        - name: promote
          type: runSh
          steps:
            - IN: src_img
            - OUT: dst_img
              replicate: src_img
              overwrite: true
              on_failure: true
    `);
    expect(result.diagnostics).toEqual([]);
    expect(job(result, "promote").steps[1]).toMatchObject({
      kind: "OUT",
      name: "dst_img",
      replicate: "src_img",
      replicateOnPullRequest: true,
      overwrite: true,
      onFailure: true,
    });
  });
});

describe("jobs", () => {
  it("get the defaults of design §2", () => {
    const result = loadOne("jobs:\n  - name: bare\n    type: runSh\n");
    expect(result.diagnostics).toEqual([]);
    expect(job(result, "bare")).toMatchObject({
      type: "runSh",
      support: "runnable",
      steps: [],
      dependencyMode: "chrono",
      triggerMode: "serial",
      priority: 9999,
      runtime: { nodePool: undefined, container: undefined, timeoutMinutes: 60 },
      integrations: [],
      flags: [],
      allowPublicAccess: false,
      requiresApproval: undefined,
      retries: { max: 0, on: ["lost"] },
      concurrencyGroup: undefined,
      coalesce: undefined,
      params: [],
      options: {},
      consistent: true,
    });
    expect([DEFAULT_PRIORITY, DEFAULT_TIMEOUT_MINUTES]).toEqual([9999, 60]);
  });

  it("keep what is written", () => {
    const result = loadOne(yaml`
      jobs:
        - name: full
          type: runSh
          dependencyMode: immediate
          triggerMode: parallel
          priority: 0
          runtime:
            nodePool: big_boxes
            container: false
            timeoutMinutes: 15
          integrations: [aws_keys]
          flags: [backend, prod]
          allowPublicAccess: true
    `);
    expect(result.diagnostics).toEqual([]);
    expect(job(result, "full")).toMatchObject({
      dependencyMode: "immediate",
      triggerMode: "parallel",
      priority: 0,
      runtime: { nodePool: "big_boxes", container: false, timeoutMinutes: 15 },
      integrations: ["aws_keys"],
      flags: ["backend", "prod"],
      allowPublicAccess: true,
    });
  });

  it("normalise Causeway's extensions", () => {
    const result = loadOne(yaml`
      jobs:
        - name: gated
          type: runSh
          requiresApproval:
            approvers: [alice, ops-team]
            minApprovals: 2
            timeoutMinutes: 30
            onTimeout: approve
            preventSelfApproval: true
          retries:
            max: 3
            on: [failure, timeout]
          concurrencyGroup: prod-deploys
          coalesce: latest
          params:
            target:
              type: choice
              choices: [staging, prod]
              default: staging
              required: true
              description: where to deploy
            dry_run:
              type: boolean
              default: false
            note: {}
        - name: simple
          type: runSh
          requiresApproval: true
          retries: 2
    `);
    expect(result.diagnostics).toEqual([]);
    expect(job(result, "gated")).toMatchObject({
      requiresApproval: {
        approvers: ["alice", "ops-team"],
        minApprovals: 2,
        timeoutMinutes: 30,
        onTimeout: "approve",
        preventSelfApproval: true,
      },
      retries: { max: 3, on: ["failure", "timeout"] },
      concurrencyGroup: "prod-deploys",
      coalesce: "latest",
      params: [
        {
          name: "target",
          type: "choice",
          default: "staging",
          choices: ["staging", "prod"],
          required: true,
          description: "where to deploy",
        },
        { name: "dry_run", type: "boolean", default: false, choices: [], required: false, description: undefined },
        { name: "note", type: "string", default: undefined, choices: [], required: false, description: undefined },
      ],
    });
    expect(job(result, "simple")).toMatchObject({
      requiresApproval: { approvers: [], minApprovals: 1, timeoutMinutes: 1440, onTimeout: "reject" },
      retries: { max: 2, on: ["lost"] },
    });
  });

  it("reject a bad extension value as a schema error", () => {
    const result = loadOne(yaml`
      jobs:
        - name: j
          type: runSh
          retries:
            max: 1000
          coalesce: oldest
    `);
    expect(withCode(result, "PIPELINE_SCHEMA").map((d) => d.path)).toEqual(["jobs[0].retries.max", "jobs[0].coalesce"]);
    expect(job(result, "j").consistent).toBe(false);
  });
});

describe("consistency", () => {
  it("marks only the objects with an error inconsistent", () => {
    //   repo --> build --> img --> deploy          (consistent)
    //   ghost?-> broken                            (unknown IN: inconsistent)
    //            typo_job (priority: high)         (schema error: inconsistent)
    //   repo2 (warning only: unknown type)         (consistent)
    const result = loadOne(yaml`
      resources:
        - name: repo
          type: gitRepo
        - name: img
          type: image
        - name: repo2
          type: gitRepoo
        - name: bad name
          type: params
      jobs:
        - name: build
          type: runSh
          steps:
            - IN: repo
            - IN: repo2
            - OUT: img
        - name: deploy
          type: deploy
          steps:
            - IN: img
        - name: broken
          type: runSh
          steps:
            - IN: ghost
        - name: typo_job
          type: runSh
          priority: high
    `);
    const consistency = [...result.pipeline.resources, ...result.pipeline.jobs].map((d) => [d.name, d.consistent]);
    expect(consistency).toEqual([
      ["repo", true],
      ["img", true],
      ["repo2", true],
      ["bad name", false],
      ["build", true],
      ["deploy", true],
      ["broken", false],
      ["typo_job", false],
    ]);
    expect(result.ok).toBe(false);
  });

  it("keeps the first of two objects with one name and marks the second", () => {
    const result = loadFiles({
      "a/shippable.yml": "resources:\n  - name: x\n    type: params\n",
      "b/shippable.yml": "resources:\n  - name: x\n    type: gitRepo\n",
    });
    expect(result.pipeline.resources).toMatchObject([{ name: "x", type: "params", consistent: true }]);
    expect(result.summary.resources).toBe(1);
  });
});

describe("loadPipelineDirectory", () => {
  it("reads the files of design §2 in every sub-directory, and nothing else", async () => {
    const result = await loadPipelineDirectory(
      memoryFs({
        "shippable.yml": "resources:\n  - { name: r0, type: params }\n",
        "my.causeway.yml": "resources:\n  - { name: r1, type: params }\n",
        "x/shippable.resources.yml": "resources:\n  - { name: r2, type: params }\n",
        "x/shippable.jobs.yml":
          "jobs:\n  - name: j\n    type: runSh\n    steps: [{IN: r0}, {IN: r1}, {IN: r2}, {IN: t}]\n",
        "x/y/shippable.triggers.yml": "triggers:\n  - { name: t, type: trigger }\n",
        "x/shippable.templates.yml": "tpl: &tpl [echo]\n",
        "shippable.yaml": "resources: [{ name: no, type: params }]\n",
        "ci.yml": "resources: [{ name: no2, type: params }]\n",
        ".git/shippable.yml": "resources: [{ name: no3, type: params }]\n",
        "node_modules/pkg/shippable.yml": "resources: [{ name: no4, type: params }]\n",
      }),
    );
    expect(result.files).toEqual([
      "my.causeway.yml",
      "shippable.yml",
      "x/shippable.jobs.yml",
      "x/shippable.resources.yml",
      "x/shippable.templates.yml",
      "x/y/shippable.triggers.yml",
    ]);
    expect(result.diagnostics).toEqual([]);
    expect(result.summary).toEqual({ resources: 4, jobs: 1, edges: 4 });
  });

  it("stops at maxDepth", async () => {
    const result = await loadPipelineDirectory(
      memoryFs({ "shippable.yml": "jobs: []\n", "a/b/c/shippable.yml": "jobs: []\n" }),
      { maxDepth: 2 },
    );
    expect(result.files).toEqual(["shippable.yml"]);
  });

  it("rejects nonsense limits", () => {
    expect(() => loadOne("jobs: []\n", "shippable.yml", { maxFileBytes: 0 })).toThrow(RangeError);
  });
});
