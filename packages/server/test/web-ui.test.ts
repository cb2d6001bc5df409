import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ErrorBodySchema,
  EventSchema,
  GraphSchema,
  SESSION_COOKIE,
  SessionSchema,
  type EventJson,
  type GraphJson,
} from "@causeway/protocol";
import { newSecretKey, SecretKeyRing } from "@causeway/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/index.js";
import { readSse, testApp, TOKEN, waitFor, yaml } from "./helpers.js";

type Harness = Awaited<ReturnType<typeof testApp>>;

//   src ──IN──▶ build ──OUT──▶ image ──IN──▶ deploy
//   config ┄┄IN (switch: off)┄┄▶ deploy
const LINE = yaml`
  resources:
    - name: src
      type: params
      versionTemplate: { params: { A: "1" } }
    - name: image
      type: params
      versionTemplate: { params: { B: "1" } }
    - name: config
      type: params
      flags: [ops]
      versionTemplate: { params: { C: "1" } }
  jobs:
    - name: build
      type: runSh
      allowPublicAccess: true
      steps:
        - IN: src
        - TASK:
            script:
              - echo building
        - OUT: image
    - name: deploy
      type: runSh
      params:
        TARGET:
          type: choice
          choices: [staging, production]
          default: staging
          required: true
          description: Where to deploy
        PASSWORD:
          type: secret
          default: hunter2
      steps:
        - IN: image
        - IN: config
          switch: off
        - TASK:
            script:
              - echo deploying
`;

async function graph(h: Harness, headers: Record<string, string> = {}): Promise<GraphJson> {
  const res = await h.app.request("/api/v1/graph", { headers });
  expect(res.status).toBe(200);
  return GraphSchema.parse(await res.json());
}

async function finish(h: Harness, id: number): Promise<void> {
  await waitFor(`run ${id} to end`, async () => {
    const run = (await h.json<{ status: string }>("GET", `/runs/${id}`)).body;
    return run.status === "success" ? run : undefined;
  });
}

describe("GET /graph", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await testApp({ publicAccess: true });
    const applied = await h.json("POST", "/apply", { files: [{ path: "causeway.yml", text: LINE }] });
    expect(applied.status).toBe(200);
  });
  afterAll(() => h.close());

  it("gives every node with its state and every edge with its step and switch", async () => {
    const g = await graph(h, { authorization: `Bearer ${TOKEN}` });
    const states = Object.fromEntries(g.nodes.map((n) => [n.name, [n.kind, n.state]]));
    // params resources get their first version from their template when applied.
    expect(states).toEqual({
      src: ["resource", "ready"],
      image: ["resource", "ready"],
      config: ["resource", "ready"],
      build: ["job", "never_run"],
      deploy: ["job", "never_run"],
    });
    expect(g.nodes.find((n) => n.name === "config")?.flags).toEqual(["ops"]);
    expect(g.edges.map((e) => `${e.from}->${e.to} ${e.step}${e.switchOff ? " off" : ""}`).sort()).toEqual([
      "build->image OUT",
      "config->deploy IN off",
      "image->deploy IN",
      "src->build IN",
    ]);
  });

  it("gives a job's typed parameters for the run form, never a secret's default", async () => {
    const g = await graph(h, { authorization: `Bearer ${TOKEN}` });
    expect(g.nodes.find((n) => n.name === "deploy")?.params).toEqual([
      {
        name: "TARGET",
        type: "choice",
        default: "staging",
        choices: ["staging", "production"],
        required: true,
        description: "Where to deploy",
      },
      { name: "PASSWORD", type: "secret", default: null, choices: [], required: false, description: null },
    ]);
    expect(g.nodes.find((n) => n.name === "build")).not.toHaveProperty("params");
    expect(JSON.stringify(g)).not.toContain("hunter2");
  });

  it("follows runs, pins and newer versions of switched-off or pinned inputs", async () => {
    const run = (await h.json<{ id: number }>("POST", "/jobs/deploy/runs")).body;
    await finish(h, run.id);
    let g = await graph(h, { authorization: `Bearer ${TOKEN}` });
    expect(g.nodes.find((n) => n.name === "deploy")).toMatchObject({
      state: "success",
      latestRun: { id: run.id, number: 1, status: "success" },
    });
    // The run took config's latest version: nothing newer waits.
    expect(g.edges.find((e) => e.from === "config")).toMatchObject({ newer: false, pinned: null });

    expect((await h.json("POST", "/objects/config/versions", { versionName: "v2" })).status).toBe(201);
    expect((await h.json("PUT", "/jobs/deploy/pins/image", { versionNumber: 1 })).status).toBe(200);
    g = await graph(h, { authorization: `Bearer ${TOKEN}` });
    expect(g.edges.find((e) => e.from === "config")).toMatchObject({ newer: true, pinned: null });
    expect(g.edges.find((e) => e.from === "image" && e.to === "deploy")).toMatchObject({ pinned: 1, newer: false });
    // An input that triggers is never "newer": a new version runs the job by itself.
    expect(g.edges.find((e) => e.from === "src")).toMatchObject({ newer: false, pinned: null });
  });

  it("streams anonymous readers of a public server only the events of what they may see", async () => {
    // From the start of the stream: every event so far, filtered.
    const res = await h.app.request("/api/v1/events?after=0");
    expect(res.status).toBe(200);
    const run = (await h.json<{ id: number }>("POST", "/jobs/build/runs")).body;
    await finish(h, run.id);
    const { messages } = await readSse(res, (m) =>
      m.some((e) => (JSON.parse(e.data) as EventJson).type === "run" && e.data.includes('"success"')),
    );
    const events = messages.map((m) => EventSchema.parse(JSON.parse(m.data)));
    const about = new Set(
      events.map((e) =>
        e.type === "run" || e.type === "explain" ? e.payload.job : "name" in e.payload ? e.payload.name : e.type,
      ),
    );
    // build is public; src and image are its resources; deploy, config and the audit trail are not shown.
    expect([...about].every((name) => ["build", "src", "image"].includes(name))).toBe(true);
    expect(events.some((e) => e.type === "run" && e.payload.job === "build")).toBe(true);
    expect(events.some((e) => e.type === "audit" || e.type === "approval")).toBe(false);
    // The same stream with a token shows everything, deploy's runs included.
    const all = await h.app.request("/api/v1/events?after=0", { headers: { authorization: `Bearer ${TOKEN}` } });
    const { messages: every } = await readSse(all, (m) => m.some((e) => e.data.includes('"job":"deploy"')));
    expect(every.some((e) => e.data.includes('"job":"deploy"'))).toBe(true);
  });

  it("shows anonymous readers of a public server only the public jobs and their resources", async () => {
    const g = await graph(h);
    expect(g.nodes.map((n) => n.name).sort()).toEqual(["build", "image", "src"]);
    expect(g.edges.map((e) => `${e.from}->${e.to}`).sort()).toEqual(["build->image", "src->build"]);
  });
});

