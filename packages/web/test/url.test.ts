import type { SessionJson } from "@causeway/protocol";
import { describe, expect, it } from "vitest";
import { can } from "../src/roles.js";
import { graphHref, graphQuery, pageOf } from "../src/url.js";

describe("the URL holds the UI's place", () => {
  it.each([
    ["/", { name: "graph" }],
    ["/runs/12", { name: "run", id: 12 }],
    ["/runs/12/", { name: "run", id: 12 }],
    ["/approvals", { name: "approvals" }],
    ["/webhooks", { name: "webhooks" }],
    ["/runs/x", { name: "missing", path: "/runs/x" }],
  ])("%s is the page %j", (path, page) => {
    expect(pageOf(path)).toEqual(page);
  });

  it("a graph link restores its filter, search, selection and flow", () => {
    const query = graphQuery("?flag=x&select=build&q=bu&flow=f-1");
    expect(query).toEqual({ flag: "x", select: "build", q: "bu", flow: "f-1" });
    expect(graphHref(query, { select: "deploy" })).toBe("/?flag=x&flow=f-1&q=bu&select=deploy");
    expect(graphHref(query, { flag: null, q: "", flow: null, select: null })).toBe("/");
    expect(graphQuery(graphHref(query, {}).slice(1))).toEqual(query);
  });
});

describe("can", () => {
  const session = (role: SessionJson["role"], via: SessionJson["via"] = "cookie"): SessionJson => ({
    token: role,
    role,
    via,
    publicAccess: false,
    expiresAt: null,
  });

  it("reads each route's role from the table: viewer < operator < admin", () => {
    expect(can(session("viewer"), "runs")).toBe(true);
    expect(can(session("viewer"), "trigger")).toBe(false);
    expect(can(session("operator"), "trigger")).toBe(true);
    expect(can(session("operator"), "approve")).toBe(true);
    expect(can(session("operator"), "webhooks")).toBe(false);
    expect(can(session("admin"), "webhooks")).toBe(true);
  });

  it("lets an anonymous reader only read", () => {
    const anonymous = { ...session(null, "anonymous"), token: null, publicAccess: true };
    expect(can(anonymous, "graph")).toBe(true);
    expect(can(anonymous, "runs")).toBe(true);
    expect(can(anonymous, "cancel")).toBe(false);
    // The event stream is open to them (filtered by the server); the audit trail is not.
    expect(can(anonymous, "events")).toBe(true);
    expect(can(anonymous, "audit")).toBe(false);
    expect(can(null, "pause")).toBe(false);
  });
});
