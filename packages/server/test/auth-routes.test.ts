import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROLES, roleAllows, type Role } from "@causeway/core";
import { ErrorBodySchema, TokenCreatedSchema, TokenJsonSchema } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { routeRules, type RouteRule } from "../src/index.js";
import { testApp, TOKEN, waitFor, yaml } from "./helpers.js";

// Every route of the app × every kind of caller: the rules of routes.ts, checked on the
// in-process app with real tokens in a real SQLite store. The list of routes comes from the app
// itself (hono's `app.routes`), so a route mounted without a role rule fails here.

type Harness = Awaited<ReturnType<typeof testApp>>;
type Caller = "anonymous" | "bad token" | Role;
const CALLERS: readonly Caller[] = ["anonymous", "bad token", ...ROLES];

// A job that anonymous readers of a public server may see, and one they may not.
const LINE = yaml`
  jobs:
    - name: shown
      type: runSh
      allowPublicAccess: true
      steps:
        - TASK:
            script:
              - echo public output
    - name: hidden
      type: runSh
      steps:
        - TASK:
            script:
              - echo private output
`;

// Path parameters that name nothing: a call that passes the guard ends in its handler's 4xx,
// never changes anything.
const concrete = (path: string): string =>
  path
    .replace(":id", "999999")
    .replace(":job", "nojob")
    .replace(":name", "noname")
    .replace(":input", "noinput")
    .replace(":path{.+}", "nofile");

async function errorCode(res: Response): Promise<string | undefined> {
  if (!(res.headers.get("content-type") ?? "").includes("application/json")) {
    await res.body?.cancel();
    return undefined;
  }
  const parsed = ErrorBodySchema.safeParse(await res.json());
  return parsed.success ? parsed.data.error.code : undefined;
}