function cookieOf(res: Response): { value: string; attributes: string } {
  const header = res.headers.get("set-cookie") ?? "";
  const match = new RegExp(`^${SESSION_COOKIE}=([^;]*);(.*)$`).exec(header);
  expect(match, `Set-Cookie: ${header}`).not.toBeNull();
  return { value: match?.[1] ?? "", attributes: match?.[2] ?? "" };
}

async function code(res: Response): Promise<string | undefined> {
  return ErrorBodySchema.safeParse(await res.json()).data?.error.code;
}

describe("browser sessions", () => {
  let h: Harness;
  const keys = new SecretKeyRing([newSecretKey()]);
  beforeAll(async () => {
    h = await testApp({ secretKeys: keys });
    await h.json("POST", "/apply", { files: [{ path: "causeway.yml", text: LINE }] });
  });
  afterAll(() => h.close());

  const login = async (secret = TOKEN, name = "admin", role = "admin"): Promise<string> => {
    const res = await h.app.request("/api/v1/session", {
      method: "POST",
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(res.status).toBe(200);
    expect(SessionSchema.parse(await res.json())).toMatchObject({ token: name, role, via: "cookie" });
    const cookie = cookieOf(res);
    expect(cookie.attributes).toContain("HttpOnly");
    expect(cookie.attributes).toContain("SameSite=Strict");
    expect(cookie.attributes).toContain("Path=/");
    return cookie.value;
  };
  const withCookie = (value: string, init: RequestInit = {}, headers: Record<string, string> = {}) => ({
    ...init,
    headers: { cookie: `${SESSION_COOKIE}=${value}`, ...headers },
  });

  it("trades an API token for a cookie that authenticates reads, and holds no token in clear", async () => {
    const value = await login();
    expect(value).not.toContain(TOKEN);
    const res = await h.app.request("/api/v1/session", withCookie(value));
    expect(SessionSchema.parse(await res.json())).toMatchObject({ token: "admin", role: "admin", via: "cookie" });
    expect((await h.app.request("/api/v1/graph", withCookie(value))).status).toBe(200);
  });

  it("refuses a cookie session's state change without the X-Causeway-Request header", async () => {
    const value = await login();
    const bare = await h.app.request("/api/v1/jobs/build/runs", withCookie(value, { method: "POST" }));
    expect(bare.status).toBe(403);
    expect(await code(bare)).toBe("CSRF_REFUSED");
    expect((await h.json<unknown[]>("GET", "/runs?job=build")).body).toHaveLength(0);

    const sent = await h.app.request(
      "/api/v1/jobs/build/runs",
      withCookie(value, { method: "POST" }, { "x-causeway-request": "1" }),
    );
    expect(sent.status).toBe(201);
  });

  it("refuses an altered cookie and clears it", async () => {
    const value = await login();
    const altered = value.slice(0, -4) + (value.endsWith("AAAA") ? "BBBB" : "AAAA");
    for (const bad of [altered, "garbage", `enc.v1.${"0".repeat(12)}.x.y.z`]) {
      const res = await h.app.request("/api/v1/graph", withCookie(bad));
      expect(res.status, bad).toBe(401);
      expect(res.headers.get("set-cookie")).toMatch(new RegExp(`^${SESSION_COOKIE}=; Max-Age=0`));
    }
  });

  it("ends with its token: a revoked token's session is refused", async () => {
    const made = (await h.json<{ token: string }>("POST", "/tokens", { name: "ops", role: "operator" })).body;
    const session = await login(made.token, "ops", "operator");
    expect((await h.app.request("/api/v1/graph", withCookie(session))).status).toBe(200);
    expect((await h.json("DELETE", "/tokens/ops")).status).toBe(200);
    const refused = await h.app.request("/api/v1/graph", withCookie(session));
    expect(refused.status).toBe(401);
    expect(await code(refused)).toBe("UNAUTHORIZED");
  });

  it("outlives a restart: a new app with the same key accepts it", async () => {
    const value = await login();
    const again = await testApp({ secretKeys: keys });
    try {
      // The new app's store has its own admin token with the same secret: same hash.
      expect((await again.app.request("/api/v1/graph", withCookie(value))).status).toBe(200);
    } finally {
      await again.close();
    }
    const other = await testApp({ secretKeys: new SecretKeyRing([newSecretKey()]) });
    try {
      expect((await other.app.request("/api/v1/graph", withCookie(value))).status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it("logs out by clearing the cookie", async () => {
    const value = await login();
    const res = await h.app.request(
      "/api/v1/session",
      withCookie(value, { method: "DELETE" }, { "x-causeway-request": "1" }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(new RegExp(`^${SESSION_COOKIE}=; Max-Age=0`));
  });

  it("answers anonymous callers of a private server 401, so the page shows its login", async () => {
    const res = await h.app.request("/api/v1/session");
    expect(res.status).toBe(401);
  });
});

describe("the web UI's files", () => {
  let h: Harness;
  let webDir: string;
  beforeAll(async () => {
    h = await testApp();
    webDir = join(h.dir, "web");
    await mkdir(join(webDir, "assets"), { recursive: true });
    await writeFile(join(webDir, "index.html"), "<!doctype html><title>Causeway</title>");
    await writeFile(join(webDir, "assets", "app-1234.js"), "console.log(1)");
    await writeFile(join(webDir, ".secret"), "no");
  });
  afterAll(() => h.close());

  it("serves index.html at / and at any page's address, and assets with their type", async () => {
    const app = withWeb(h, webDir);
    for (const path of ["/", "/runs/12", "/jobs/build?flag=ops"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(await res.text()).toContain("<title>Causeway</title>");
    }
    const asset = await app.request("/assets/app-1234.js");
    expect(asset.headers.get("content-type")).toContain("text/javascript");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect(await asset.text()).toBe("console.log(1)");
  });

  it("never serves a dotfile, a path outside its directory, or the app for a missing asset or API route", async () => {
    const app = withWeb(h, webDir);
    for (const path of ["/.secret", "/assets/missing.js", "/..%2f..%2fetc%2fpasswd", "/assets/..%2f..%2f.secret"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
    }
    const api = await app.request("/api/v1/nothing", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(404);
    expect(await code(api)).toBe("NOT_FOUND");
  });

  it("says how to build the UI when it is not built", async () => {
    const app = withWeb(h, join(h.dir, "no-such-dir"));
    const res = await app.request("/");
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("npm run build");
  });
});

// The harness's app with a web directory: the same engine and store, a second app over them.
function withWeb(h: Harness, webDir: string) {
  return buildApp({
    engine: h.engine,
    store: h.stores.store,
    logs: h.stores.logs,
    blobs: h.stores.blobs,
    auth: h.auth,
    version: "9.9.9-test",
    webDir,
  });
}
