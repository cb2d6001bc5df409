import { CONSOLE_MARKERS, unescapeMarkerText } from "@causeway/core";

/** The command that made a run fail, as its console tells (docs/console-format.md). */
export interface FailingCommand {
  /** The command as written in the pipeline (a `|` block keeps its line breaks). */
  readonly command: string;
  readonly exitCode: number;
  /** The name of its task (`Executing task: <name>`), when the task's group has ended. */
  readonly task: string | undefined;
}

const CMD_END = `${CONSOLE_MARKERS.cmdEnd}|`;
const GROUP_END = `${CONSOLE_MARKERS.groupEnd}|`;
const TASK_TITLE = "Executing task: ";

interface End {
  readonly id: string;
  readonly exitCode: number;
  readonly text: string;
}

/**
 * Finds the failing command in the end of a run's console: the first command that exited
 * non-zero in the last task group that ended non-zero (later commands of that group are its
 * `on_failure` and `always` hooks, which run after the failure). When no task group has ended
 * (the tail was cut, the task was killed), the last command that exited non-zero. Undefined
 * when the text has none: the failure was elsewhere (a hook's own group, the setup), or its
 * markers are further back than the tail.
 *
 * It reads END markers only, which carry the exit code and the command: the end of a console
 * may have cut the START of the failing command (a command with a long output), and core's
 * ConsoleParser, made for whole consoles, takes an END without its START for plain text.
 */
export function failingCommand(consoleTail: string): FailingCommand | undefined {
  const commands: End[] = [];
  let group: End | undefined;
  for (const line of consoleTail.split("\n")) {
    if (line.startsWith(CMD_END)) {
      const end = parseEnd(line);
      if (end !== undefined) commands.push(end);
    } else if (line.startsWith(GROUP_END)) {
      const end = parseEnd(line);
      if (end !== undefined && end.exitCode !== 0 && /^t\d+$/.test(end.id)) group = end;
    }
  }
  const failed = commands.filter((c) => c.exitCode !== 0);
  if (group !== undefined) {
    const prefix = `${group.id}-`;
    const first = failed.find((c) => c.id.startsWith(prefix));
    if (first !== undefined) {
      const task = group.text.startsWith(TASK_TITLE) ? group.text.slice(TASK_TITLE.length) : undefined;
      return { command: unescapeMarkerText(first.text), exitCode: first.exitCode, task };
    }
  }
  const last = failed.at(-1);
  return last === undefined
    ? undefined
    : { command: unescapeMarkerText(last.text), exitCode: last.exitCode, task: undefined };
}

// `<kind>|<json>|<text>`: the JSON never holds `|`; the text may.
function parseEnd(line: string): End | undefined {
  const first = line.indexOf("|");
  const second = line.indexOf("|", first + 1);
  if (second < 0) return undefined;
  let meta: unknown;
  try {
    meta = JSON.parse(line.slice(first + 1, second));
  } catch {
    return undefined;
  }
  if (typeof meta !== "object" || meta === null) return undefined;
  const { id, exitcode } = meta as { id?: unknown; exitcode?: unknown };
  if (typeof id !== "string" || typeof exitcode !== "string" || !/^\d+$/.test(exitcode)) return undefined;
  return { id, exitCode: Number(exitcode), text: line.slice(second + 1) };
}
