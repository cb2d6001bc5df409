import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson } from "../src/notify/http-post.js";
import { DeliveryError } from "../src/notify/sender.js";

// Which failures of a webhook or Slack post the outbox retries and which fail the delivery at
// once (docs/semantics.md "Notifications", Delivery): real fetches against a real server on the
// loopback, a port nobody listens on, and URLs fetch never sends to.

let server: Server;
let base = "";
let closedPort = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  // `/status/N` answers N; `/hang` never answers.
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const status = /^\/status\/(\d+)/.exec(req.url ?? "")?.[1];
      if (status === undefined) return;
      res.writeHead(Number(status));
      res.end("answer");
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  base = await listen(server);
  // A port that was just free: nothing listens there, connections are refused.
  const spare = createServer();
  closedPort = Number(new URL(await listen(spare)).port);
  await new Promise<void>((resolve) => spare.close(() => resolve()));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function listen(s: Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const address = s.address();
  return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
}

async function failure(url: string): Promise<DeliveryError | "sent"> {
  try {
    await postJson(url, "{}", {}, 300);
    return "sent";
  } catch (error) {
    if (error instanceof DeliveryError) return error;
    throw error;
  }
}

describe("postJson's failures", () => {
  it.each<[string, boolean, () => string, RegExp]>([
    // permanent: no attempt can ever send there
    [
      "a port fetch blocks (bad port)",
      true,
      () => "http://127.0.0.1:6000/hook?token=t0ken",
      /^127\.0\.0\.1:6000: bad port/,
    ],
    ["a blocked port over https", true, () => "https://127.0.0.1:1/hook", /^127\.0\.0\.1:1: bad port/],
    ["a port out of range", true, () => "http://127.0.0.1:99999/hook?token=t0ken", /^the URL is not valid$/],
    ["not a URL", true, () => "hooks.example.com/hook?token=t0ken", /^the URL is not valid$/],
    ["an unsupported scheme", true, () => "ftp://127.0.0.1/hook", /scheme ftp is not supported/],
    ["a data: URL (fetch would answer it itself)", true, () => "data:text/plain,t0ken", /scheme data is not supported/],
    ["a file: URL", true, () => "file:///etc/passwd", /scheme file is not supported/],
    ["credentials in the URL", true, () => `http://user:t0ken@${base.slice(7)}/status/200`, /a URL with credentials/],
    ["an answer that refuses for good (404)", true, () => `${base}/status/404`, /answered HTTP 404/],
    ["an answer that refuses for good (400)", true, () => `${base}/status/400`, /answered HTTP 400/],
    // transient: the backoff tries again
    ["a refused connection", false, () => `http://127.0.0.1:${closedPort}/hook`, /: ECONNREFUSED$/],
    ["no answer within the time limit", false, () => `${base}/hang`, /no answer from 127\.0\.0\.1:\d+ within 300 ms/],
    ["a server error (500)", false, () => `${base}/status/500`, /answered HTTP 500/],
    ["a server that is unavailable (503)", false, () => `${base}/status/503`, /answered HTTP 503/],
    ["too many requests (429)", false, () => `${base}/status/429`, /answered HTTP 429/],
    ["a request timeout (408)", false, () => `${base}/status/408`, /answered HTTP 408/],
  ])("%s: permanent: %s", async (_name, permanent, url, message) => {
    const error = await failure(url());
    expect(error).toBeInstanceOf(DeliveryError);
    const e = error as DeliveryError;
    expect({ permanent: e.permanent, message: e.message }).toEqual({
      permanent,
      message: expect.stringMatching(message),
    });
    // A URL's path, query or credentials never reach the message (they may hold a token).
    expect(e.message).not.toContain("t0ken");
  });

  it("resolves on a 2xx answer", async () => {
    expect(await failure(`${base}/status/204`)).toBe("sent");
  });
});
