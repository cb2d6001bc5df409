import {
  API_ROUTES,
  parseRouteAnswer,
  routePath,
  routeQuery,
  routeRequest,
  type RouteInput,
  type RouteOutput,
} from "@causeway/protocol";
import { describe, expect, expectTypeOf, it } from "vitest";

// The route table's helpers (protocol api-routes.ts), which the CLI's client builds its requests
// with, and the types it derives from the table: a call names its parameters, query and body as
// the table says, or it does not compile (tsc -b checks this file).

describe("the route table's requests", () => {
  it("fills path parameters, each encoded, a catch-all keeping its slashes", () => {
    expect(routePath(API_ROUTES.trigger, { job: "a b/c" })).toBe("/jobs/a%20b%2Fc/runs");
    expect(routePath(API_ROUTES.run, { id: 7 })).toBe("/runs/7");
    expect(routePath(API_ROUTES.stateFile, { job: "j", path: "dir/a b.txt" })).toBe(
      "/jobs/j/state/files/dir/a%20b.txt",
    );
    expect(routePath(API_ROUTES.jobs)).toBe("/jobs");
  });

  it("refuses a call that lacks a path parameter", () => {
    expect(() => routePath(API_ROUTES.pin, { job: "j" })).toThrow(
      "PUT /jobs/:job/pins/:input: the parameter input is missing",
    );
  });

  it("writes the defined query values only, encoded", () => {
    expect(routeQuery({ job: "a&b", limit: 5, flow: undefined })).toBe("?job=a%26b&limit=5");
    expect(routeQuery({ flow: undefined })).toBe("");
    expect(routeQuery(undefined)).toBe("");
  });

  it("makes a transport-free request of a call: method, path with query, JSON body, Accept", () => {
    expect(routeRequest(API_ROUTES.pin, { params: { job: "j", input: "i" }, body: { versionNumber: 3 } })).toEqual({
      method: "PUT",
      path: "/jobs/j/pins/i",
      body: '{"versionNumber":3}',
      accept: "application/json",
      what: "PUT /jobs/j/pins/i",
    });
    expect(routeRequest(API_ROUTES.logStream, { params: { id: 4 }, query: { offset: 10 } })).toEqual({
      method: "GET",
      path: "/runs/4/logs/stream?offset=10",
      body: undefined,
      accept: "text/event-stream",
      what: "GET /runs/4/logs/stream",
    });
  });

  it("parses an answer with its route's schema, or says what does not fit", () => {
    expect(parseRouteAnswer("health", { ok: true, version: "1.0.0", extra: 1 })).toEqual({
      ok: true,
      value: { ok: true, version: "1.0.0" },
    });
    const refused = parseRouteAnswer("runners", { runners: [{ name: 5 }] });
    expect(refused.ok).toBe(false);
    expect(refused.ok ? "" : refused.issue).toMatch(/^runners\.0\.name: /);
    expect(parseRouteAnswer("deleteSecret", "anything")).toEqual({ ok: true, value: undefined });
  });

  it("types each call's input and answer from the table", () => {
    expectTypeOf<RouteInput<"trigger">["params"]>().toEqualTypeOf<Readonly<Record<"job", string | number>>>();
    expectTypeOf<RouteInput<"pin">["params"]>().toEqualTypeOf<Readonly<Record<"job" | "input", string | number>>>();
    expectTypeOf<RouteOutput<"run">["status"]>().toEqualTypeOf<RouteOutput<"runs">[number]["status"]>();
    expectTypeOf<RouteOutput<"deleteSecret">>().toEqualTypeOf<undefined>();
    const ok: RouteInput<"runs"> = { query: { job: "build", limit: 10 } };
    // @ts-expect-error -- the path parameter is `job`
    const misnamed: RouteInput<"trigger"> = { params: { jobName: "x" }, body: {} };
    // @ts-expect-error -- a route without a query takes none
    const query: RouteInput<"jobs"> = { query: { limit: 1 } };
    // @ts-expect-error -- `pin` needs its body
    const bodiless: RouteInput<"pin"> = { params: { job: "j", input: "i" } };
    expect([ok, misnamed, query, bodiless]).toHaveLength(4);
  });
});
