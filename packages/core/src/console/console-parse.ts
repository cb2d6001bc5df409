/**
 * The reader of a run's console (format: docs/console-format.md, written by the runner's
 * console.ts and script.ts): an incremental parser that turns the console text into groups,
 * commands and plain lines, with events for a live view. The CLI renders it; a web UI will too.
 * Pure: text in, objects out.
 */

/** Prefixes of the console markers. */
export const CONSOLE_MARKERS = {
  groupStart: "__SH__GROUP__START__",
  groupEnd: "__SH__GROUP__END__",
  cmdStart: "__SH__CMD__START__",
  cmdEnd: "__SH__CMD__END__",
  scriptSuccess: "__SH__SCRIPT_END_SUCCESS__",
  scriptFailure: "__SH__SCRIPT_END_FAILURE__",
} as const;

/**
 * Where a group or command is: `open` (its START was read, its END not yet), `ended` (its END
 * was read: `exitCode` and `durationMs` come from it) or `unfinished` (closed without an END: a
 * later group or command started, a script end marker came, or the log ended; no exit code).
 */
export type ConsoleStatus = "open" | "ended" | "unfinished";

/** A line of the console outside any command (a group's plain line, or one outside groups). */
export interface ConsoleLine {
  readonly kind: "line";
  /** The line without its line break. */
  readonly text: string;
}

/** A command of a task, with its output. */
export interface ConsoleCommand {
  readonly kind: "command";
  /** Pairs the START with its END (`t2-3`). */
  readonly id: string;
  /** The command as written in the pipeline, escapes undone: a block keeps its line breaks. */
  readonly text: string;
  /** When it started (the marker's `sequenceNumber`, ms since the Unix epoch); null if absent. */
  readonly startedAtMs: number | null;
  readonly status: ConsoleStatus;
  /** From the END marker; null while open, when unfinished, or when the END had none. */
  readonly exitCode: number | null;
  /** From the END marker; null while open, when unfinished, or when the END had none. */
  readonly durationMs: number | null;
  /** The output lines, without line breaks; the runner's line break before the END is dropped. */
  readonly output: readonly string[];
  /**
   * Whether the output ended with a line break: the exact output is
   * `output.join("\n") + (endsWithLineBreak ? "\n" : "")`.
   */
  readonly endsWithLineBreak: boolean;
}

/** A group: a task, Setup or Cleanup. Groups do not nest. */
export interface ConsoleGroup {
  readonly kind: "group";
  /** `setup`, `cleanup`, `t<k>`. */
  readonly id: string;
  /** `Setup`, `Executing task: build`... (escapes undone). */
  readonly title: string;
  /** `is_shown`: whether a viewer shows it unfolded at first (tasks), or folded (Setup, Cleanup). */
  readonly shown: boolean;
  /** When it started (the marker's `sequenceNumber`, ms since the Unix epoch); null if absent. */
  readonly startedAtMs: number | null;
  readonly status: ConsoleStatus;
  readonly exitCode: number | null;
  readonly durationMs: number | null;
  /** How the task's script ended, from the `__SH__SCRIPT_END_*__` line after the group; null if none. */
  readonly scriptEnd: "success" | "failure" | null;
  /** Its commands and plain lines, in order. */
  readonly entries: readonly (ConsoleCommand | ConsoleLine)[];
}

/** A console read so far: groups, and the commands and lines outside any group, in order. */
export interface ConsoleModel {
  readonly entries: readonly (ConsoleGroup | ConsoleCommand | ConsoleLine)[];
}

/**
 * What reading a piece of console changed, in order, for a live view. The objects are the
 * model's own, so they show the state after the whole piece was read: a command whose start
 * and end came in one piece is already ended at its `command-start`.
 */
export type ConsoleEvent =
  | { readonly type: "group-start"; readonly group: ConsoleGroup }
  | { readonly type: "group-end"; readonly group: ConsoleGroup }
  | { readonly type: "command-start"; readonly command: ConsoleCommand; readonly group: ConsoleGroup | null }
  | { readonly type: "command-end"; readonly command: ConsoleCommand; readonly group: ConsoleGroup | null }
  /** An output line of `command`, or (command null) a plain line of `group` or of no group. */
  | {
      readonly type: "line";
      readonly text: string;
      readonly command: ConsoleCommand | null;
      readonly group: ConsoleGroup | null;
    }
  | { readonly type: "script-end"; readonly result: "success" | "failure"; readonly group: ConsoleGroup | null };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Group = Mutable<ConsoleGroup> & { entries: (ConsoleCommand | ConsoleLine)[] };
type Command = Mutable<ConsoleCommand> & { output: string[] };

/** A marker line, parsed; `null` from `parseMarker` means "not a (well-formed) marker". */
type Marker =
  | { readonly kind: "group-start"; readonly id: string; readonly text: string; readonly json: JsonObject }
  | { readonly kind: "group-end"; readonly id: string; readonly text: string; readonly json: JsonObject }
  | { readonly kind: "command-start"; readonly id: string; readonly text: string; readonly json: JsonObject }
  | { readonly kind: "command-end"; readonly id: string; readonly text: string; readonly json: JsonObject }
  | { readonly kind: "script-end"; readonly result: "success" | "failure" };

