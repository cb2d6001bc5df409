import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorBodySchema } from "@causeway/protocol";
import { testApp, waitFor } from "./helpers.js";

// Many clients following the event stream (UIs, `--wait`s, `logs --follow`s): the server holds a
// bounded number of streams, says so clearly to one more, and warns about nothing.

type App = Awaited<ReturnType<typeof testApp>>;

/** Opens `GET /events` and reads until its first comment (the subscription is live), keeping it open. */
async function follow(h: App): Promise<{ res: Response; close: () => Promise<void> }> {
  const res = await h.call("GET", "/events");
  if (res.status !== 200) return { res, close: () => Promise.resolve() };
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  return { res, close: () => reader.cancel() };
}

describe("SSE streams", () => {
  let h: App;
  let run = 0;
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);

  beforeAll(async () => {
    h = await testApp({ maxStreams: 30 });
    const line =
      "jobs:\n  - name: hello\n    type: runSh\n    steps:\n      - TASK:\n          script: [ 'echo hi' ]\n";
    expect((await h.json("POST", "/apply", { files: [{ path: "causeway.yml", text: line }] })).status).toBe(200);
    run = (await h.json<{ id: number }>("POST", "/jobs/hello/runs")).body.id;
    process.on("warning", onWarning);
  });
  afterAll(async () => {
    process.off("warning", onWarning);
    await h.close();
  });

  it("holds up to the limit, refuses one more with TOO_MANY_STREAMS (503), and takes one again when one closes", async () => {
    const open = [];
    for (let i = 0; i < 30; i++) open.push(await follow(h));
    expect(open.map((o) => o.res.status)).toEqual(Array(30).fill(200));
    const refused = await h.call("GET", "/events");
    expect(refused.status).toBe(503);
    const body = ErrorBodySchema.parse(await refused.json());
    expect(body.error).toMatchObject({ code: "TOO_MANY_STREAMS", details: { limit: 30 } });
    expect(body.error.hint).toMatch(/close a stream/);
    // A log stream counts too.
    const log = await h.call("GET", `/runs/${run}/logs/stream`);
    expect([log.status, ErrorBodySchema.parse(await log.json()).error.code]).toEqual([503, "TOO_MANY_STREAMS"]);
    await open.pop()?.close();
    const again = await waitFor("a freed place", async () => {
      const next = await follow(h);
      return next.res.status === 200 ? next : undefined;
    });
    open.push(again);
    // Thirty clients, and no MaxListenersExceededWarning (one listener serves every stream).
    expect(warnings.filter((w) => w.includes("MaxListeners"))).toEqual([]);
    for (const o of open) await o.close();
  });

  it("ends every open stream at shutdown", async () => {
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await h.call("GET", "/events"));
    h.shutdown();
    for (const res of open) {
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      for (;;) if ((await reader.read()).done) break;
    }
    expect(warnings).toEqual([]);
  });
});
