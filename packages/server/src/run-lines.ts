import {
  formatDuration,
  runLabel,
  shortVersionName,
  type RunInput,
  type RunStatus,
  type RunTrigger,
} from "@causeway/core";
import type { FailingCommand } from "./failing-command.js";
import type { LogLine } from "./logger.js";

// The lines the server's terminal shows for runs: pure text, tested on their own, written by
// run-reporter.ts. A person reads `build #3` (runLabel); the run id appears only in the command
// they will type next (`causeway logs 12`).

/** What the lines need to know of a run. */
export interface RunView {
  readonly id: number;
  readonly job: string;
  readonly number: number;
  readonly status: RunStatus;
  readonly statusReason: string | null;
  readonly flow: string;
  readonly trigger?: RunTrigger | undefined;
  readonly inputs?: readonly RunInput[] | undefined;
  readonly attempt?: number | undefined;
}

/** The label of a run by its id (`build #3`), when known. */
export type LabelOf = (runId: number) => string | undefined;

/** What started a run, in a few words: `app_repo v4 (c0ffee1)`, `manual run by alice`. */
export function triggerText(run: RunView, labelOf: LabelOf): string {
  const t = run.trigger;
  if (t === undefined) return "";
  const label = (id: number | undefined): string | undefined => (id === undefined ? undefined : labelOf(id));
  switch (t.kind) {
    case "manual":
      return `manual run by ${t.by}`;
    case "version": {
      const from = label(t.runId);
      return `${versionText(t.by, run.inputs)}${from === undefined ? "" : ` from ${from}`}`;
    }
    case "upstream":
      return `upstream ${label(t.runId) ?? t.by} succeeded`;
    case "out":
      return `OUT of ${label(t.runId) ?? t.by}`;
    case "rerun":
      return `rerun of ${label(t.runId) ?? `run ${t.runId ?? "?"}`} by ${t.by}`;
    case "retry":
      return `retry of ${label(t.runId) ?? `run ${t.by}`}${run.attempt === undefined ? "" : ` (attempt ${run.attempt})`}`;
    case "yaml":
      return `${versionText(t.by, run.inputs)} edited`;
  }
}

function versionText(name: string, inputs: readonly RunInput[] | undefined): string {
  const input = inputs?.find((i) => i.name === name);
  if (input?.versionNumber === null || input?.versionNumber === undefined) return `new version of ${name}`;
  const versionName = input.versionName === null || input.versionName === "" ? "" : shortVersionName(input.versionName);
  return `${name} v${input.versionNumber}${versionName === "" ? "" : ` (${versionName})`}`;
}

// The words of a status after a run's label.
const STATUS_WORDS: Readonly<Record<RunStatus, string>> = {
  waiting: "waiting",
  queued: "queued",
  waiting_approval: "waiting for approval",
  processing: "started",
  success: "succeeded",
  failure: "failed",
  cancelled: "cancelled",
  timeout: "timed out",
  lost: "lost",
  error: "ended in error",
  skipped: "skipped",
};

// The engine's reasons begin with the outcome the line already says.
function reasonText(reason: string | null): string | undefined {
  if (reason === null || reason === "") return undefined;
  return reason.replace(/^(?:run created as skipped|waiting|skipped): /, "");
}

function runFields(run: RunView, event: string): Record<string, string | number | null | undefined> {
  return {
    event,
    runId: run.id,
    job: run.job,
    number: run.number,
    status: run.status,
    flow: run.flow,
    trigger: run.trigger?.kind,
    triggeredBy: run.trigger?.by,
  };
}

/** A run was created: `build #3 queued: app_repo v4 (c0ffee1)`, with the reason of a waiting or skipped run. */
export function createdLine(run: RunView, labelOf: LabelOf): LogLine {
  const cause = triggerText(run, labelOf);
  const reason = reasonText(run.statusReason);
  const parts = [cause, reason].filter((p) => p !== undefined && p !== "");
  return {
    msg: `${runLabel(run)} ${STATUS_WORDS[run.status]}${parts.length === 0 ? "" : `: ${parts.join("; ")}`}`,
    fields: { ...runFields(run, "run.created"), reason },
  };
}

/** A run started on a runner: `build #3 started` (`(attempt 2)` for a retry). */
export function startedLine(run: RunView): LogLine {
  const attempt = run.attempt !== undefined && run.attempt > 1 ? ` (attempt ${run.attempt})` : "";
  return {
    msg: `${runLabel(run)} started${attempt}`,
    fields: { ...runFields(run, "run.started"), attempt: run.attempt },
  };
}

/** A run that is not final changed status (a waiting run released, a run waiting for approval). */
export function statusLine(run: RunView): LogLine {
  const reason = reasonText(run.statusReason);
  return {
    msg: `${runLabel(run)} ${STATUS_WORDS[run.status]}${reason === undefined ? "" : `: ${reason}`}`,
    fields: { ...runFields(run, "run.status"), reason },
  };
}

const COMMAND_WIDTH = 60;

/** A command on one short line: its first line, `…` when there is more. */
export function commandText(command: string): string {
  const lines = command.split(/\r?\n/);
  const first = lines[0] ?? "";
  const chars = [...first];
  if (chars.length > COMMAND_WIDTH) return `${chars.slice(0, COMMAND_WIDTH - 1).join("")}…`;
  return lines.length > 1 ? `${first} …` : first;
}

/** Text in quotes that it does not hold: `"make test"`, `'grep -q "x" f'`; never escaped. */
export function quoted(text: string): string {
  if (!text.includes('"')) return `"${text}"`;
  if (!text.includes("'")) return `'${text}'`;
  return `\`${text}\``;
}

/**
 * A run ended: `build #3 succeeded in 1.4s`, `build #3 failed in 86ms: exit 2 in "make test"
 * (see causeway logs 12)`. The duration is left out when the run never started.
 */
export function finishedLine(run: RunView, durationMs: number | undefined, failing?: FailingCommand): LogLine {
  const label = runLabel(run);
  const took = durationMs === undefined ? "" : formatDuration(durationMs);
  const reason = reasonText(run.statusReason);
  const logs = `(see causeway logs ${run.id})`;
  let msg: string;
  switch (run.status) {
    case "success":
      msg = `${label} succeeded${took === "" ? "" : ` in ${took}`}`;
      break;
    case "failure": {
      const what =
        failing === undefined
          ? (reason ?? "a command failed")
          : `exit ${failing.exitCode} in ${quoted(commandText(failing.command))}`;
      msg = `${label} failed${took === "" ? "" : ` in ${took}`}: ${what} ${logs}`;
      break;
    }
    case "error":
      msg = `${label} ended in error${took === "" ? "" : ` after ${took}`}: ${reason ?? "unknown error"} ${logs}`;
      break;
    case "timeout":
      msg = `${label} timed out${took === "" ? "" : ` after ${took}`} ${logs}`;
      break;
    case "cancelled":
      msg = `${label} cancelled${took === "" ? "" : ` after ${took}`}${reason === undefined ? "" : `: ${reason}`}`;
      break;
    default:
      msg = `${label} ${STATUS_WORDS[run.status]}${reason === undefined ? "" : `: ${reason}`}`;
  }
  return {
    msg,
    fields: {
      ...runFields(run, "run.finished"),
      durationMs: durationMs === undefined ? undefined : Math.max(0, Math.round(durationMs)),
      reason,
      exitCode: failing?.exitCode,
      failingCommand: failing?.command,
      task: failing?.task,
    },
  };
}
