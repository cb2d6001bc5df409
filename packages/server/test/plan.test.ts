import { ApplyRecordSchema, ApplyResultSchema, PlanResultSchema, VersionSchema } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { testApp, yaml } from "./helpers.js";

// `POST /plan` previews an apply on the real engine and store: the same lists the apply then
// gives, and nothing written (no apply history entry, no event, no version).
//
//   cfg ──► build ──► deploy        (then: cfg edited, deploy gone, smoke added broken)

const CFG = (target: string) => yaml`
  resources:
    - name: cfg
      type: params
      versionTemplate:
        params:
          TARGET: ${target}
  jobs:
    - name: build
      type: runSh
      steps:
        - IN: cfg
        - TASK:
            script: [echo build]
`;

const DEPLOY = yaml`
  jobs:
    - name: deploy
      type: runSh
      steps:
        - IN: build
        - TASK:
            script: [echo deploy]
`;

const SMOKE = yaml`
  jobs:
    - name: smoke
      type: runSh
      steps:
        - IN: nowhere
        - TASK:
            script: [echo smoke]
`;

type Harness = Awaited<ReturnType<typeof testApp>>;

describe("POST /plan", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await testApp();
    const files = [
      { path: "a.causeway.yml", text: CFG("staging") },
      { path: "b.causeway.yml", text: DEPLOY },
    ];
    expect(ApplyResultSchema.parse((await h.json("POST", "/apply", { files })).body).added).toHaveLength(3);
  });
  afterAll(() => h.close());

  it("says what an apply would add, change, remove, version and make invalid, and writes nothing", async () => {
    const files = [
      { path: "a.causeway.yml", text: CFG("production") },
      { path: "c.causeway.yml", text: SMOKE },
    ];
    const applies = async () => z.array(ApplyRecordSchema).parse((await h.json("GET", "/applies")).body);
    const versions = async () => z.array(VersionSchema).parse((await h.json("GET", "/objects/cfg/versions")).body);
    const before = {
      applies: await applies(),
      versions: await versions(),
      events: await h.stores.store.eventsSince(0, 1000),
    };

    const res = await h.json("POST", "/plan", { files });
    expect(res.status).toBe(200);
    const plan = PlanResultSchema.parse(res.body);
    expect(plan).toMatchObject({
      ok: false,
      added: ["smoke"],
      changed: ["cfg"],
      removed: ["deploy"],
      versioned: ["cfg"],
      kept: [],
      invalid: ["smoke"],
    });
    expect(plan.diagnostics.map((d) => d.code)).toContain("PIPELINE_UNKNOWN_REFERENCE");
    expect(plan.files.map((f) => [f.path, f.status])).toEqual([
      ["a.causeway.yml", "loaded"],
      ["c.causeway.yml", "loaded"],
    ]);

    // Nothing was written: the history, the versions, the event log and the line are as they were.
    expect(await applies()).toEqual(before.applies);
    expect(await versions()).toEqual(before.versions);
    expect(await h.stores.store.eventsSince(0, 1000)).toEqual(before.events);
    expect(h.engine.appliedFiles().get("deploy")).toBe("b.causeway.yml");

    // The apply does what the plan said.
    const applied = ApplyResultSchema.parse((await h.json("POST", "/apply", { files })).body);
    expect({
      added: applied.added,
      changed: applied.changed,
      removed: applied.removed,
      versioned: applied.versioned,
    }).toEqual({ added: plan.added, changed: plan.changed, removed: plan.removed, versioned: plan.versioned });
  });

  it("keeps the objects of a refused file, and refuses an empty set of files", async () => {
    const files = [
      { path: "a.causeway.yml", text: "resources: [\n" },
      { path: "c.causeway.yml", text: SMOKE },
    ];
    const plan = PlanResultSchema.parse((await h.json("POST", "/plan", { files })).body);
    expect(plan).toMatchObject({ kept: ["build", "cfg"], removed: [], added: [], changed: [] });
    expect(plan.files.find((f) => f.path === "a.causeway.yml")?.status).toBe("refused");
    expect((await h.call("POST", "/plan", { files: [] })).status).toBe(400);
  });

  it("refuses sources of one name, or with a relative directory", async () => {
    const files = [{ path: "a/causeway.yml", text: CFG("x") }];
    const twice = {
      files,
      sources: [
        { name: "a", dir: "/srv/a" },
        { name: "a", dir: "/srv/b" },
      ],
    };
    expect((await h.call("POST", "/plan", twice)).status).toBe(400);
    const relative = { files, sources: [{ name: "a", dir: "srv/a" }] };
    expect((await h.call("POST", "/apply", relative)).status).toBe(400);
  });
});
