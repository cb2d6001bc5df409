import type { NodeState } from "@causeway/protocol";

// How a state is shown: an icon and a word (colour is never the only signal), and the CSS
// family its colour comes from (styles.css: --state-<tone>).

/** The look of a state. */
export interface StateLook {
  readonly icon: string;
  readonly label: string;
  readonly tone: "blue" | "green" | "red" | "grey" | "amber" | "purple" | "orange" | "light" | "neutral";
}

/** The look of every node state and run status. */
export const STATE_LOOK: Readonly<Record<NodeState, StateLook>> = {
  processing: { icon: "◐", label: "processing", tone: "blue" },
  success: { icon: "✔", label: "success", tone: "green" },
  failure: { icon: "✖", label: "failure", tone: "red" },
  error: { icon: "⚠", label: "error", tone: "red" },
  timeout: { icon: "◔", label: "timeout", tone: "red" },
  cancelled: { icon: "⊘", label: "cancelled", tone: "grey" },
  waiting: { icon: "…", label: "waiting", tone: "amber" },
  queued: { icon: "⋯", label: "queued", tone: "amber" },
  waiting_approval: { icon: "⚑", label: "waiting approval", tone: "purple" },
  lost: { icon: "?", label: "lost", tone: "orange" },
  skipped: { icon: "↷", label: "skipped", tone: "light" },
  never_run: { icon: "○", label: "never run", tone: "neutral" },
  ready: { icon: "●", label: "ready", tone: "green" },
  empty: { icon: "○", label: "empty", tone: "neutral" },
};

/** Whether a run in this status may still change (cancel applies). */
export function isActive(status: NodeState): boolean {
  return ["waiting", "queued", "waiting_approval", "processing"].includes(status);
}

/** A duration in words (`1.2 s`, `3 min 4 s`). */
export function duration(ms: number | null): string {
  if (ms === null) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The time between two timestamps, or from `start` to now while it runs. */
export function span(start: string | null, end: string | null): string {
  if (start === null) return "";
  const stop = end === null ? Date.now() : Date.parse(end);
  return duration(Math.max(0, stop - Date.parse(start)));
}

/** A timestamp as a short local date and time. */
export function when(at: string | null): string {
  return at === null ? "" : new Date(at).toLocaleString();
}
