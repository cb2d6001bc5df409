import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { Socket } from "node:net";
import { rm } from "node:fs/promises";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { NotificationsSchema, RunSchema, type NotificationJson, type RunJson } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { startServer, type RunningServer, type ServerOptions } from "../src/index.js";
import { collectingLogger, lineAndData, tempDir, waitFor } from "./helpers.js";

// Real receivers for the notification tests: an HTTP server on 127.0.0.1:0 for webhook and
// Slack posts, an SMTP server (smtp-server) for mails, and a real Causeway server sending to them.

/** One request a receiver got. */
export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The status it was answered with; "hang" when it was never answered. */
  readonly answer: number | "hang";
}

/** An HTTP receiver: `answer` decides each request's fate by its index (0-based). */
export interface Receiver {
  readonly url: string;
  readonly requests: Received[];
  /** Requests answered 2xx (what a receiver accepted). */
  accepted(): Received[];
  answer: (index: number) => number | "hang";
  stop(): Promise<void>;
}

/** Starts an HTTP receiver on the loopback. */
export async function startReceiver(answer: (index: number) => number | "hang" = () => 200): Promise<Receiver> {
  const requests: Received[] = [];
  const sockets = new Set<Socket>();
  const receiver = { answer };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const fate = receiver.answer(requests.length);
      requests.push({
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        answer: fate,
      });
      if (fate === "hang") return;
      res.writeHead(fate, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    requests,
    accepted: () => requests.filter((r) => typeof r.answer === "number" && r.answer < 300),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

/** A mail the SMTP server received, parsed. */
export interface Mail {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly headers: ReadonlyMap<string, unknown>;
  readonly raw: string;
}

/** A real SMTP server on the loopback that wants `user`/`pass` and keeps every mail. */
export async function startSmtp(
  user: string,
  pass: string,
): Promise<{
  port: number;
  mails: Mail[];
  stop(): Promise<void>;
}> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === pass) callback(null, { user });
      else callback(new Error("bad credentials"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString();
        simpleParser(raw).then(
          (parsed) => {
            mails.push({
              from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: parsed.subject ?? "",
              text: parsed.text ?? "",
              html: typeof parsed.html === "string" ? parsed.html : "",
              headers: parsed.headers,
              raw,
            });
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return { port, mails, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A real Causeway server on a line, with integration files, sending notifications. */
export type NotifyServer = RunningServer & {
  readonly root: string;
  readonly logger: ReturnType<typeof collectingLogger>;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Triggers `job` (with params) and waits until the run is final. */
  run(job: string, params?: Record<string, string>): Promise<RunJson>;
  finished(id: number): Promise<RunJson>;
  /** The outbox, newest first. */
  deliveries(state?: string): Promise<NotificationJson[]>;
  stop(): Promise<void>;
};

const FINAL = ["success", "failure", "cancelled", "error", "timeout", "lost", "skipped"];

/** Starts a server on `files` with integration files, the notify options for fast tests. */
export async function startNotifyServer(
  files: Record<string, string>,
  integrations: Record<string, Record<string, string>> = {},
  options: Partial<ServerOptions> = {},
  root?: string,
): Promise<NotifyServer> {
  const base = root ?? (await tempDir("notify"));
  const { dir, dataDir } = await lineAndData(base, files, integrations);
  const logger = collectingLogger();
  const server = await startServer({
    dir,
    dataDir,
    port: 0,
    env: passthroughEnv(process.env),
    logger,
    cancelGraceMs: 500,
    notifyTimeoutMs: 2000,
    notifyRetryMs: 20,
    notifyRetryMaxMs: 100,
    ...options,
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
    return { status: res.status, body: (await res.json()) as T };
  };
  const finished = (id: number) =>
    waitFor(`run ${id} to finish`, async () => {
      const run = RunSchema.parse((await api("GET", `/runs/${id}`)).body);
      return FINAL.includes(run.status) ? run : undefined;
    });
  const stopServer = server.stop.bind(server);
  return Object.assign(server, {
    root: base,
    logger,
    api,
    finished,
    async run(job: string, params: Record<string, string> = {}) {
      const { status, body } = await api<RunJson>("POST", `/jobs/${job}/runs`, { params });
      if (status !== 201) throw new Error(`trigger ${job}: ${status} ${JSON.stringify(body)}`);
      return finished(body.id);
    },
    async deliveries(state?: string) {
      const { body } = await api("GET", `/notifications?limit=1000${state === undefined ? "" : `&state=${state}`}`);
      return NotificationsSchema.parse(body).notifications;
    },
    async stop() {
      await stopServer();
      if (root === undefined) await rm(base, { recursive: true, force: true });
    },
  });
}

/** Waits until no delivery is pending, and returns them all (oldest first). */
export async function settled(server: NotifyServer, timeoutMs = 20_000): Promise<NotificationJson[]> {
  return waitFor(
    "the outbox to settle",
    async () => {
      const all = await server.deliveries();
      return all.every((n) => n.state !== "pending") ? all.reverse() : undefined;
    },
    timeoutMs,
  );
}
