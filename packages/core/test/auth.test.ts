import { describe, expect, it } from "vitest";
import {
  impliedRoles,
  isRole,
  roleAllows,
  ROLES,
  tokenExpiry,
  tokenStanding,
  touchDue,
  TOKEN_TOUCH_INTERVAL_MS,
  type Role,
} from "../src/index.js";

describe("roles", () => {
  // held ↓ / needed →   viewer  operator  admin
  it.each<[Role, Role, boolean]>([
    ["viewer", "viewer", true],
    ["viewer", "operator", false],
    ["viewer", "admin", false],
    ["operator", "viewer", true],
    ["operator", "operator", true],
    ["operator", "admin", false],
    ["admin", "viewer", true],
    ["admin", "operator", true],
    ["admin", "admin", true],
  ])("a %s may call a route that needs %s: %s", (held, needed, allowed) => {
    expect(roleAllows(held, needed)).toBe(allowed);
  });

  it.each<[Role, Role[]]>([
    ["viewer", ["viewer"]],
    ["operator", ["operator", "viewer"]],
    ["admin", ["admin", "operator", "viewer"]],
  ])("a %s holds the roles %j (what approval gates match)", (role, roles) => {
    expect(impliedRoles(role)).toEqual(roles);
  });

  it("knows its roles and nothing else", () => {
    expect(ROLES.every(isRole)).toBe(true);
    expect(["root", "Admin", ""].some(isRole)).toBe(false);
  });
});

describe("token standing", () => {
  const now = new Date("2026-06-01T12:00:00.000Z");
  it.each<[string, string | null, string | null, string]>([
    ["no expiry, not revoked", null, null, "active"],
    ["expires later", "2026-06-01T12:00:00.001Z", null, "active"],
    ["expires now", "2026-06-01T12:00:00.000Z", null, "expired"],
    ["expired", "2026-05-01T00:00:00.000Z", null, "expired"],
    ["revoked", null, "2026-05-01T00:00:00.000Z", "revoked"],
    ["revoked and expired: revoked first", "2026-05-01T00:00:00.000Z", "2026-05-02T00:00:00.000Z", "revoked"],
  ])("%s", (_what, expiresAt, revokedAt, standing) => {
    expect(tokenStanding({ expiresAt, revokedAt }, now)).toBe(standing);
  });

  it("computes an expiry in days, or none", () => {
    expect(tokenExpiry(now, 30)).toBe("2026-07-01T12:00:00.000Z");
    expect(tokenExpiry(now, undefined)).toBeNull();
  });

  it("records a use at most once per interval", () => {
    const at = (ms: number) => new Date(now.getTime() + ms);
    expect(touchDue(null, now)).toBe(true);
    expect(touchDue(now.toISOString(), at(TOKEN_TOUCH_INTERVAL_MS - 1))).toBe(false);
    expect(touchDue(now.toISOString(), at(TOKEN_TOUCH_INTERVAL_MS))).toBe(true);
  });
});
