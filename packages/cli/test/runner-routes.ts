import { randomBytes } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  RunnerSchema,
  RunnerTokenRequestSchema,
  RunnerTokenSchema,
  type RunnerJson,
  type RunnerTokenJson,
} from "@causeway/protocol";

// A test double of the server's HTTP contract for remote runners (issue 11), until the server
// has the routes: a real HTTP server that answers the admin routes under /api/v1 as
// docs/cli.md and packages/protocol/src/runner.ts describe them, with the API's error bodies
// and roles. Every answer is parsed with its protocol schema before it is sent. When the real
// routes exist, the tests that use this switch to `startLineServer` and this file goes.

/** What the double received, in order. */
export interface RunnerRouteCall {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

/** The double: its URL, an admin and a viewer token, and the runners it holds (tests change them). */
export interface RunnerRoutes {
  readonly url: string;
  readonly adminToken: string;
  readonly viewerToken: string;
  /** The runners `GET /runners` lists; drain and activate change their state. */
  runners: RunnerJson[];
  /** The registration tokens made, in order. */
  readonly madeTokens: RunnerTokenJson[];
  readonly calls: RunnerRouteCall[];
  close(): Promise<void>;
}

/** The life of a registration token when the request gives none. */
const DEFAULT_TOKEN_HOURS = 24;

/** Starts the double on 127.0.0.1; `now` is the server's clock (expiry times). */
export async function startRunnerRoutes(now: () => Date): Promise<RunnerRoutes> {
  const adminToken = `cw_admin_${randomBytes(8).toString("hex")}`;
  const viewerToken = `cw_viewer_${randomBytes(8).toString("hex")}`;
  const routes: RunnerRoutes = {
    url: "",
    adminToken,
    viewerToken,
    runners: [],
    madeTokens: [],
    calls: [],
    close: () => Promise.resolve(),
  };

  const answer = (method: string, path: string, role: "admin" | "viewer", body: unknown): [number, unknown] => {
    if (method === "GET" && path === "/api/v1/runners") {
      return [200, { runners: routes.runners.map((r) => RunnerSchema.parse(r)) }];
    }
    if (role !== "admin" && method === "POST")
      return error(403, "FORBIDDEN_ROLE", `${method} ${path} needs the admin role; this token is a viewer's`);
    if (method === "POST" && path === "/api/v1/runner-tokens") {
      const request = RunnerTokenRequestSchema.safeParse(body ?? {});
      if (!request.success) return error(400, "BAD_REQUEST", request.error.issues[0]?.message ?? "invalid body");
      const hours = request.data.expiresInHours ?? DEFAULT_TOKEN_HOURS;
      const made = RunnerTokenSchema.parse({
        token: `cwreg_${randomBytes(32).toString("base64url")}`,
        pool: request.data.pool ?? null,
        expiresAt: new Date(now().getTime() + hours * 3_600_000).toISOString(),
      });
      routes.madeTokens.push(made);
      return [201, made];
    }
    const change = /^\/api\/v1\/runners\/([^/]+)\/(drain|activate)$/.exec(path);
    if (method === "POST" && change !== null) {
      const name = decodeURIComponent(change[1] ?? "");
      const runner = routes.runners.find((r) => r.name === name);
      if (runner === undefined)
        return error(404, "RUNNER_NOT_FOUND", `no runner named ${name}`, "`causeway runners` lists them");
      const changed: RunnerJson = {
        ...runner,
        // A runner without a session shows offline whatever an admin set.
        state: runner.state === "offline" ? "offline" : change[2] === "drain" ? "draining" : "active",
      };
      routes.runners = routes.runners.map((r) => (r.name === name ? changed : r));
      return [200, { runner: RunnerSchema.parse(changed) }];
    }
    return error(404, "NOT_FOUND", `no route ${method} ${path}`);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const method = req.method ?? "GET";
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const text = Buffer.concat(chunks).toString("utf8");
      const body: unknown = text === "" ? undefined : JSON.parse(text);
      routes.calls.push({ method, path, body });
      const auth = req.headers.authorization;
      const role = auth === `Bearer ${adminToken}` ? "admin" : auth === `Bearer ${viewerToken}` ? "viewer" : undefined;
      if (role === undefined) {
        send(res, ...error(401, "UNAUTHORIZED", "the API token is missing or wrong"));
        return;
      }
      send(res, ...answer(method, path, role, body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(routes, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

function error(status: number, code: string, message: string, hint?: string): [number, unknown] {
  return [status, { error: { code, message, ...(hint === undefined ? {} : { hint }), requestId: "req-runners" } }];
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
