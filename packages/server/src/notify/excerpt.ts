import { unescapeMarkerText } from "@causeway/core";

/** The lines of the console excerpt a failure mail carries, at most. */
export const EXCERPT_LINES = 40;
/** The bytes of the console's end read for the excerpt. */
export const EXCERPT_READ_BYTES = 64 * 1024;

/**
 * The end of a run's console as a person reads it (pure): marker lines dropped, except a
 * command's start, shown as `$ <command>`, and its failing end, `exit <code>`; the last
 * `maxLines` lines. `cut`: the text starts in the middle of the console (its first line is cut).
 */
export function consoleExcerpt(text: string, cut: boolean, maxLines = EXCERPT_LINES): string {
  const lines = text.split("\n");
  if (cut) lines.shift();
  if (lines.at(-1) === "") lines.pop();
  const shown: string[] = [];
  for (const line of lines) {
    if (!line.startsWith("__SH__")) {
      shown.push(line.replace(/\r$/, ""));
      continue;
    }
    const [kind = "", json = "", ...rest] = line.split("|");
    if (kind === "__SH__CMD__START__") shown.push(`$ ${unescapeMarkerText(rest.join("|"))}`);
    else if (kind === "__SH__CMD__END__") {
      const code = /"exitcode":"(\d+)"/.exec(json)?.[1];
      // The one line break the runner writes before an END marker is not output.
      if (shown.at(-1) === "") shown.pop();
      if (code !== undefined && code !== "0") shown.push(`exit ${code}`);
    }
  }
  return shown.slice(-maxLines).join("\n");
}
