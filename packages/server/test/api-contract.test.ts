import {
  API_PREFIX,
  API_ROUTES,
  EVENT_TYPES,
  EventSchema,
  openApiPath,
  type ApiRoute,
  type EventJson,
} from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeRules } from "../src/index.js";
import { readSse, testApp, waitFor, yaml } from "./helpers.js";

// The route table of protocol (api-routes.ts) is the API's one contract: the server mounts
// exactly its routes, each with the table's role, and serves the OpenAPI document made from it.

type Harness = Awaited<ReturnType<typeof testApp>>;

const key = (method: string, path: string, role: string, publicRead: boolean): string =>
  `${method} ${path} ${role}${publicRead ? " public" : ""}`;

describe("the API's route table", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await testApp();
  });
  afterAll(async () => {
    await h.close();
  });

  it("is what the server mounts under /api/v1: the same methods, paths, roles and public reads", () => {
    const mounted = routeRules(h.app)
      .filter((r) => r.path.startsWith(`${API_PREFIX}/`))
      .map((r) => key(r.method, r.path, r.role, r.publicRead));
    const table = (Object.values(API_ROUTES) as ApiRoute[]).map((r) =>
      key(r.method, `${API_PREFIX}${r.path}`, r.role, r.publicRead === true),
    );
    expect([...mounted].sort()).toEqual([...table].sort());
  });

  it("serves its OpenAPI document and points to it from the API's root, without a token", async () => {
    const res = await h.app.request(`${API_PREFIX}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const [name, route] of Object.entries(API_ROUTES) as [string, ApiRoute][]) {
      expect(doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()]?.operationId).toBe(name);
    }
    expect(doc.paths["/api/v1/runs/{id}/logs"]?.get).toBeDefined();
    const root = await h.app.request(`${API_PREFIX}/`);
    expect(root.status).toBe(200);
    expect(await root.json()).toMatchObject({ openapi: `${API_PREFIX}/openapi.json` });
  });
});

describe("the event stream's typed events", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await testApp();
  });
  afterAll(async () => {
    await h.close();
  });

  it("streams every type of engine event in the protocol's shape, none left out", async () => {
    // An apply (definition), a manual run (audit, explain, run) at its gate (approval
    // requested), approved (approval decided), ending in a version of the job (version).
    const line = yaml`
      resources:
        - name: knob
          type: params
          versionTemplate: { params: { A: "1" } }
      jobs:
        - name: gated
          type: runSh
          requiresApproval: { approvers: [alice] }
          steps:
            - IN: knob
            - TASK:
                script:
                  - echo gated
    `;
    expect((await h.json("POST", "/apply", { files: [{ path: "causeway.yml", text: line }] })).status).toBe(200);
    expect((await h.json("POST", "/jobs/gated/runs", {})).status).toBe(201);
    const runs = async () => (await h.json<{ id: number; status: string }[]>("GET", "/runs?job=gated")).body;
    await waitFor(
      "the gated run to wait for its approval",
      async () => (await runs())[0]?.status === "waiting_approval",
    );
    const id = (await runs())[0]?.id;
    const approved = await h.call("POST", `/runs/${id}/approve`, { comment: "ok" }, { "x-causeway-user": "alice" });
    expect(approved.status).toBe(200);
    await waitFor("the gated run to succeed", async () => (await runs())[0]?.status === "success");

    const res = await h.call("GET", "/events", undefined, { "last-event-id": "0" });
    const seen = new Set<string>();
    const events: EventJson[] = [];
    await readSse(res, (messages) => {
      for (const m of messages.splice(0)) {
        const event = EventSchema.parse(JSON.parse(m.data));
        events.push(event);
        seen.add(event.type);
      }
      return (
        EVENT_TYPES.every((t) => seen.has(t)) && events.some((e) => e.type === "run" && e.payload.status === "success")
      );
    });
    expect([...seen].sort()).toEqual([...EVENT_TYPES].sort());
    expect(h.logger.lines.filter((l) => l.includes("does not fit the protocol"))).toEqual([]);
    const decided = events.find((e) => e.type === "approval" && e.payload.kind === "decided");
    expect(decided?.type === "approval" && decided.payload.kind === "decided" && decided.payload.by).toBe("alice");
  });
});