describe("API roles", () => {
  let h: Harness;
  const secrets = new Map<Caller, string>();

  beforeAll(async () => {
    h = await testApp();
    secrets.set("admin", TOKEN);
    secrets.set("bad token", "cw_not-a-token-of-this-server");
    for (const role of ["viewer", "operator"] as const) {
      const res = await h.json("POST", "/tokens", { name: `a-${role}`, role });
      expect(res.status).toBe(201);
      secrets.set(role, TokenCreatedSchema.parse(res.body).token);
    }
  });
  afterAll(async () => {
    await h.close();
  });

  const request = (method: string, path: string, caller: Caller, headers: Record<string, string> = {}) => {
    const secret = secrets.get(caller);
    return h.app.request(path, {
      method,
      headers: { ...(secret === undefined ? {} : { authorization: `Bearer ${secret}` }), ...headers },
    });
  };

  it("has a role rule for every route the app serves", () => {
    const rules = routeRules(h.app);
    const served = new Set(h.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`));
    const ruled = new Set(rules.map((r) => `${r.method} ${r.path}`));
    expect([...served].filter((r) => !ruled.has(r))).toEqual([]);
    expect([...ruled].filter((r) => !served.has(r))).toEqual([]);
    expect(served.size).toBeGreaterThan(30);
  });

  it("refuses a missing or wrong token and a role below the route's, on every route", async () => {
    const rules = routeRules(h.app).filter((r): r is RouteRule & { role: Role } => r.role !== "none");
    const table: string[] = [];
    for (const rule of rules) {
      for (const caller of CALLERS) {
        const res = await request(rule.method, concrete(rule.path), caller);
        const code = await errorCode(res);
        const expected =
          caller === "anonymous" || caller === "bad token"
            ? "401 UNAUTHORIZED"
            : roleAllows(caller, rule.role)
              ? "passes"
              : "403 FORBIDDEN_ROLE";
        const got = code === "UNAUTHORIZED" || code === "FORBIDDEN_ROLE" ? `${res.status} ${code}` : "passes";
        if (got !== expected) table.push(`${rule.method} ${rule.path} as ${caller}: ${got}, expected ${expected}`);
      }
    }
    expect(table).toEqual([]);
  });

  it("gives each route the documented role (the role column of docs/api.md)", async () => {
    const doc = await readFile(join(import.meta.dirname, "../../../docs/api.md"), "utf8");
    // Webhook deliveries (outside /api/v1) are documented in their own section.
    const api = routeRules(h.app).filter((r) => r.path.startsWith("/api/v1"));
    const wrong = api.filter((r) => documentedRole(doc, r) !== (r.publicRead ? `${r.role}, public` : r.role));
    expect(wrong.map((r) => `${r.method} ${r.path}: ${r.role}, documented ${documentedRole(doc, r)}`)).toEqual([]);
  });

  it("refuses a revoked token and an expired one", async () => {
    const made = TokenCreatedSchema.parse((await h.json("POST", "/tokens", { name: "short", role: "viewer" })).body);
    const asShort = () => h.app.request("/api/v1/jobs", { headers: { authorization: `Bearer ${made.token}` } });
    expect((await asShort()).status).toBe(200);
    // Its use is recorded (after the answer, at most once a minute).
    await waitFor("the use of token short to be recorded", async () => {
      const tokens = z.array(TokenJsonSchema).parse((await h.json("GET", "/tokens")).body);
      return tokens.find((t) => t.name === "short")?.lastUsedAt ?? undefined;
    });
    const revoked = await h.call("DELETE", "/tokens/short");
    expect(TokenJsonSchema.parse(await revoked.json())).toMatchObject({ name: "short", state: "revoked" });
    const refused = await asShort();
    expect(refused.status).toBe(401);
    expect(await errorCode(refused)).toBe("UNAUTHORIZED");

    // Expired: stored with an expiry in the past (the API gives at least a day).
    const secret = "cw_expired-secret";
    await h.auth.create({ name: "old", role: "admin", by: "test", secret, expiresInDays: -1 });
    const old = await h.app.request("/api/v1/jobs", { headers: { authorization: `Bearer ${secret}` } });
    expect(old.status).toBe(401);
    expect(ErrorBodySchema.parse(await old.json()).error.message).toContain("expired");
    const listed = z.array(TokenJsonSchema).parse((await h.json("GET", "/tokens")).body);
    expect(listed.find((t) => t.name === "old")?.state).toBe("expired");
  });

  it("never answers a secret or a hash after creation, and stores only the hash", async () => {
    const made = TokenCreatedSchema.parse((await h.json("POST", "/tokens", { name: "ci-bot", role: "operator" })).body);
    expect(made.token).toMatch(/^cw_[A-Za-z0-9_-]{43}$/);
    const list = await (await h.call("GET", "/tokens")).text();
    expect(list).toContain("ci-bot");
    expect(list).not.toContain(made.token);
    expect(list).not.toContain("hash");
    // The database, its WAL included, holds no secret.
    const data = join(h.dir, "data");
    const bytes = Buffer.concat([
      await readFile(join(data, "causeway.db")),
      await readFile(join(data, "causeway.db-wal")).catch(() => Buffer.alloc(0)),
    ]);
    expect(bytes.includes(made.token)).toBe(false);
    expect(bytes.includes(TOKEN)).toBe(false);
    expect(bytes.includes("ci-bot")).toBe(true);
  });

  it("refuses a second token of one name, and a token revoking itself", async () => {
    await h.json("POST", "/tokens", { name: "twice", role: "viewer" });
    const again = await h.call("POST", "/tokens", { name: "twice", role: "viewer" });
    expect(again.status).toBe(409);
    expect(await errorCode(again)).toBe("TOKEN_EXISTS");
    const self = await h.call("DELETE", "/tokens/admin");
    expect(self.status).toBe(400);
    expect((await h.call("DELETE", "/tokens/nobody")).status).toBe(404);
  });

  it("records token changes in the audit trail, by the token's identity", async () => {
    const audit = (
      await h.json<{ action: string; subject: string; actor: string }[]>("GET", "/audit?subject=token:short")
    ).body;
    expect(audit.map((a) => [a.action, a.actor])).toEqual([
      ["token-revoke", "admin"],
      ["token-create", "admin"],
    ]);
  });

  it("names a request by its token; only an admin token may act for a named person", async () => {
    await h.json("POST", "/apply", { files: [{ path: "causeway.yml", text: LINE }] });
    const trigger = async (caller: Caller) => {
      const res = await request("POST", "/api/v1/jobs/hidden/runs", caller, { "x-causeway-user": "mallory" });
      expect(res.status).toBe(201);
    };
    await trigger("operator");
    await trigger("admin");
    const actors = (await h.json<{ action: string; actor: string }[]>("GET", "/audit?action=trigger")).body;
    expect(actors.map((a) => a.actor)).toEqual(["mallory", "a-operator"]);
  });
});

/** The role column of the route's row in the table of routes of docs/api.md. */
function documentedRole(doc: string, rule: RouteRule): string | undefined {
  const path = rule.path.replace(/^\/api\/v1/, "").replace("{.+}", "");
  const row = doc.split("\n").find((line) => {
    const at = line.indexOf(`| \`${rule.method} ${path}`);
    return at === 0 && /^[`? ]/.test(line.slice(`| \`${rule.method} ${path}`.length));
  });
  return row?.split("|")[2]?.trim();
}

