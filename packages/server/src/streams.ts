import { CausewayError, isFinal, type EngineEvent, type Run } from "@causeway/core";
import type { EventJson } from "@causeway/protocol";
import type { Context } from "hono";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import type { AppDeps } from "./deps.js";
import type { AppEnv } from "./http-errors.js";
import { isLogFeed } from "./log-feed.js";
import { secretParams, toEventJson, toRunJson } from "./mapping.js";
import { intParam } from "./request.js";
import { Wakeup } from "./wakeup.js";

const EVENT_PAGE = 500;
// Log streams are woken by appends and run events; this re-check is only a safety net (and
// the pace of a log store that cannot wake anyone). It is off the scheduling path.
const LOG_RECHECK_MS = { woken: 5000, polled: 250 } as const;

/** The run, from the engine's read model while it is active, else from the store. */
export async function currentRun(deps: AppDeps, id: number): Promise<Run> {
  const run = deps.engine.view.activeRun(id) ?? (await deps.store.read.getRun(id));
  if (run === undefined) throw new CausewayError("RUN_NOT_FOUND", `no run ${id}`);
  return run;
}

/**
 * Whether a run's console log must exist: the run was executed (it was processing) and is over.
 * Runs that never started (cancelled while queued, skipped) have none; a processing run's log is
 * created as it starts, and one lost meanwhile ends the run `error` (see the engine).
 */
export function logExpected(run: Run): boolean {
  return isFinal(run.status) && run.status !== "skipped" && run.startedAt !== null;
}

function resumePoint(c: Context<AppEnv>, queryName: string): number | undefined {
  const header = c.req.header("last-event-id");
  if (header !== undefined && header !== "")
    return intParam(header, "Last-Event-ID", { min: 0, max: Number.MAX_SAFE_INTEGER });
  return intParam(c.req.query(queryName), queryName, { min: 0, max: Number.MAX_SAFE_INTEGER });
}

/**
 * The open SSE streams of an app: at most `max` at once (one more is refused with
 * `TOO_MANY_STREAMS`, before its headers), all ended when the server shuts down. One listener on
 * the shutdown signal serves every stream, so any number of clients adds no listener to it.
 */
export class StreamRegistry {
  readonly #open = new Map<SSEStreamingApi, Wakeup>();
  #reserved = 0;

  constructor(
    readonly max: number,
    readonly signal: AbortSignal | undefined,
  ) {
    signal?.addEventListener("abort", () => {
      for (const [stream, wake] of this.#open) {
        wake.wake();
        void stream.close();
      }
    });
  }