type JsonObject = Readonly<Record<string, unknown>>;

const KINDS: Readonly<Record<string, Exclude<Marker["kind"], "script-end">>> = {
  [CONSOLE_MARKERS.groupStart]: "group-start",
  [CONSOLE_MARKERS.groupEnd]: "group-end",
  [CONSOLE_MARKERS.cmdStart]: "command-start",
  [CONSOLE_MARKERS.cmdEnd]: "command-end",
};

/**
 * Undoes the escapes of a marker's text (`\\` -> `\`, `\n` -> line break, `\r` -> carriage
 * return). Any other backslash is kept as it is.
 */
export function unescapeMarkerText(text: string): string {
  return text.replace(/\\([\\nr])/g, (_, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : "\\"));
}

/**
 * Parses one line (without its line break) as a marker. A line that starts with `__SH__` but is
 * not a well-formed marker (unknown kind, fewer than two `|`, JSON that is not an object with a
 * string `id`) gives null: it is shown as plain output.
 */
function parseMarker(line: string): Marker | null {
  if (!line.startsWith("__SH__")) return null;
  if (line === CONSOLE_MARKERS.scriptSuccess) return { kind: "script-end", result: "success" };
  if (line === CONSOLE_MARKERS.scriptFailure) return { kind: "script-end", result: "failure" };
  const first = line.indexOf("|");
  const second = first < 0 ? -1 : line.indexOf("|", first + 1);
  if (second < 0) return null;
  const kind = KINDS[line.slice(0, first)];
  if (kind === undefined) return null;
  let json: unknown;
  try {
    json = JSON.parse(line.slice(first + 1, second));
  } catch {
    return null;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return null;
  const id = (json as JsonObject).id;
  if (typeof id !== "string" || id === "") return null;
  return { kind, id, text: unescapeMarkerText(line.slice(second + 1)), json: json as JsonObject };
}

/** A whole number from a JSON number or a string of digits (Shippable writes exit codes as strings). */
function intField(value: unknown): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : null;
  if (typeof value === "string" && /^-?[0-9]{1,15}$/.test(value)) return Number(value);
  return null;
}

/**
 * Reads a console incrementally. Feed it the log's text in order with `push` (a chunk may end
 * anywhere: mid-line, mid-marker); each call returns the events it caused. `end` says the log is
 * complete: the last line without a line break is read, and whatever is still open is closed
 * as `unfinished`. `model` is the console read so far, updated in place.
 *
 * It follows docs/console-format.md ("Parsing"): markers only at the start of a line; the text
 * after the second `|` may hold `|`; exactly one line break before a command's END is the
 * runner's and is dropped; commands belong to the group open when they started; a START while
 * a group (or command) is open closes it as unfinished; an END that matches nothing open, and a
 * malformed marker, are plain text. It never throws on any input.
 */
export class ConsoleParser {
  readonly #entries: (ConsoleGroup | ConsoleCommand | ConsoleLine)[] = [];
  readonly #model: ConsoleModel = { entries: this.#entries };
  /** The text after the last line break, in pieces (a long line may come in many chunks). */
  #partial: string[] = [];
  #group: Group | null = null;
  #command: Command | null = null;
  /** The group a script end marker belongs to: the open one, else the last one read. */
  #lastGroup: Group | null = null;
  /**
   * An empty line read inside a command and held back: it is the runner's line break when an
   * END follows, and an output line otherwise.
   */
  #heldEmpty = false;
  #ended = false;

  /** The console read so far (complete lines only; see `partialLine`). */
  get model(): ConsoleModel {
    return this.#model;
  }

  /** The text after the last line break, not read yet: a line still being written. */
  get partialLine(): string {
    return this.#partial.join("");
  }

