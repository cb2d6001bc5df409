import { CausewayError, type RunObserver, type RunResult, type RunSpec } from "@causeway/core";

// An attempt: one claim of a run by a runner, as the hub keeps it (hub.ts).

/** A run handed to remote runners: waiting for a claim, claimed, started. */
export class Attempt {
  readonly runId: number;
  readonly pool: string;
  spec: RunSpec | undefined;
  observer: RunObserver;
  state: "pending" | "claimed" | "started" = "pending";
  runnerId = 0;
  epoch = 0;
  tokenHash = "";
  /** Raw console bytes received (before the server's redaction). */
  logOffset = 0;
  cancelReason: string | undefined;
  /** An in-process runner's listener: a cancel reaches it at once, not on the next heartbeat. */
  onCancel: ((reason: string) => void) | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Uploads and the finish of this attempt, one at a time. */
  chain: Promise<unknown> = Promise.resolve();
  readonly done: Promise<RunResult>;
  #resolve!: (result: RunResult) => void;
  over = false;
  /** Ended by its runner's finish: a repeated finish (its answer was lost) is answered again. */
  finished = false;

  constructor(runId: number, pool: string, spec: RunSpec | undefined, observer: RunObserver) {
    this.runId = runId;
    this.pool = pool;
    this.spec = spec;
    this.observer = observer;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  end(result: RunResult): void {
    if (this.over) return;
    this.over = true;
    clearTimeout(this.timer);
    this.#resolve(result);
  }

  /**
   * Lets go of what only a running attempt needs: its spec, the engine's observer of the run
   * and an in-process runner's cancel listener (which holds that runner's whole execution). An
   * attempt that is over stays known for a lease, to answer a late report as fenced; holding
   * these kept every run of that lease alive (a heap snapshot after the 1,000-job DAG: 7.9 MB
   * of objects with them, 5.1 MB without).
   */
  release(): void {
    this.spec = undefined;
    this.observer = RELEASED;
    this.onCancel = undefined;
  }
}

/** The observer of a released attempt: what reaches it is too late for the run, and dropped. */
const RELEASED: RunObserver = { onStarted: () => undefined, onLog: () => undefined };

/** The end of an attempt the server decides: cancelled, or lost (its runner gone or fenced). */
export function ended(status: "cancelled" | "lost", reason: string): RunResult {
  return { status, reason, exitCode: null, stateSha: null, outputs: {}, outStateShas: {} };
}

/** An upload or a finish past the console bytes the server holds: `details.offset` says where to go on. */
export function logGap(attempt: Attempt): CausewayError {
  return new CausewayError(
    "LOG_OFFSET_GAP",
    `run ${attempt.runId}: the server holds ${attempt.logOffset} bytes of its console`,
    {
      details: { offset: attempt.logOffset },
    },
  );
}

/** A runner's call from a session that a newer process of the runner replaced. */
export function sessionReplaced(name: string): CausewayError {
  return new CausewayError("RUNNER_SESSION_REPLACED", `a newer process of runner ${name} took over its session`, {
    hint: "run one process per runner work directory",
  });
}
