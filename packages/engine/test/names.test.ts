import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "./harness.js";

// A name that is not what a command needs gets an error that points the way: the nearest names
// by the language's did-you-mean rule, or what the name is and what to do instead.
//
//   app_repo ──► build ──► deploy_staging ──► smoke_test
//                      └─► deploy_production
let h: Harness;

beforeAll(async () => {
  h = await makeHarness();
  await h.apply(`
resources:
  - { name: app_repo, type: params, version: { a: 1 } }
jobs:
  - { name: build, type: runSh, steps: [ { IN: app_repo }, { TASK: { script: [ "true" ] } } ] }
  - { name: deploy_staging, type: runSh, steps: [ { IN: build }, { TASK: { script: [ "true" ] } } ] }
  - { name: deploy_production, type: runSh, steps: [ { IN: build }, { TASK: { script: [ "true" ] } } ] }
  - { name: smoke_test, type: runSh, steps: [ { IN: deploy_staging }, { TASK: { script: [ "true" ] } } ] }
`);
});
afterAll(() => h.close());

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string; hint?: string }> {
  return (await p.then(
    () => expect.fail("expected a refusal"),
    (e: unknown) => e,
  )) as { code: string; message: string; hint?: string };
}

describe("a job name that is not a job", () => {
  it.each([
    ["a transposition", "biuld", 'did you mean "build"?'],
    ["the start of a name", "deploy_prod", 'did you mean "deploy_production"?'],
    ["the start of two names", "deploy", 'did you mean "deploy_staging" or "deploy_production"?'],
    [
      "nothing close: the jobs are listed",
      "zebra",
      "the jobs are build, deploy_production, deploy_staging, smoke_test",
    ],
  ])("%s (%s)", async (_what, name, hint) => {
    for (const call of [() => h.engine.trigger(name), () => h.engine.why(name), () => h.engine.setPaused(name, true)])
      expect(await refusal(call())).toEqual(
        expect.objectContaining({ code: "JOB_NOT_FOUND", message: `no job named ${name}`, hint }),
      );
  });

  it("a resource: says so, and how to give it a version instead", async () => {
    const error = await refusal(h.engine.trigger("app_repo"));
    expect(error).toMatchObject({ code: "JOB_NOT_FOUND", message: "app_repo is a resource, not a job" });
    expect(error.hint).toBe(
      "a resource gets versions, not runs: `causeway put-version app_repo versionName=...` makes one and triggers the jobs that take it as IN (build)",
    );
  });
});

describe("a resource name that is not a resource", () => {
  it("a job: says so, and how to run it", async () => {
    const error = await refusal(h.engine.putVersion("build", { versionName: "x" }));
    expect(error).toMatchObject({ code: "RESOURCE_NOT_FOUND", message: "build is a job, not a resource" });
    expect(error.hint).toMatch(/`causeway trigger build`/);
  });

  it("a typo: the nearest resource", async () => {
    expect(await refusal(h.engine.putVersion("app_rpeo", {}))).toMatchObject({
      code: "RESOURCE_NOT_FOUND",
      hint: 'did you mean "app_repo"?',
    });
  });
});
