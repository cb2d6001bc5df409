import { ExternalCIAnswerSchema, RunSchema, VersionSchema, WhySchema } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startHookServer, type HookServer } from "./hook-server.js";
import { waitFor, yaml } from "./helpers.js";

// `POST /api/v1/externalCI` (docs/api.md, shippable.md §5.9): another CI system reports the
// builds of an externalCI job; its version data reaches the jobs downstream. Real server, real
// HTTP, real bash and shipctl in the downstream job.

const LINE = yaml`
  resources:
    - name: jenkins
      type: externalCIServer
  jobs:
    - name: jenkins_build
      type: externalCI
      steps:
        - IN: jenkins
    - name: deploy
      type: runSh
      steps:
        - IN: jenkins_build
        - TASK:
            script:
              - echo "artifact=$(shipctl get_resource_version_key jenkins_build artifact)"
              - echo "build=$(shipctl get_resource_version_key jenkins_build externalBuildId)"
`;

let s: HookServer;
beforeAll(async () => {
  s = await startHookServer({ "causeway.yml": LINE });
});
afterAll(async () => {
  await s.stop();
});

const report = (body: unknown) => s.api("POST", "/externalCI", body);
const runsOf = async (job: string) => z.array(RunSchema).parse((await s.api("GET", `/runs?job=${job}`)).body);

describe("POST /api/v1/externalCI", () => {
  it("notes a build in progress, turns its success into a run and a version read downstream, once per build", async () => {
    const processing = await report({
      jobName: "jenkins_build",
      statusCode: 4001,
      externalBuildId: 17,
      externalBuildUrl: "https://ci/17",
    });
    expect(processing.status).toBe(200);
    expect(ExternalCIAnswerSchema.parse(processing.body)).toEqual({ run: null, duplicate: false });
    const why = WhySchema.parse((await s.api("GET", "/jobs/jenkins_build/why")).body);
    expect(why.explains[0]).toMatchObject({
      event: "external build 17 reported processing by externalCI",
      message: expect.stringContaining("https://ci/17"),
    });
    expect(await runsOf("jenkins_build")).toEqual([]);

    const body = {
      jobName: "jenkins_build",
      statusCode: 4002,
      externalCIServerId: "jenkins",
      externalBuildId: 17,
      externalBuildUrl: "https://ci/17",
      versionData: { artifact: "app-1.4.tgz", tests: 212 },
    };
    const success = await report(body);
    expect(success.status).toBe(201);
    const { run } = ExternalCIAnswerSchema.parse(success.body);
    expect(run).toMatchObject({ job: "jenkins_build", status: "success", params: { EXTERNAL_BUILD_ID: "17" } });
    const [version] = z.array(VersionSchema).parse((await s.api("GET", "/objects/jenkins_build/versions")).body);
    expect(version?.propertyBag).toEqual({
      artifact: "app-1.4.tgz",
      tests: "212",
      externalBuildId: "17",
      externalBuildUrl: "https://ci/17",
    });
    const [deploy] = await waitFor("the downstream run", async () => {
      const runs = await runsOf("deploy");
      return runs.length > 0 ? runs : undefined;
    });
    const done = await s.finished(deploy?.id ?? 0);
    expect(done.status).toBe("success");
    const log = String((await s.api("GET", `/runs/${done.id}/logs`)).body);
    expect(log).toContain("artifact=app-1.4.tgz\n");
    expect(log).toContain("build=17\n");

    // The other CI retries its report: nothing new.
    const again = await report(body);
    expect(again.status).toBe(200);
    expect(ExternalCIAnswerSchema.parse(again.body)).toMatchObject({ duplicate: true, run: { id: run?.id } });
    expect(await runsOf("jenkins_build")).toHaveLength(1);
    expect(await runsOf("deploy")).toHaveLength(1);
  });

  it("turns a failure into a failed run that triggers nothing", async () => {
    const before = (await runsOf("deploy")).length;
    const failed = await report({ jobName: "jenkins_build", statusCode: 4003, externalBuildId: "18" });
    expect(ExternalCIAnswerSchema.parse(failed.body).run).toMatchObject({
      status: "failure",
      statusReason: "the external build 18 failed",
    });
    expect(await runsOf("deploy")).toHaveLength(before);
  });

  it("refuses a job that is not externalCI, an unknown job, a bad status code, and a caller without the token", async () => {
    expect((await report({ jobName: "deploy", statusCode: 4002 })).body).toMatchObject({
      error: { code: "JOB_NOT_EXTERNAL" },
    });
    expect((await report({ jobName: "nope", statusCode: 4002 })).body).toMatchObject({
      error: { code: "JOB_NOT_FOUND" },
    });
    const bad = await report({ jobName: "jenkins_build", statusCode: 4004 });
    expect(bad.status).toBe(400);
    const anonymous = await fetch(`${s.url}/api/v1/externalCI`, {
      method: "POST",
      body: JSON.stringify({ jobName: "jenkins_build", statusCode: 4002 }),
    });
    expect(anonymous.status).toBe(401);
  });
});