  /** Reads the next piece of the log; returns the events it caused. Ignored after `end`. */
  push(chunk: string): ConsoleEvent[] {
    const events: ConsoleEvent[] = [];
    if (this.#ended || chunk === "") return events;
    let start = 0;
    for (let nl = chunk.indexOf("\n"); nl >= 0; nl = chunk.indexOf("\n", start)) {
      let line = chunk.slice(start, nl);
      if (this.#partial.length > 0) {
        line = this.#partial.join("") + line;
        this.#partial = [];
      }
      this.#line(line, events);
      start = nl + 1;
    }
    if (start < chunk.length) this.#partial.push(chunk.slice(start));
    return events;
  }

  /** The log is complete: reads its last line and closes what is still open. Idempotent. */
  end(): ConsoleEvent[] {
    const events: ConsoleEvent[] = [];
    if (this.#ended) return events;
    const rest = this.partialLine;
    this.#partial = [];
    if (rest !== "") {
      this.#line(rest, events);
      // The log's last line had no line break.
      if (this.#command !== null && !this.#heldEmpty) this.#command.endsWithLineBreak = false;
    }
    this.#flushHeld(events);
    this.#closeCommand(events);
    this.#closeGroup(events);
    this.#ended = true;
    return events;
  }

  #line(line: string, events: ConsoleEvent[]): void {
    const marker = parseMarker(line);
    const command = this.#command;
    if (marker?.kind === "command-end" && command !== null && marker.id === command.id) {
      // The held-back empty line, if any, is the runner's line break before the END.
      command.endsWithLineBreak = this.#heldEmpty && command.output.length > 0;
      this.#heldEmpty = false;
      command.status = "ended";
      command.exitCode = intField(marker.json.exitcode);
      command.durationMs = intField(marker.json.durationMs);
      this.#command = null;
      events.push({ type: "command-end", command, group: this.#group });
      return;
    }
    this.#flushHeld(events);
    if (marker === null || !this.#applies(marker)) {
      this.#text(line, events);
      return;
    }
    switch (marker.kind) {
      case "group-start": {
        this.#closeCommand(events);
        this.#closeGroup(events);
        const group: Group = {
          kind: "group",
          id: marker.id,
          title: marker.text,
          shown: marker.json.is_shown !== "false" && marker.json.is_shown !== false,
          startedAtMs: intField(marker.json.sequenceNumber),
          status: "open",
          exitCode: null,
          durationMs: null,
          scriptEnd: null,
          entries: [],
        };
        this.#entries.push(group);
        this.#group = group;
        this.#lastGroup = group;
        events.push({ type: "group-start", group });
        return;
      }
      case "group-end": {
        this.#closeCommand(events);
        const group = this.#group as Group;
        group.status = "ended";
        group.exitCode = intField(marker.json.exitcode);
        group.durationMs = intField(marker.json.durationMs);
        this.#group = null;
        events.push({ type: "group-end", group });
        return;
      }
      case "command-start": {
        this.#closeCommand(events);
        const next: Command = {
          kind: "command",
          id: marker.id,
          text: marker.text,
          startedAtMs: intField(marker.json.sequenceNumber),
          status: "open",
          exitCode: null,
          durationMs: null,
          output: [],
          endsWithLineBreak: false,
        };
        if (this.#group === null) this.#entries.push(next);
        else this.#group.entries.push(next);
        this.#command = next;
        events.push({ type: "command-start", command: next, group: this.#group });
        return;
      }
      case "command-end":
        // Only an END matching the open command reaches here, handled above.
        return;
      case "script-end": {
        this.#closeCommand(events);
        const group = this.#group ?? this.#lastGroup;
        this.#closeGroup(events);
        if (group !== null) group.scriptEnd = marker.result;
        events.push({ type: "script-end", result: marker.result, group });
        return;
      }
    }
  }

  /** Whether a well-formed marker does anything here; an END that matches nothing open is text. */
  #applies(marker: Marker): boolean {
    if (marker.kind === "group-end") return this.#group !== null && this.#group.id === marker.id;
    // A command END here did not match the open command (see #line).
    return marker.kind !== "command-end";
  }

  /** A line that is not a marker: output of the open command, or a plain line. */
  #text(line: string, events: ConsoleEvent[]): void {
    const command = this.#command;
    if (command === null) {
      const entry: ConsoleLine = { kind: "line", text: line };
      if (this.#group === null) this.#entries.push(entry);
      else this.#group.entries.push(entry);
      events.push({ type: "line", text: line, command: null, group: this.#group });
      return;
    }
    if (line === "") {
      this.#heldEmpty = true;
      return;
    }
    this.#output(command, line, events);
  }

  #output(command: Command, line: string, events: ConsoleEvent[]): void {
    command.output.push(line);
    command.endsWithLineBreak = true;
    events.push({ type: "line", text: line, command, group: this.#group });
  }

  /** The held-back empty line was output after all. */
  #flushHeld(events: ConsoleEvent[]): void {
    if (!this.#heldEmpty) return;
    this.#heldEmpty = false;
    if (this.#command !== null) this.#output(this.#command, "", events);
  }

  #closeCommand(events: ConsoleEvent[]): void {
    const command = this.#command;
    if (command === null) return;
    command.status = "unfinished";
    this.#command = null;
    events.push({ type: "command-end", command, group: this.#group });
  }

  #closeGroup(events: ConsoleEvent[]): void {
    const group = this.#group;
    if (group === null) return;
    group.status = "unfinished";
    this.#group = null;
    events.push({ type: "group-end", group });
  }
}

/** Reads a whole, complete console (a finished run's log). */
export function parseConsole(text: string): ConsoleModel {
  const parser = new ConsoleParser();
  parser.push(text);
  parser.end();
  return parser.model;
}

/** Whether a group or command did not succeed: a non-zero or missing exit code, or unfinished. */
export function consoleFailed(item: Pick<ConsoleGroup, "status" | "exitCode">): boolean {
  return item.status === "unfinished" || (item.status === "ended" && item.exitCode !== 0);
}