  /** Reserves a place for a stream about to open; TOO_MANY_STREAMS when every place is taken. */
  reserve(): void {
    if (this.#open.size + this.#reserved >= this.max)
      throw new CausewayError("TOO_MANY_STREAMS", `the server holds ${this.max} event and log streams already`, {
        hint: "close a stream (a `causeway logs --follow` or `--wait` elsewhere, a browser tab), or raise --max-streams",
        details: { limit: this.max },
      });
    this.#reserved++;
  }

  /** Takes the reserved place for `stream`; the returned function gives it back. */
  enter(stream: SSEStreamingApi, wake: Wakeup): () => void {
    this.#reserved = Math.max(0, this.#reserved - 1);
    this.#open.set(stream, wake);
    stream.onAbort(() => wake.wake());
    if (this.signal?.aborted === true) {
      wake.wake();
      void stream.close();
    }
    return () => void this.#open.delete(stream);
  }

  /** Streams open now. */
  get size(): number {
    return this.#open.size;
  }
}

function open(stream: SSEStreamingApi): boolean {
  return !stream.aborted && !stream.closed;
}

/**
 * `GET /events`: engine events as SSE, `id:` the event id, `data:` the EventJson. With
 * `Last-Event-ID` (or `?after=`), events after that id are replayed from the event log first;
 * live events follow without a gap or a repeat (the subscription starts before the replay and
 * events are delivered in id order). A comment line is sent every `heartbeatMs`.
 */
export function eventsRoute(
  c: Context<AppEnv>,
  deps: AppDeps,
  streams: StreamRegistry,
  shown: (event: EventJson) => boolean = () => true,
): Response {
  const after = resumePoint(c, "after");
  streams.reserve();
  return streamSSE(c, async (stream) => {
    const queue: EngineEvent[] = [];
    const wake = new Wakeup();
    const unsubscribe = deps.engine.subscribe((event) => {
      queue.push(event);
      wake.wake();
    });
    const leave = streams.enter(stream, wake);
    const heartbeat = setInterval(() => void stream.write(": heartbeat\n\n"), deps.heartbeatMs ?? 15_000);
    try {
      // Sent at once, so a client knows its subscription is live when the headers arrive.
      await stream.write(": connected\n\n");
      let last = after;
      if (after !== undefined) {
        for (;;) {
          const page = await deps.store.eventsSince(last ?? 0, EVENT_PAGE);
          for (const event of page) {
            if (!open(stream)) return;
            await send(stream, event, deps, shown);
            last = event.id;
          }
          if (page.length < EVENT_PAGE) break;
        }
      }
      while (open(stream)) {
        let event: EngineEvent | undefined;
        while ((event = queue.shift()) !== undefined && open(stream)) {
          if (last !== undefined && event.id <= last) continue;
          await send(stream, event, deps, shown);
          last = event.id;
        }
        await wake.wait(60_000);
      }
    } finally {
      clearInterval(heartbeat);
      unsubscribe();
      leave();
    }
  });
}

/**
 * Sends an event in its protocol shape. One whose payload does not fit the protocol's event union
 * (a bug) is logged and left out, rather than ending every client's stream on it.
 */
async function send(
  stream: SSEStreamingApi,
  event: EngineEvent,
  deps: Pick<AppDeps, "logger">,
  shown: (event: EventJson) => boolean,
): Promise<void> {
  const json = toEventJson(event);
  if (json === undefined) {
    deps.logger?.error(`event ${event.id} (${event.type}) does not fit the protocol's event shape; not streamed`);
    return;
  }
  if (!shown(json)) return;
  await stream.writeSSE({ id: String(event.id), data: JSON.stringify(json) });
}

/**
 * `GET /runs/:id/logs/stream`: a run's log as SSE from byte `?offset=` (or `Last-Event-ID`).
 * `event: log`, `data: {"offset": <byte offset of text>, "text": ...}`, `id:` the next offset;
 * text is cut at UTF-8 character boundaries only. When the run is final (and so its log is
 * complete), `event: end`, `data:` the RunJson, and the stream ends.
 */
export async function logStreamRoute(
  c: Context<AppEnv>,
  deps: AppDeps,
  streams: StreamRegistry,
  id: number,
): Promise<Response> {
  let offset = resumePoint(c, "offset") ?? 0;
  const first = await currentRun(deps, id);
  // A lost log answers LOG_NOT_FOUND before the stream starts (read at the end: no bytes).
  if (logExpected(first)) await deps.logs.read(id, Number.MAX_SAFE_INTEGER, { expected: true });
  streams.reserve();
  return streamSSE(c, async (stream) => {
    const wake = new Wakeup();
    const unwatch = isLogFeed(deps.logs) ? deps.logs.watch(id, () => wake.wake()) : () => undefined;
    const unsubscribe = deps.engine.subscribe((e) => {
      if (e.type === "run" && e.payload.id === id) wake.wake();
    });
    const leave = streams.enter(stream, wake);
    const recheck = isLogFeed(deps.logs) ? LOG_RECHECK_MS.woken : LOG_RECHECK_MS.polled;
    try {
      while (open(stream)) {
        // The status first: the engine writes every log byte before it records the end of a
        // run, so once the run is final, the read below returns the rest of the log.
        const run = await currentRun(deps, id);
        const final = isFinal(run.status);
        const bytes = await deps.logs.read(id, offset);
        const cut = final ? bytes.byteLength : completeUtf8Length(bytes);
        if (cut > 0) {
          const text = new TextDecoder().decode(bytes.subarray(0, cut));
          await stream.writeSSE({ event: "log", id: String(offset + cut), data: JSON.stringify({ offset, text }) });
          offset += cut;
        }
        if (final) {
          await stream.writeSSE({
            event: "end",
            data: JSON.stringify(toRunJson(run, secretParams(deps.engine, run.job))),
          });
          return;
        }
        await wake.wait(recheck);
      }
    } finally {
      unwatch();
      unsubscribe();
      leave();
    }
  });
}

/** The length of the longest prefix of `bytes` that ends on a UTF-8 character boundary. */
export function completeUtf8Length(bytes: Uint8Array): number {
  const n = bytes.byteLength;
  for (let back = 1; back <= Math.min(4, n); back++) {
    const b = bytes[n - back] as number;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}
