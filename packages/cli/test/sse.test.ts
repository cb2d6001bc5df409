import { describe, expect, it } from "vitest";
import { readSse, type SseMessage } from "../src/sse.js";

function streamOf(chunks: readonly (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === "string" ? encoder.encode(c) : c);
      controller.close();
    },
  });
}

async function parse(chunks: readonly (string | Uint8Array)[]): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of readSse(streamOf(chunks))) out.push(m);
  return out;
}

const euro = new TextEncoder().encode("data: €\n\n");

describe("readSse (the event-stream format of the HTML standard)", () => {
  it.each([
    { name: "one event", chunks: ["data: a\n\n"], want: [{ event: "message", data: "a", lastEventId: "" }] },
    {
      name: "named event with id",
      chunks: ['event: log\nid: 7\ndata: {"x":1}\n\n'],
      want: [{ event: "log", data: '{"x":1}', lastEventId: "7" }],
    },
    {
      name: "multi-line data joined with \\n",
      chunks: ["data: one\ndata: two\ndata:\n\n"],
      want: [{ event: "message", data: "one\ntwo\n", lastEventId: "" }],
    },
    { name: "CRLF line ends", chunks: ["data: a\r\n\r\n"], want: [{ event: "message", data: "a", lastEventId: "" }] },
    { name: "CR line ends", chunks: ["data: a\r\r"], want: [{ event: "message", data: "a", lastEventId: "" }] },
    {
      name: "CRLF split across chunks is one line end",
      chunks: ["data: a\r", "\n\r", "\ndata: b\n\n"],
      want: [
        { event: "message", data: "a", lastEventId: "" },
        { event: "message", data: "b", lastEventId: "" },
      ],
    },
    {
      name: "fields split across chunks",
      chunks: ["da", "ta: hel", "lo\n", "\n"],
      want: [{ event: "message", data: "hello", lastEventId: "" }],
    },
    {
      name: "comments are ignored",
      chunks: [": connected\n\n: heartbeat\n\ndata: x\n\n"],
      want: [{ event: "message", data: "x", lastEventId: "" }],
    },
    {
      name: "only one leading space is dropped",
      chunks: ["data:  two\n\n"],
      want: [{ event: "message", data: " two", lastEventId: "" }],
    },
    {
      name: "no space after the colon",
      chunks: ["data:x\n\n"],
      want: [{ event: "message", data: "x", lastEventId: "" }],
    },
    {
      name: "a field without colon has an empty value",
      chunks: ["data\n\n"],
      want: [{ event: "message", data: "", lastEventId: "" }],
    },
    {
      name: "the id persists to later events and event resets",
      chunks: ["event: a\nid: 1\ndata: x\n\ndata: y\n\n"],
      want: [
        { event: "a", data: "x", lastEventId: "1" },
        { event: "message", data: "y", lastEventId: "1" },
      ],
    },
    {
      name: "an id with NUL is ignored",
      chunks: ["id: 1\u0000\ndata: x\n\n"],
      want: [{ event: "message", data: "x", lastEventId: "" }],
    },
    { name: "an event without data is not dispatched", chunks: ["event: ping\n\n"], want: [] },
    {
      name: "an unterminated event at the end is dropped",
      chunks: ["data: a\n\ndata: b\n"],
      want: [{ event: "message", data: "a", lastEventId: "" }],
    },
    {
      name: "a UTF-8 character split across chunks",
      chunks: [euro.slice(0, 7), euro.slice(7)],
      want: [{ event: "message", data: "€", lastEventId: "" }],
    },
    {
      name: "unknown fields and retry are ignored",
      chunks: ["retry: 10\nfoo: bar\ndata: z\n\n"],
      want: [{ event: "message", data: "z", lastEventId: "" }],
    },
  ])("$name", async ({ chunks, want }) => {
    expect(await parse(chunks)).toEqual(want);
  });

  it("starts from the given last event id", async () => {
    const out: SseMessage[] = [];
    for await (const m of readSse(streamOf(["data: a\n\n"]), "41")) out.push(m);
    expect(out).toEqual([{ event: "message", data: "a", lastEventId: "41" }]);
  });

  it("cancels the stream when the reader stops early", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("data: a\n\ndata: b\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const m of readSse(body)) {
      expect(m.data).toBe("a");
      break;
    }
    expect(cancelled).toBe(true);
  });
});
