import { CausewayError } from "@causeway/core";
import { type EventJson, type RunJson } from "@causeway/protocol";
import type { ApiClient, EventStream } from "./client.js";
import type { Style } from "./code-frame.js";
import { clockTime, formatDuration, isFinalStatus, statusText, visibleWidth } from "./format.js";
import type { Io } from "./io.js";

/** A run of the watched flow, as the progress view knows it. */
export interface BoardRow {
  readonly id: number;
  readonly job: string;
  readonly number: number;
  status: RunJson["status"];
  statusReason: string | null;
  /** Epoch milliseconds. */
  startedAt: number | undefined;
  finishedAt: number | undefined;
}

/** A run's change of status, from a `run` engine event or a run read from the API. */
export interface RunUpdate {
  readonly id: number;
  readonly job: string;
  readonly number: number;
  readonly flow: string;
  readonly status: RunJson["status"];
  readonly statusReason: string | null;
  readonly startedAt?: string | null;
  readonly finishedAt?: string | null;
}

// Statuses only move forward; an older update read late must not move a run back.
const RANK: Record<RunJson["status"], number> = {
  waiting: 0,
  queued: 1,
  waiting_approval: 1,
  processing: 2,
  success: 3,
  failure: 3,
  cancelled: 3,
  timeout: 3,
  lost: 3,
  error: 3,
  skipped: 3,
};

/** The runs of one flow and their statuses; `apply` says whether a status changed. */
export class RunBoard {
  readonly #rows = new Map<number, BoardRow>();

