/** One dispatched server-sent event. */
export interface SseMessage {
  /** The `event:` field, `message` when absent. */
  readonly event: string;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
  /** The last event id seen on the stream so far (the `id:` field persists across events). */
  readonly lastEventId: string;
}

/**
 * Parses a `text/event-stream` body as the HTML standard does: lines end with CRLF, LF or CR;
 * `:` lines are comments; `data:` lines accumulate; a blank line dispatches the event (none
 * when no data was given); one space after the colon is dropped; `id` values holding NUL are
 * ignored. The caller owns the stream: breaking out of the loop cancels it.
 */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  initialLastEventId = "",
): AsyncGenerator<SseMessage, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let lastEventId = initialLastEventId;
  // A CR at the end of a chunk may be the first half of a CRLF split across chunks.
  let pendingCr = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      let text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      if (pendingCr && text.startsWith("\n")) text = text.slice(1);
      pendingCr = false;
      buffer += text;
      for (;;) {
        const at = buffer.search(/[\r\n]/);
        if (at < 0) break;
        const line = buffer.slice(0, at);
        const isCr = buffer[at] === "\r";
        if (isCr && at + 1 === buffer.length && !done) {
          buffer = buffer.slice(at + 1);
          pendingCr = true;
        } else {
          buffer = buffer.slice(at + (isCr && buffer[at + 1] === "\n" ? 2 : 1));
        }
        if (line === "") {
          if (data.length > 0) yield { event: event === "" ? "message" : event, data: data.join("\n"), lastEventId };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? "" : line.slice(colon + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (field === "data") data.push(val);
        else if (field === "event") event = val;
        else if (field === "id" && !val.includes("\u0000")) lastEventId = val;
        // `retry` and unknown fields are ignored: the CLI reconnects on its own schedule.
      }
      // An event not terminated by a blank line when the stream ends is discarded (the standard).
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
