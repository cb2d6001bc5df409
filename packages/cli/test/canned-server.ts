import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A request as the canned server received it. */
export interface Received {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage["headers"];
  readonly body: unknown;
}

/** Answers one route; `res` is the real response of node:http. */
export type Handler = (req: Received, res: ServerResponse) => void | Promise<void>;

/**
 * A real HTTP server on 127.0.0.1 that answers protocol-shaped canned responses, for testing
 * the CLI's client, SSE reading and printing without the Causeway server. Routes are keyed
 * `METHOD /path` (path without the query); unknown routes answer the API's 404 body.
 */
export interface CannedServer {
  readonly url: string;
  readonly received: Received[];
  on(route: string, handler: Handler): void;
  close(): Promise<void>;
}

/** Starts a canned server on a free port. */
export async function startCanned(): Promise<CannedServer> {
  const routes = new Map<string, Handler>();
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const text = Buffer.concat(chunks).toString("utf8");
      const r: Received = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: text === "" ? undefined : JSON.parse(text),
      };
      received.push(r);
      const handler = routes.get(`${r.method} ${r.path}`);
      if (handler === undefined) {
        sendJson(res, 404, {
          error: { code: "NOT_FOUND", message: `no route ${r.method} ${r.path}`, requestId: "r-404" },
        });
        return;
      }
      Promise.resolve(handler(r, res)).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    on: (route, handler) => void routes.set(route, handler),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** Starts an SSE answer; write frames with `res.write`. */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.write(": connected\n\n");
}