  /** The rows, oldest run first. */
  rows(): BoardRow[] {
    return [...this.#rows.values()].sort((a, b) => a.id - b.id);
  }

  get(id: number): BoardRow | undefined {
    return this.#rows.get(id);
  }

  /** Records an update seen at `at`; returns the row when its status changed (or it is new). */
  apply(u: RunUpdate, at: Date): BoardRow | undefined {
    const time = (iso: string | null | undefined): number | undefined =>
      iso === null || iso === undefined ? undefined : Date.parse(iso);
    const row = this.#rows.get(u.id);
    if (row === undefined) {
      const created: BoardRow = {
        id: u.id,
        job: u.job,
        number: u.number,
        status: u.status,
        statusReason: u.statusReason,
        startedAt: time(u.startedAt) ?? (u.status === "processing" ? at.getTime() : undefined),
        finishedAt: time(u.finishedAt) ?? (isFinalStatus(u.status) ? at.getTime() : undefined),
      };
      this.#rows.set(u.id, created);
      return created;
    }
    row.startedAt ??= time(u.startedAt);
    row.finishedAt ??= time(u.finishedAt);
    if (RANK[u.status] < RANK[row.status] || u.status === row.status) return undefined;
    row.status = u.status;
    row.statusReason = u.statusReason;
    if (u.status === "processing") row.startedAt ??= at.getTime();
    if (isFinalStatus(u.status)) row.finishedAt ??= at.getTime();
    return row;
  }
}

/** The update carried by a `run` engine event, if the event is one. */
export function runUpdateOf(event: EventJson): RunUpdate | undefined {
  return event.type === "run" ? event.payload : undefined;
}

/** Shows a flow's runs while waiting: redrawn in place on a terminal, one line per change otherwise. */
export interface ProgressView {
  changed(row: BoardRow, at: Date): void;
  /** Draws the final picture and stops any timer. */
  stop(): void;
}

/** Plain lines, one per status change: `12:01:02 build #3 processing`. */
export function lineView(io: Io, style: Style): ProgressView {
  return {
    changed(row, at) {
      const reason = isFinalStatus(row.status) && row.statusReason !== null ? ` (${row.statusReason})` : "";
      io.out(`${clockTime(at)} ${row.job} #${row.number} ${statusText(row.status, style)}${reason}\n`);
    },
    stop() {},
  };
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const FRAME_MS = 100;

/** One line of the live view: `⠹ build   #3  processing  4.2s`. */
export function liveLine(row: BoardRow, jobWidth: number, now: Date, style: Style): string {
  const frame = SPINNER[Math.floor(now.getTime() / FRAME_MS) % SPINNER.length] ?? "*";
  const icon =
    row.status === "success"
      ? style.green("✔")
      : isFinalStatus(row.status)
        ? row.status === "cancelled" || row.status === "skipped"
          ? style.dim("-")
          : style.red("✘")
        : row.status === "processing"
          ? style.blue(frame)
          : style.dim("·");
  const end = row.finishedAt ?? now.getTime();
  const duration = row.startedAt === undefined ? "" : formatDuration(end - row.startedAt);
  const number = `#${row.number}`.padEnd(5);
  const status = statusText(row.status, style);
  const pad = " ".repeat(Math.max(0, 16 - visibleWidth(row.status)));
  return `${icon} ${row.job.padEnd(jobWidth)}  ${number} ${status}${pad} ${duration}`.trimEnd();
}

/** The compact live view of a terminal (like `docker compose up`): the board redrawn in place. */
export function liveView(io: Io, style: Style, board: RunBoard): ProgressView {
  let drawn = 0;
  const draw = (): void => {
    const rows = board.rows();
    const width = Math.max(0, ...rows.map((r) => r.job.length));
    const now = io.now();
    let text = drawn > 0 ? `\u001b[${drawn}A` : "";
    for (const row of rows) text += `\r\u001b[2K${liveLine(row, width, now, style)}\n`;
    drawn = rows.length;
    if (text !== "") io.out(text);
  };
  const timer = setInterval(draw, FRAME_MS);
  timer.unref();
  return {
    changed: draw,
    stop() {
      clearInterval(timer);
      draw();
    },
  };
}

/** How the wait shows progress: not at all (`--json`), or on `io` (live on a TTY). */
export interface WaitOptions {
  readonly show: boolean;
  /** Reconnections to the event stream tried in a row before giving up (default 5). */
  readonly maxReconnects?: number;
}

/**
 * Waits for `run` to end, following the engine's events of its flow, and returns the final
 * run. Opens the event stream before reading the runs of the flow, so no change is lost in
 * between; reconnects with Last-Event-ID when the stream drops.
 */
export async function waitForRun(
  client: ApiClient,
  io: Io,
  style: Style,
  run: RunJson,
  options: WaitOptions,
): Promise<RunJson> {
  const board = new RunBoard();
  const view = options.show ? (io.isTTY ? liveView(io, style, board) : lineView(io, style)) : undefined;
  const controller = new AbortController();
  const maxReconnects = options.maxReconnects ?? 5;
  const note = (u: RunUpdate, at: Date): void => {
    const row = board.apply(u, at);
    if (row !== undefined) view?.changed(row, at);
  };
  let lastEventId: string | undefined;
  let failures = 0;
  try {
    for (;;) {
      let stream: EventStream | undefined;
      try {
        stream = await client.events(lastEventId, controller.signal);
      } catch (error) {
        if (!(error instanceof CausewayError) || error.code !== "SERVER_UNREACHABLE" || failures >= maxReconnects)
          throw error;
      }
      if (stream !== undefined) {
        const [flowRuns, current] = await Promise.all([client.runs({ flow: run.flow }), client.run(run.id)]);
        // Runs of the flow that had ended before this one was created are history, not progress.
        for (const r of [...flowRuns].reverse())
          if (r.id > run.id || (r.id !== run.id && !isFinalStatus(r.status))) note(r, io.now());
        note(current, io.now());
        if (isFinalStatus(current.status)) return current;
        try {
          for await (const event of stream) {
            failures = 0;
            const u = runUpdateOf(event);
            if (u === undefined || u.flow !== run.flow) continue;
            note(u, new Date(event.at));
            if (u.id === run.id && isFinalStatus(u.status)) {
              const final = await client.run(run.id);
              note(final, io.now());
              return final;
            }
          }
        } catch (error) {
          // A dropped connection ends the loop with a network error: reconnect below.
          if (error instanceof CausewayError) throw error;
        }
        lastEventId = stream.lastEventId();
      }
      failures++;
      if (failures > maxReconnects)
        throw new CausewayError(
          "SERVER_UNREACHABLE",
          `lost the server's event stream while waiting for run ${run.id}`,
          {
            hint: `the run may still be going: see \`causeway run ${run.id}\``,
          },
        );
      await delay(Math.min(2000, 200 * failures));
    }
  } finally {
    controller.abort();
    view?.stop();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
