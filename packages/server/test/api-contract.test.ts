import { API_PREFIX, API_ROUTES, openApiPath, type ApiRoute } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeRules } from "../src/index.js";
import { testApp } from "./helpers.js";

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
