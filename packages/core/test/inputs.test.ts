import { describe, expect, it } from "vitest";
import { inputRules, type InputRule } from "../src/index.js";
import { job, loadOne, named, yaml } from "./helpers.js";

// docs/semantics.md "Inputs are frozen at creation": when a run is created, every IN is resolved
// to one exact version, by the first rule that applies:
//   1. a run-time pin (`causeway pin`, or `--pin` of a manual run): that version number;
//   2. a YAML pin: `versionNumber`, or the latest version with that `versionName`;
//   3. the input that triggered the run: the version that triggered it;
//   4. otherwise, for a resource its latest version, for a job its latest successful run's.

//   app_repo ────────────────────────┐
//   base_img (versionNumber: 3) ─────┤
//   os_img   (versionName: "20.04") ─┤
//   cfg      (switch: off) ──────────┼──> deploy ──OUT──> app_img
//   build (a job) ───────────────────┘
const LINE = loadOne(yaml`
  resources:
    - name: app_repo
      type: gitRepo
      versionTemplate: { sourceName: ./app-repo }
    - name: base_img
      type: image
      versionTemplate: { sourceName: acme/base }
    - name: os_img
      type: image
      versionTemplate: { sourceName: acme/os }
    - name: cfg
      type: params
      versionTemplate: { params: { STAGE: prod } }
    - name: app_img
      type: image
      versionTemplate: { sourceName: acme/app }
  jobs:
    - name: build
      type: runSh
      steps:
        - IN: app_repo
        - TASK: { script: [make] }
    - name: deploy
      type: runSh
      steps:
        - IN: app_repo
        - IN: base_img
          versionNumber: 3
        - TASK: { script: [./deploy.sh] }
        - IN: os_img
          versionName: "20.04"
        - IN: cfg
          switch: off
        - OUT: app_img
        - IN: build
`);
const DEPLOY = job(LINE, "deploy");
const isJob = (name: string): boolean => LINE.pipeline.jobs.some((j) => j.name === name);

interface Case {
  readonly name: string;
  /** Run-time pins. */
  readonly pins?: Readonly<Record<string, number>>;
  /** The input that triggered the run and the version id that did. */
  readonly trigger?: { readonly input: string; readonly versionId: number };
  readonly input: string;
  readonly expected: InputRule;
}

function ruleOf(c: Case): InputRule | undefined {
  const rules = inputRules(DEPLOY, isJob, new Map(Object.entries(c.pins ?? {})), c.trigger);
  return rules.find((r) => r.step.name === c.input)?.rule;
}

describe("inputRules: which version each IN of a new run is frozen to", () => {
  it("the job is consistent (the rules below are about a line that loads)", () => {
    expect(DEPLOY.consistent).toBe(true);
  });

  it.each(
    named<Case>([
      {
        name: "with no trigger and no pin, a resource IN takes its latest version",
        input: "app_repo",
        expected: { kind: "latest" },
      },
      {
        name: "with no trigger and no pin, a job IN takes its latest successful run's version",
        input: "build",
        expected: { kind: "latestSuccess" },
      },
      {
        name: "the input that triggered the run takes the version that triggered it",
        trigger: { input: "app_repo", versionId: 41 },
        input: "app_repo",
        expected: { kind: "trigger", versionId: 41 },
      },
      {
        name: "a job input that triggered the run takes the triggering run's version",
        trigger: { input: "build", versionId: 9 },
        input: "build",
        expected: { kind: "trigger", versionId: 9 },
      },
      {
        name: "an input that did not trigger the run takes its latest version",
        trigger: { input: "build", versionId: 9 },
        input: "app_repo",
        expected: { kind: "latest" },
      },
      {
        name: "a YAML versionNumber pin takes that version number",
        input: "base_img",
        expected: { kind: "pinNumber", versionNumber: 3 },
      },
      {
        name: "a YAML versionName pin takes the latest version with that name",
        input: "os_img",
        expected: { kind: "pinName", versionName: "20.04" },
      },
      {
        name: "a run-time pin takes that version number",
        pins: { app_repo: 2 },
        input: "app_repo",
        expected: { kind: "pinNumber", versionNumber: 2 },
      },
      {
        name: "a run-time pin of a job input takes that version number, successful or not",
        pins: { build: 4 },
        input: "build",
        expected: { kind: "pinNumber", versionNumber: 4 },
      },
      {
        name: "a run-time pin wins over a YAML versionNumber pin",
        pins: { base_img: 5 },
        input: "base_img",
        expected: { kind: "pinNumber", versionNumber: 5 },
      },
      {
        name: "a run-time pin wins over a YAML versionName pin",
        pins: { os_img: 6 },
        input: "os_img",
        expected: { kind: "pinNumber", versionNumber: 6 },
      },
      {
        name: "a run-time pin wins over the triggering version",
        pins: { app_repo: 2 },
        trigger: { input: "app_repo", versionId: 41 },
        input: "app_repo",
        expected: { kind: "pinNumber", versionNumber: 2 },
      },
      {
        name: "a YAML pin wins over the triggering version: a pinned input never moves",
        trigger: { input: "base_img", versionId: 77 },
        input: "base_img",
        expected: { kind: "pinNumber", versionNumber: 3 },
      },
      {
        name: "an input with switch: off is still used: it takes its latest version",
        input: "cfg",
        expected: { kind: "latest" },
      },
      {
        name: "a pin on another input changes nothing for this one",
        pins: { base_img: 5 },
        input: "app_repo",
        expected: { kind: "latest" },
      },
    ]),
  )("%s", (_name, c) => {
    expect(ruleOf(c)).toEqual(c.expected);
  });

  it("gives one rule per IN step, in step order, and none for OUT and TASK steps", () => {
    const rules = inputRules(DEPLOY, isJob, new Map(), undefined);
    expect(rules.map((r) => r.step.name)).toEqual(["app_repo", "base_img", "os_img", "cfg", "build"]);
  });
});
