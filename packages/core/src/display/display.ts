/**
 * How a person reads times, runs and versions, the same in the CLI, the server's console and the
 * UI. Pure text functions: no locale, no clock.
 */

/**
 * A duration with at least two significant digits and a unit: `0ms`, `86ms`, `1.4s`, `12s`,
 * `2m03s`, `1h05m`. Values are truncated, never rounded up into the next unit, so `59.99 s` is
 * `59s` and a duration never reads longer than it was.
 */
export function formatDuration(ms: number): string {
  const t = Number.isFinite(ms) ? Math.max(0, Math.floor(ms)) : 0;
  if (t < 1000) return `${t}ms`;
  if (t < 10_000) return `${Math.floor(t / 1000)}.${Math.floor((t % 1000) / 100)}s`;
  const s = Math.floor(t / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** How a person names a run: `deploy_staging #2` (the job and its per-job run number). */
export function runLabel(run: { readonly job: string; readonly number: number }): string {
  return `${run.job} #${run.number}`;
}

/** How many digits of a long hexadecimal id (a commit SHA) a table shows, as `git log --oneline`. */
export const SHORT_ID_LENGTH = 7;

/**
 * A version name short enough for a table: a hexadecimal id of 16 or more digits (a commit SHA)
 * keeps its first 7, as git shortens commit ids; any other name longer than 24 characters keeps
 * its first 23 and an ellipsis. Shorter names are unchanged. Where a person needs the full name,
 * it is in `--json` and `--wide`.
 */
export function shortVersionName(name: string): string {
  if (/^[0-9a-f]{16,}$/i.test(name)) return name.slice(0, SHORT_ID_LENGTH);
  const chars = [...name];
  return chars.length > 24 ? `${chars.slice(0, 23).join("")}…` : name;
}
