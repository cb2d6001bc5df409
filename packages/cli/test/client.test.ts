import { CausewayError } from "@causeway/core";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApiClient } from "../src/client.js";
import { locateServer } from "../src/server-location.js";
import { sendJson, startCanned, type CannedServer } from "./canned-server.js";
import { makeRun, runCausewayCli } from "./fixtures.js";

let server: CannedServer;
let tmp = "";

beforeEach(async () => {
  server = await startCanned();
  server.on("GET /api/v1/runs", (_req, res) => sendJson(res, 200, [makeRun()]));
});
afterEach(() => server.close());

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "causeway-client-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function dataDir(name: string, info: unknown): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "server.json"), typeof info === "string" ? info : JSON.stringify(info));
  return dir;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe("finding the server", () => {
  it("reads <--data>/server.json and sends its token", async () => {
    const data = await dataDir("found", { url: server.url, token: "t0k", pid: 1 });
    const run = await runCausewayCli(["runs", "--data", data]);
    expect(run.code).toBe(0);
    expect(server.received[0]?.headers.authorization).toBe("Bearer t0k");
  });

  it("takes CAUSEWAY_SERVER and CAUSEWAY_TOKEN from the environment", async () => {
    const run = await runCausewayCli(["runs", "--data", join(tmp, "none")], {
      env: { CAUSEWAY_SERVER: server.url, CAUSEWAY_TOKEN: "from-env" },
    });
    expect(run.code).toBe(0);
    expect(server.received[0]?.headers.authorization).toBe("Bearer from-env");
  });

  it("--server and --token win over the environment", async () => {
    const run = await runCausewayCli(["runs", "--server", `${server.url}/`, "--token", "flag"], {
      env: { CAUSEWAY_SERVER: "http://127.0.0.1:1", CAUSEWAY_TOKEN: "env" },
    });
    expect(run.code).toBe(0);
    expect(server.received[0]?.headers.authorization).toBe("Bearer flag");
  });

  it("uses server.json's token with an explicit URL only when the URLs match", async () => {
    const data = await dataDir("match", { url: server.url, token: "file-token", pid: 1 });
    expect(await locateServer({ server: server.url, data }, {}, tmp)).toMatchObject({
      url: server.url,
      token: "file-token",
      tokenFrom: join(data, "server.json"),
    });
    expect(await locateServer({ server: "http://127.0.0.1:9", data }, {}, tmp)).toEqual({
      url: "http://127.0.0.1:9",
      token: undefined,
    });
  });

  it("says how to start a server when there is no server.json", async () => {
    const run = await runCausewayCli(["runs", "--data", join(tmp, "missing")]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^error SERVER_UNREACHABLE: no server found: .*server\.json does not exist/);
    expect(run.err).toContain("causeway up");
  });

  it("finds .causeway/server.json in the working directory or the nearest directory above it", async () => {
    const root = join(tmp, "walk");
    await dataDir("walk/.causeway", { url: server.url, token: "walked", pid: 1 });
    await mkdir(join(root, "examples", "line"), { recursive: true });
    for (const cwd of [root, join(root, "examples", "line")]) {
      expect(await locateServer({}, {}, cwd)).toMatchObject({ url: server.url, token: "walked" });
      const run = await runCausewayCli(["runs"], { cwd });
      expect(run.code).toBe(0);
    }
    expect(server.received.map((r) => r.headers.authorization)).toEqual(["Bearer walked", "Bearer walked"]);
  });

  it("names the directories it searched when no server.json is found", async () => {
    const cwd = join(tmp, "nowhere");
    await mkdir(cwd, { recursive: true });
    const run = await runCausewayCli(["runs"], { cwd });
    expect(run.code).toBe(1);
    expect(run.err).toContain(`no .causeway/server.json in ${cwd} or any directory above it`);
    expect(run.err).toMatch(/hint: start one with `causeway up DIR`/);
  });

  it("says where the token of a refused request came from, and where the right one is", async () => {
    server.on("GET /api/v1/runs", (_req, res) =>
      sendJson(res, 401, { error: { code: "UNAUTHORIZED", message: "missing or wrong token", requestId: "r" } }),
    );
    const data = await dataDir("stale", { url: server.url, token: "old", pid: 1 });
    const fromFile = await runCausewayCli(["runs", "--data", data]);
    expect(fromFile.code).toBe(1);
    expect(fromFile.err).toContain(
      `hint: the token sent came from ${join(data, "server.json")} (is it from another server?)`,
    );
    const fromEnv = await runCausewayCli(["runs", "--data", data], { env: { CAUSEWAY_TOKEN: "x" } });
    expect(fromEnv.err).toContain("hint: the token sent came from CAUSEWAY_TOKEN;");
    expect(fromEnv.err).toContain("the server's token is in server.json of its data directory");
  });

  it.each([
    ["--token", "a line break", "xyz\nzy", [] as string[], {}],
    ["CAUSEWAY_TOKEN", "a line break", "xyzzy\r\n", [], {}],
    ["CAUSEWAY_TOKEN", "a space or a tab", "xyz zy", [], {}],
    ["CAUSEWAY_TOKEN", "a control character", "xyz\u0007zy", [], {}],
    ["CAUSEWAY_TOKEN", "a character outside printable ASCII", "xyzzé", [], {}],
  ])("refuses a token of %s holding %s with TOKEN_INVALID, without showing it", async (from, what, token) => {
    const data = await dataDir(`bad-${from}-${what.length}`, { url: server.url, token: "good", pid: 1 });
    const run = await runCausewayCli(
      ["runs", "--data", data, ...(from === "--token" ? ["--token", token] : [])],
      from === "CAUSEWAY_TOKEN" ? { env: { CAUSEWAY_TOKEN: token } } : {},
    );
    expect(run.code).toBe(2);
    expect(run.err).toMatch(
      new RegExp(`^error TOKEN_INVALID: the API token of ${from} cannot be sent: it holds ${what}\n`),
    );
    expect(run.err).not.toContain("xyz");
    expect(server.received).toEqual([]);
  });

  it("refuses a server.json whose token cannot be sent, naming the file", async () => {
    const data = await dataDir("bad-file-token", { url: server.url, token: "secret-value\n", pid: 1 });
    const run = await runCausewayCli(["runs", "--data", data]);
    expect(run.code).toBe(2);
    expect(run.err).toContain(
      `error TOKEN_INVALID: the API token in ${join(data, "server.json")} cannot be sent: it holds a line break`,
    );
    expect(run.err).not.toContain("secret-value");
    expect(server.received).toEqual([]);
  });

  it("names the server.json whose server does not answer", async () => {
    const port = await closedPort();
    const data = await dataDir("dead", { url: `http://127.0.0.1:${port}`, token: "t", pid: 1 });
    const run = await runCausewayCli(["runs", "--data", data]);
    expect(run.code).toBe(1);
    expect(run.err).toContain(`hint: ${join(data, "server.json")} names this server, but it does not answer`);
  });

  it("rejects a server.json it cannot read", async () => {
    const data = await dataDir("broken", "{ not json");
    const run = await runCausewayCli(["runs", "--data", data]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/SERVER_UNREACHABLE: .*is not a server\.json/);
  });

  it("reports a server that does not answer as SERVER_UNREACHABLE with a hint", async () => {
    const port = await closedPort();
    const run = await runCausewayCli(["runs", "--server", `http://127.0.0.1:${port}`]);
    expect(run.code).toBe(1);
    expect(run.err).toContain(
      `error SERVER_UNREACHABLE: cannot reach the server at http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect(run.err).toContain("hint: start it with `causeway up`");
  });

  it("does not retry a log stream that never connected", async () => {
    const port = await closedPort();
    const run = await runCausewayCli(["logs", "1", "--follow", "--server", `http://127.0.0.1:${port}`]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^error SERVER_UNREACHABLE: /);
  });

  it("treats a --server that is not an http URL as a usage problem", async () => {
    const run = await runCausewayCli(["runs", "--server", "ftp://x"]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/http\(s\) URL/);
  });
});

describe("the API client", () => {
  const client = (): ApiClient => new ApiClient({ url: server.url, token: "t" });

  async function failure(p: Promise<unknown>): Promise<CausewayError> {
    const error: unknown = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CausewayError);
    return error as CausewayError;
  }

  it("turns an error body into a CausewayError with its code and request id", async () => {
    server.on("GET /api/v1/runs/99", (_req, res) =>
      sendJson(res, 404, { error: { code: "RUN_NOT_FOUND", message: "no run 99", requestId: "req-7" } }),
    );
    const error = await failure(client().run(99));
    expect([error.code, error.message, error.requestId]).toEqual(["RUN_NOT_FOUND", "no run 99", "req-7"]);
  });

  it("prints the code, message and hint of a user error, and exits 1", async () => {
    server.on("GET /api/v1/runs/99", (_req, res) =>
      sendJson(res, 404, { error: { code: "RUN_NOT_FOUND", message: "no run 99", requestId: "req-7", hint: "h" } }),
    );
    const run = await runCausewayCli(["run", "99", "--server", server.url]);
    expect(run.code).toBe(1);
    expect(run.out).toBe("");
    expect(run.err).toBe("error RUN_NOT_FOUND: no run 99\n  hint: h\n");
  });

  it("prints the request id of a failure of the server, and asks to report an internal one", async () => {
    server.on("GET /api/v1/runs/98", (_req, res) =>
      sendJson(res, 500, { error: { code: "INTERNAL", message: "an unexpected error occurred", requestId: "req-8" } }),
    );
    const run = await runCausewayCli(["run", "98", "--server", server.url]);
    expect(run.code).toBe(1);
    expect(run.err).toBe(
      "error INTERNAL: an unexpected error occurred\n  request id: req-8\n" +
        "  this is a bug in Causeway: please report it, with the command you ran and the text above\n",
    );
  });

  it("hints at the token on UNAUTHORIZED", async () => {
    server.on("GET /api/v1/runs/1", (_req, res) =>
      sendJson(res, 401, { error: { code: "UNAUTHORIZED", message: "bad token", requestId: "r" } }),
    );
    const error = await failure(client().run(1));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.hint).toContain("CAUSEWAY_TOKEN");
  });

  it("maps an answer that is not an error body by its HTTP status", async () => {
    server.on("GET /api/v1/runs/1", (_req, res) => {
      res.writeHead(502);
      res.end("bad gateway");
    });
    const error = await failure(client().run(1));
    expect(error.code).toBe("INTERNAL");
    expect(error.message).toContain("HTTP 502: bad gateway");
  });

  it("rejects an answer that does not match the protocol schema", async () => {
    server.on("GET /api/v1/runs/1", (_req, res) => sendJson(res, 200, { id: "one" }));
    const error = await failure(client().run(1));
    expect(error.code).toBe("INTERNAL");
    expect(error.message).toMatch(/unexpected answer from the server to GET \/runs\/1: id: /);
  });

  it("encodes names in paths and sends JSON bodies with the bearer token", async () => {
    server.on("PUT /api/v1/jobs/a%20b/pins/in%2Fx", (_req, res) => sendJson(res, 200, { ok: true }));
    expect(await client().pin("a b", "in/x", 3)).toEqual({ ok: true });
    const req = server.received.at(-1);
    expect(req?.body).toEqual({ versionNumber: 3 });
    expect(req?.headers["content-type"]).toBe("application/json");
    expect(req?.headers.authorization).toBe("Bearer t");
  });

  it("accepts a base URL that already ends with /api/v1", async () => {
    const c = new ApiClient({ url: `${server.url}/api/v1/`, token: undefined });
    expect(await c.runs()).toHaveLength(1);
    expect(server.received.at(-1)?.headers.authorization).toBeUndefined();
  });

  it("reads a log page with its next offset and the run's status from the headers", async () => {
    server.on("GET /api/v1/runs/3/logs", (req, res) => {
      res.writeHead(200, { "content-type": "text/plain", "x-next-offset": "11", "x-run-status": "processing" });
      res.end(req.query.get("offset") === "5" ? "world\n" : "");
    });
    expect(await client().logs(3, 5)).toEqual({ text: "world\n", nextOffset: 11, status: "processing" });
  });

  it("opens the event stream with Last-Event-ID and skips heartbeats", async () => {
    server.on("GET /api/v1/events", (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(": connected\n\n: heartbeat\n\n");
      res.write(
        `id: 8\ndata: ${JSON.stringify({ id: 8, at: "2030-01-01T00:00:00Z", type: "definition", payload: { name: "a", kind: "job", change: "added" } })}\n\n`,
      );
      res.end(`event: ping\ndata: {}\n\n`);
    });
    const stream = await client().events("7");
    const ids: number[] = [];
    for await (const e of stream) ids.push(e.id);
    expect(ids).toEqual([8]);
    expect(stream.lastEventId()).toBe("8");
    expect(server.received.at(-1)?.headers["last-event-id"]).toBe("7");
  });

  it("refuses an event whose payload does not fit its type", async () => {
    server.on("GET /api/v1/events", (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(
        `id: 9\ndata: ${JSON.stringify({ id: 9, at: "2030-01-01T00:00:00Z", type: "run", payload: { id: "x" } })}\n\n`,
      );
    });
    const stream = await client().events(undefined);
    const read = async (): Promise<void> => {
      for await (const _ of stream) void _;
    };
    await expect(read()).rejects.toThrow(/unexpected answer from the server to an engine event: payload/);
  });
});
