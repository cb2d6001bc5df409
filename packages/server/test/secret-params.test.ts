import { RunSchema } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "./helpers.js";

// Values of `secret` manual-run parameters reach the job as environment variables and never
// leave the server: every run on the wire shows them redacted.
const LINE = `
jobs:
  - name: deploy
    type: runSh
    params:
      TOKEN: { type: secret, required: true }
      TARGET: { type: string, default: staging }
    steps:
      - TASK: { script: [ 'test "$TOKEN" = s3cr3t && echo "target $TARGET"' ] }
`;

describe("secret parameters", () => {
  let h: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    h = await testApp();
    expect((await h.json("POST", "/apply", { files: [{ path: "causeway.yml", text: LINE }] })).status).toBe(200);
  });
  afterAll(async () => {
    await h.close();
  });

  it("reach the job but are redacted in every run the API returns", async () => {
    const created = await h.json("POST", "/jobs/deploy/runs", { params: { TOKEN: "s3cr3t" } });
    expect(created.status).toBe(201);
    const run = RunSchema.parse(created.body);
    expect(run.params).toEqual({ TOKEN: "********", TARGET: "staging" });
    const done = await h.engine.waitForRun(run.id);
    expect(done.status).toBe("success");
    const fetched = RunSchema.parse((await h.json("GET", `/runs/${run.id}`)).body);
    expect(fetched.params.TOKEN).toBe("********");
    const listed = await h.json("GET", "/runs?job=deploy");
    expect(JSON.stringify(listed.body)).not.toContain("s3cr3t");
  });
});
