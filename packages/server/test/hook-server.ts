import { createHmac } from "node:crypto";
import { rm } from "node:fs/promises";
import { RunSchema, type RunJson } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { startServer, type RunningServer } from "../src/index.js";
import { collectingLogger, lineAndData, tempDir, waitFor } from "./helpers.js";

// A real server on the loopback for the webhook tests: deliveries are real HTTP requests.

const FINAL = ["success", "failure", "cancelled", "error", "timeout", "lost", "skipped"];

export type HookServer = RunningServer & {
  logger: ReturnType<typeof collectingLogger>;
  /** A call of the API with the server's token; the body parsed when it is JSON. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** A POST to /hooks/<name>, with no API token. */
  hook(name: string, body: string | Uint8Array, headers?: Record<string, string>): Promise<HookResponse>;
  /** Waits until run `id` is final, and returns it. */
  finished(id: number): Promise<RunJson>;
  stop(): Promise<void>;
};

export interface HookResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

/** Starts a server on `files` (the line) with integration files written beforehand. */
export async function startHookServer(
  files: Record<string, string>,
  integrations: Record<string, Record<string, string>> = {},
): Promise<HookServer & { root: string }> {
  const root = await tempDir("hooks");
  const { dir, dataDir } = await lineAndData(root, files, integrations);
  const logger = collectingLogger();
  const server = await startServer({
    dir,
    dataDir,
    port: 0,
    env: passthroughEnv(process.env),
    logger,
    cancelGraceMs: 500,
  });
  const api = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: parse(text) as T };
  };
  const hook = async (name: string, body: string | Uint8Array, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}/hooks/${name}`, { method: "POST", headers, body });
    return { status: res.status, headers: res.headers, body: parse(await res.text()) };
  };
  const finished = (id: number) =>
    waitFor(`run ${id} to finish`, async () => {
      const { body } = await api<RunJson>("GET", `/runs/${id}`);
      const run = RunSchema.parse(body);
      return FINAL.includes(run.status) ? run : undefined;
    });
  const stopServer = server.stop.bind(server);
  return Object.assign(server, {
    root,
    logger,
    api,
    hook,
    finished,
    async stop() {
      await stopServer();
      await rm(root, { recursive: true, force: true });
    },
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `Basic base64(user:password)`. */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** `sha256=<hex>`: the HMAC-SHA256 of the body, as GitHub and Bitbucket sign deliveries. */
export function signature(key: string, body: string | Uint8Array): string {
  return `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;
}