describe("public read access (--public)", () => {
  let h: Harness;
  let shownRun: number;
  let hiddenRun: number;

  beforeAll(async () => {
    h = await testApp({ publicAccess: true });
    await h.json("POST", "/apply", { files: [{ path: "causeway.yml", text: LINE }] });
    shownRun = (await h.json<{ id: number }>("POST", "/jobs/shown/runs")).body.id;
    hiddenRun = (await h.json<{ id: number }>("POST", "/jobs/hidden/runs")).body.id;
    for (const id of [shownRun, hiddenRun]) {
      await waitFor(`run ${id} to finish`, async () => {
        const run = (await h.json<{ status: string }>("GET", `/runs/${id}`)).body;
        return run.status === "success" ? run : undefined;
      });
    }
  });
  afterAll(async () => {
    await h.close();
  });

  const anonymous = (path: string, method = "GET") => h.app.request(`/api/v1${path}`, { method });

  it("lists only the jobs with allowPublicAccess, and their runs, to anonymous readers", async () => {
    expect(((await (await anonymous("/jobs")).json()) as { name: string }[]).map((j) => j.name)).toEqual(["shown"]);
    const runs = (await (await anonymous("/runs")).json()) as { job: string }[];
    expect(runs.map((r) => r.job)).toEqual(["shown"]);
    // A token still sees everything.
    expect((await h.json<{ name: string }[]>("GET", "/jobs")).body.map((j) => j.name).sort()).toEqual([
      "hidden",
      "shown",
    ]);
  });

  it("serves the run and the log of a public job, and refuses those of another job", async () => {
    expect((await anonymous(`/runs/${shownRun}`)).status).toBe(200);
    expect(await (await anonymous(`/runs/${shownRun}/logs`)).text()).toContain("public output");
    // A run that does not exist is refused as a hidden one is.
    for (const path of [
      `/runs/${hiddenRun}`,
      `/runs/${hiddenRun}/logs`,
      `/runs/${hiddenRun}/logs/stream`,
      "/runs/999",
    ]) {
      const res = await anonymous(path);
      expect(res.status).toBe(401);
    }
  });

  it("refuses anonymous requests to every other route", async () => {
    // (GET /events and GET /graph are open to them, filtered: test/web-ui.test.ts.)
    for (const path of ["/resources", "/audit", "/tokens", "/jobs/shown/why", `/runs/${shownRun}/approval`]) {
      expect((await anonymous(path)).status).toBe(401);
    }
    expect((await anonymous("/jobs/shown/runs", "POST")).status).toBe(401);
  });
});
