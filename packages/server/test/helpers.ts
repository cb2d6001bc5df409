import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Engine } from "@causeway/engine";
import { createEmbeddedRunner, passthroughEnv } from "@causeway/runner";
import { openSqliteStore, type SecretKeyRing } from "@causeway/store";
import type { LoadResult, SourceFile, TokenStore } from "@causeway/core";
import {
  buildApp,
  logFeed,
  RunnerHub,
  startEmbeddedAgent,
  TokenAuth,
  type LogFields,
  type Logger,
} from "../src/index.js";

/** A temp directory, removed by `cleanup`. */
export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `causeway-server-${prefix}-`));
}

/** Polls `check` until it returns a value other than undefined/false, or fails at the deadline. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/** A logger that keeps every line (with its fields, and the errors) it is given. */
export function collectingLogger(): Logger & {
  lines: string[];
  entries: { level: "info" | "warn" | "error"; msg: string; fields: LogFields | undefined }[];
  errors: { line: string; error: unknown }[];
} {
  const lines: string[] = [];
  const entries: { level: "info" | "warn" | "error"; msg: string; fields: LogFields | undefined }[] = [];
  const errors: { line: string; error: unknown }[] = [];
  return {
    lines,
    entries,
    errors,
    info: (msg, fields) => {
      lines.push(msg);
      entries.push({ level: "info", msg, fields });
    },
    warn: (msg, fields) => {
      lines.push(msg);
      entries.push({ level: "warn", msg, fields });
    },
    error: (msg, error, fields) => {
      lines.push(msg);
      entries.push({ level: "error", msg, fields });
      errors.push({ line: msg, error });
    },
  };
}

export const TOKEN = "test-token-0123456789";

/** The token store of `stores` with an admin token named `admin` whose secret is TOKEN. */
export async function testAuth(tokens: TokenStore): Promise<TokenAuth> {
  const auth = new TokenAuth(tokens);
  await auth.create({ name: "admin", role: "admin", by: "system", secret: TOKEN });
  return auth;
}

/** The app on a real SQLite store, a real embedded runner and a real engine, in a temp dir. */
export async function testApp(
  options: {
    loadFiles?: (files: readonly SourceFile[]) => LoadResult;
    heartbeatMs?: number;
    maxStreams?: number;
    publicAccess?: boolean;
    secretKeys?: SecretKeyRing;
  } = {},
) {
  const dir = await tempDir("app");
  const stores = await openSqliteStore({ dataDir: join(dir, "data") });
  const logs = logFeed(stores.logs);
  const runner = createEmbeddedRunner({
    workDir: join(dir, "data", "workspaces"),
    blobs: stores.blobs,
    env: passthroughEnv(process.env),
    cancelGraceMs: 500,
    // Tasks of these tests wait on gate files in the test's directory, outside their
    // workspaces: no sandbox (it hides that directory; its own tests are sandbox.test.ts).
    sandbox: "off",
  });
  // The server's runners: the embedded one behind the hub, and the runner protocol's routes.
  const hub = new RunnerHub({ store: stores.runners });
  await hub.load();
  const embedded = await startEmbeddedAgent({ hub, runner, slots: 4, blobs: stores.blobs });
  const engine = new Engine({ store: stores.store, blobs: stores.blobs, logs, runner: hub, options: { slots: 4 } });
  await engine.start();
  const logger = collectingLogger();
  const shutdown = new AbortController();
  const auth = await testAuth(stores.tokens);
  const app = buildApp({
    engine,
    store: stores.store,
    logs,
    blobs: stores.blobs,
    auth,
    version: "9.9.9-test",
    logger,
    signal: shutdown.signal,
    runners: { hub, store: stores.runners },
    ...options,
  });
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.request(`/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
  const json = async <T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const res = await call(method, path, body);
    return { status: res.status, body: (await res.json()) as T };
  };
  return {
    dir,
    app,
    auth,
    engine,
    stores,
    logger,
    call,
    json,
    /** Aborts the app's shutdown signal, as the server's stop does (open streams end). */
    shutdown: () => shutdown.abort(),
    async close() {
      shutdown.abort();
      await engine.stop();
      await embedded.stop();
      hub.stop();
      runner.close();
      await stores.store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One SSE message. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * Reads SSE messages from a response until `done` says enough (or the stream ends), then
 * cancels the stream. Comment lines are collected in `comments`, which `done` sees too.
 */
export async function readSse(
  res: Response,
  done: (messages: SseMessage[], comments: readonly string[]) => boolean,
  timeoutMs = 20_000,
): Promise<{ messages: SseMessage[]; comments: string[]; ended: boolean }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let buffer = "";
  let ended = false;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void reader.cancel();
  }, timeoutMs);
  try {
    while (!done(messages, comments)) {
      const { done: end, value } = await reader.read();
      if (end) {
        ended = !timedOut;
        break;
      }
      buffer += decoder.decode(value, { stream: true });
      let at: number;
      while ((at = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const data: string[] = [];
        let event = "message";
        let id: string | undefined;
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) comments.push(line.slice(1).trim());
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
          else if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("id:")) id = line.slice(3).trim();
        }
        if (data.length > 0) messages.push({ event, data: data.join("\n"), id });
      }
    }
  } finally {
    clearTimeout(timer);
    if (!ended && !timedOut) await reader.cancel().catch(() => undefined);
  }
  if (timedOut) throw new Error(`SSE: timed out with ${messages.length} messages`);
  return { messages, comments, ended };
}

/** Strips the common indentation of a template literal (YAML in tests). */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ""), "");
  const lines = raw
    .replace(/^\n/, "")
    .replace(/\n[ ]*$/, "\n")
    .split("\n");
  const indents = lines.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join("\n");
}

/**
 * The directories of a server started on a line in a test: `<root>/line` with `files` (paths
 * relative to it, subdirectories made), and `<root>/data`. With `integrations`, the data directory
 * is made beforehand with an owner-only integration file per entry; without, it is left for the
 * server to make, as on a first start.
 */
export async function lineAndData(
  root: string,
  files: Record<string, string>,
  integrations?: Record<string, Record<string, string>>,
): Promise<{ dir: string; dataDir: string }> {
  const dir = join(root, "line");
  const dataDir = join(root, "data");
  await mkdir(dir, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  if (integrations === undefined) return { dir, dataDir };
  await mkdir(join(dataDir, "integrations"), { recursive: true, mode: 0o700 });
  for (const [name, fields] of Object.entries(integrations))
    await writeFile(join(dataDir, "integrations", `${name}.json`), JSON.stringify(fields), { mode: 0o600 });
  return { dir, dataDir };
}
