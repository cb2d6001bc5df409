import { formatDuration, isFinal, runLabel } from "@causeway/core";
import type { RunJson, VersionJson } from "@causeway/protocol";
import type { Style } from "./code-frame.js";

export { formatDuration, runLabel, shortVersionName } from "@causeway/core";

/** Whether a run has ended: it will not change any more. */
export function isFinalStatus(status: RunJson["status"]): boolean {
  return isFinal(status);
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g");

/** The width of a string on a terminal, ANSI escapes excluded. */
export function visibleWidth(text: string): number {
  return [...text.replace(ANSI, "")].length;
}

/** A table with a header row, columns padded to their widest cell, two spaces apart. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], style: Style): string {
  const [head = "", ...body] = alignRows([headers, ...rows]);
  return `${[style.bold(head), ...body].join("\n")}\n`;
}

/** Rows as lines, columns padded to their widest cell (ANSI escapes excluded), two spaces apart. */
export function alignRows(rows: readonly (readonly string[])[]): string[] {
  const count = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: count }, (_, i) => Math.max(0, ...rows.map((r) => visibleWidth(r[i] ?? ""))));
  return rows.map((cells) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - visibleWidth(c))))
      .join("  ")
      .trimEnd(),
  );
}

/** How long ago a time was: `12s ago`, `3m ago`, `2h ago`, `5d ago`. */
export function formatAge(iso: string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 1000));
  if (Number.isNaN(s)) return iso;
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** A local time of day, `HH:MM:SS`. */
export function clockTime(date: Date): string {
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/** A local date and time, `YYYY-MM-DD HH:MM:SS`. */
export function dateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const day = [d.getFullYear(), d.getMonth() + 1, d.getDate()].map((n) => String(n).padStart(2, "0")).join("-");
  return `${day} ${clockTime(d)}`;
}

/** The first eight characters of a flow id: enough to tell flows apart on screen. */
export function shortFlow(flow: string | null): string {
  return flow === null ? "-" : flow.slice(0, 8);
}

/** A run's duration so far (running) or in all (finished); "" before it starts. */
export function runDuration(run: Pick<RunJson, "startedAt" | "finishedAt">, now: Date): string {
  if (run.startedAt === null) return "";
  const end = run.finishedAt === null ? now.getTime() : Date.parse(run.finishedAt);
  return formatDuration(end - Date.parse(run.startedAt));
}

/** What created a run, in a few words: `manual alice`, `upstream build`, `rerun 12`. */
export function triggerText(trigger: RunJson["trigger"]): string {
  return `${trigger.kind} ${trigger.by}`.trim();
}

/** A status coloured by outcome. */
export function statusText(status: RunJson["status"], style: Style): string {
  if (status === "success") return style.green(status);
  if (status === "failure" || status === "error" || status === "timeout" || status === "lost") return style.red(status);
  if (status === "processing") return style.blue(status);
  if (status === "cancelled" || status === "skipped") return style.dim(status);
  return style.yellow(status);
}

/** Who made a version, as a person says it: the run that did (`build #2`), else `git`, `yaml`, `api`. */
export function createdByText(version: Pick<VersionJson, "createdBy" | "run">): string {
  return version.run === null ? version.createdBy : runLabel(version.run);
}

/** Pretty JSON with a final newline: the `--json` output of every command. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
