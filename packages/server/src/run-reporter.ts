import {
  isFinal,
  runLabel,
  RUN_STATUSES,
  type EngineEvent,
  type LogStore,
  type Run,
  type RunStatus,
} from "@causeway/core";
import type { Engine } from "@causeway/engine";
import { failingCommand, type FailingCommand } from "./failing-command.js";
import type { LogLine, Logger } from "./logger.js";
import { createdLine, finishedLine, startedLine, statusLine, type RunView } from "./run-lines.js";

/** Options of `startRunReporter`. */
export interface RunReporterOptions {
  readonly engine: Pick<Engine, "subscribe" | "view">;
  /** Where the console of a failed run is read from. */
  readonly logs: LogStore;
  /** A run by id, for the label of a rerun's original that ended before this process started. */
  readonly getRun: (id: number) => Promise<Run | undefined>;
  readonly logger: Logger;
}

/** A running reporter; `stop` unsubscribes and waits for the lines still being made. */
export interface RunReporter {
  stop(): Promise<void>;
}

/** How much of the end of a failed run's console is read to find the failing command. */
export const CONSOLE_TAIL_BYTES = 64 * 1024;
/** How many ended runs keep their label, for the lines of the runs they trigger. */
const LABELS_KEPT = 1000;

/** A run not ended yet: its status in the last event, and the run as the read model had it. */
interface Seen {
  readonly status: RunStatus;
  readonly run: Run | undefined;
}

/**
 * Writes one log line per run event a person cares about: created (with its trigger), started,
 * a change of a waiting run, ended (with its duration, and for a failure the failing command).
 * It reads the engine's events after they are committed, outside the engine's transactions;
 * what it needs of a run is in the engine's read model at that moment, so a run that succeeds
 * costs no I/O. Only a failure reads the end of the run's console from the log store (and a
 * rerun of a run this process never saw reads that run): those lines are written in order with
 * the others, after the read.
 */
export function startRunReporter(options: RunReporterOptions): RunReporter {
  const { engine, logs, logger } = options;
  const seen = new Map<number, Seen>();
  const labels = new Map<number, string>();
  let queue: Promise<void> = Promise.resolve();
  // Lines waiting behind a read: later lines queue after them, to keep the order.
  let pending = 0;

  const write = (line: LogLine): void => logger.info(line.msg, line.fields);
  const emit = (line: LogLine | Promise<LogLine>): void => {
    if (pending === 0 && !(line instanceof Promise)) return write(line);
    pending += 1;
    const made = Promise.resolve(line);
    queue = queue
      .then(() => made)
      .then(write, (error: unknown) => logger.error("cannot report a run", error))
      .finally(() => {
        pending -= 1;
      });
  };
  const remember = (id: number, label: string): void => {
    labels.delete(id);
    labels.set(id, label);
    if (labels.size > LABELS_KEPT) labels.delete(labels.keys().next().value as number);
  };
  const labelOf = (id: number): string | undefined => labels.get(id);

  const onEvent = (event: EngineEvent): void => {
    if (event.type !== "run") return;
    const payload = runPayload(event.payload);
    if (payload === undefined) return;
    const before = seen.get(payload.id);
    // The read model holds the run as this transaction left it: its trigger, inputs, times. An
    // ended run has left its active set, and is its job's latest run unless the same
    // transaction created another (a retry): then the run as last seen serves.
    const model = engine.view.activeRun(payload.id) ?? latestIfSame(engine, payload) ?? before?.run;
    const view: RunView = {
      ...payload,
      trigger: model?.trigger,
      inputs: model?.inputs,
      attempt: model?.attempt,
    };
    remember(payload.id, runLabel(payload));

    if (isFinal(payload.status)) {
      seen.delete(payload.id);
      if (before === undefined && payload.status === "skipped") return emit(created(view, model));
      const startedAt = model?.startedAt ?? null;
      const finishedAt = (model !== undefined && isFinal(model.status) ? model.finishedAt : null) ?? event.at;
      const duration = startedAt === null ? undefined : Date.parse(finishedAt) - Date.parse(startedAt);
      const took = Number.isFinite(duration) ? duration : undefined;
      if (payload.status === "failure")
        return emit(
          failingOf(logs, payload.id).then(
            (failing) => finishedLine(view, took, failing),
            // Without its console the line still says the run failed, with the runner's reason.
            () => finishedLine(view, took),
          ),
        );
      return emit(finishedLine(view, took));
    }

    seen.set(payload.id, { status: payload.status, run: model });
    if (before === undefined && payload.status !== "processing") return emit(created(view, model));
    if (before?.status === payload.status) return;
    emit(payload.status === "processing" ? startedLine(view) : statusLine(view));
  };

  // A rerun names its original, which may have ended before this process started.
  const created = (view: RunView, run: Run | undefined): LogLine | Promise<LogLine> => {
    const original = view.trigger?.kind === "rerun" ? (view.trigger.runId ?? run?.rerunOf ?? null) : null;
    if (original === null || labels.has(original)) return createdLine(view, labelOf);
    return options.getRun(original).then(
      (r) => {
        if (r !== undefined) remember(r.id, runLabel(r));
        return createdLine(view, labelOf);
      },
      () => createdLine(view, labelOf),
    );
  };

  const unsubscribe = engine.subscribe(onEvent);
  return {
    async stop() {
      unsubscribe();
      await queue;
    },
  };
}

type RunPayload = Pick<Run, "id" | "job" | "number" | "status" | "statusReason" | "flow">;

// The payload of a `run` event (engine/src/triggering.ts `recordRun`).
function runPayload(p: Readonly<Record<string, unknown>>): RunPayload | undefined {
  const { id, job, number, status, statusReason, flow } = p;
  if (typeof id !== "number" || typeof job !== "string" || typeof number !== "number") return undefined;
  if (typeof status !== "string" || !(RUN_STATUSES as readonly string[]).includes(status)) return undefined;
  return {
    id,
    job,
    number,
    status: status as RunStatus,
    statusReason: typeof statusReason === "string" ? statusReason : null,
    flow: typeof flow === "string" ? flow : "",
  };
}

// An ended run left the active set; the read model keeps its job's latest run.
function latestIfSame(engine: Pick<Engine, "view">, payload: RunPayload): Run | undefined {
  const latest = engine.view.latestRun(payload.job);
  return latest?.id === payload.id ? latest : undefined;
}

/** The failing command of a failed run, from the end of its console; undefined when it cannot tell. */
async function failingOf(logs: LogStore, runId: number): Promise<FailingCommand | undefined> {
  const size = await logs.size(runId);
  const from = Math.max(0, size - CONSOLE_TAIL_BYTES);
  let text = new TextDecoder().decode(await logs.read(runId, from));
  // The first line of a tail is cut: it starts in the middle.
  if (from > 0) text = text.slice(text.indexOf("\n") + 1);
  return failingCommand(text);
}
