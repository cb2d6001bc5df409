import {
  consoleFailed,
  formatDuration,
  type ConsoleCommand,
  type ConsoleEvent,
  type ConsoleGroup,
  type ConsoleLine,
  type ConsoleModel,
} from "@causeway/core";
import type { Style } from "./code-frame.js";
import { table } from "./format.js";

/**
 * The console of a run as a person reads it (`causeway logs`, `causeway run`), from the model
 * of core's console reader. docs/cli.md shows it. Output lines are printed as the task wrote
 * them: never cut, never indented.
 */

/** How a console is shown. */
export interface ConsoleViewOptions {
  readonly style: Style;
  /**
   * On a terminal: a group a viewer folds at first (Setup, Cleanup) is shown as its header alone
   * when it succeeded, and, live, as a transient title while it runs. Off: every group unfolded.
   */
  readonly fold: boolean;
}

const ERASE_LINE = "\r\u001b[2K";

/** `✔ exit 0 · 7ms`, `✘ exit 2 · 4ms`, `⋯ running`, `✘ did not finish`. */
export function resultText(item: ConsoleGroup | ConsoleCommand, style: Style): string {
  if (item.status === "open") return style.blue("⋯ running");
  if (item.status === "unfinished") return style.red("✘ did not finish");
  const duration = item.durationMs === null ? "" : style.dim(` · ${formatDuration(item.durationMs)}`);
  if (item.exitCode === 0) return `${style.green("✔")} ${style.dim("exit 0")}${duration}`;
  return `${style.red(item.exitCode === null ? "✘ no exit code" : `✘ exit ${item.exitCode}`)}${duration}`;
}

/** A title on one line (a task name may hold line breaks). */
function oneLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, " ");
}

function titleText(group: ConsoleGroup, style: Style): string {
  const title = style.bold(oneLine(group.title));
  return consoleFailed(group) ? style.red(title) : title;
}

/** A command as a prompt: `$ first line`, then `> next line` for each line of a block. */
function promptLines(command: ConsoleCommand, style: Style): string[] {
  const paint = (s: string): string => (consoleFailed(command) ? style.red(style.bold(s)) : style.bold(s));
  return command.text.split("\n").map((line, i) => paint(`${i === 0 ? "$" : ">"} ${line}`));
}

/** Whether a group is shown as its header alone. */
function isFolded(group: ConsoleGroup, options: ConsoleViewOptions): boolean {
  return options.fold && !group.shown && group.status === "ended" && group.exitCode === 0;
}

/** How many lines a folded group hides. */
function hiddenLines(group: ConsoleGroup): number {
  let n = 0;
  for (const e of group.entries) n += e.kind === "line" ? 1 : e.text.split("\n").length + e.output.length;
  return n;
}

function commandText(command: ConsoleCommand, style: Style): string {
  const lines = promptLines(command, style);
  lines[lines.length - 1] += `  ${resultText(command, style)}`;
  return [...lines, ...command.output].map((l) => `${l}\n`).join("");
}

/** A group: its header (title, result, duration), then its commands and lines unless folded. */
export function groupText(group: ConsoleGroup, options: ConsoleViewOptions): string {
  const { style } = options;
  const folded = isFolded(group, options);
  const hidden = folded ? hiddenLines(group) : 0;
  const count = hidden === 0 ? "" : style.dim(`  (${hidden} ${hidden === 1 ? "line" : "lines"} folded)`);
  const header = `${style.dim(folded ? "▸" : "▾")} ${titleText(group, style)}  ${resultText(group, style)}${count}\n`;
  return folded ? header : header + group.entries.map((e) => entryText(e, options)).join("");
}

function entryText(entry: ConsoleGroup | ConsoleCommand | ConsoleLine, options: ConsoleViewOptions): string {
  if (entry.kind === "group") return groupText(entry, options);
  if (entry.kind === "command") return commandText(entry, options.style);
  return `${entry.text}\n`;
}

/**
 * A console read so far, whole. `partialLine` is the text after the log's last line break when
 * the log may still grow (a run going on): it is shown as a last line.
 */
export function consoleText(model: ConsoleModel, options: ConsoleViewOptions, partialLine = ""): string {
  const text = model.entries.map((e) => entryText(e, options)).join("");
  return partialLine === "" ? text : `${text}${partialLine}\n`;
}

/**
 * The console shown as it is read (`logs --follow`). A group's header and a command's prompt
 * are printed when they start, so their results come later: a command's on its prompt line
 * when it printed nothing, else on a line of its own after its output; a group's on a closing
 * line (`▴ title  ✔ exit 0 · 7ms`). With `fold`, a group folded at first is shown as a
 * transient title while it runs, then as `groupText` shows it.
 */
export class LiveConsoleView {
  readonly #write: (text: string) => void;
  readonly #options: ConsoleViewOptions;
  /** The command whose prompt was printed without its line break: its result may go on it. */
  #prompt: ConsoleCommand | null = null;
  /** A group folded at first, read but not shown until it ends. */
  #held: ConsoleGroup | null = null;

  constructor(write: (text: string) => void, options: ConsoleViewOptions) {
    this.#write = write;
    this.#options = options;
  }

  /** Shows what `events` changed, in one write. */
  show(events: readonly ConsoleEvent[]): void {
    let text = "";
    for (const e of events) text += this.#event(e);
    if (text !== "") this.#write(text);
  }

  #event(e: ConsoleEvent): string {
    const { style } = this.#options;
    if (this.#held !== null) {
      if (e.type !== "group-end" || e.group !== this.#held) return "";
      this.#held = null;
      return ERASE_LINE + groupText(e.group, this.#options);
    }
    switch (e.type) {
      case "group-start":
        if (this.#options.fold && !e.group.shown) {
          this.#held = e.group;
          return `${this.#breakLine()}${style.dim(`▸ ${oneLine(e.group.title)} …`)}`;
        }
        return `${this.#breakLine()}${style.dim("▾")} ${titleText(e.group, style)}\n`;
      case "group-end":
        return `${this.#breakLine()}${style.dim("▴")} ${titleText(e.group, style)}  ${resultText(e.group, style)}\n`;
      case "command-start": {
        const prompt = `${this.#breakLine()}${promptLines(e.command, style).join("\n")}`;
        this.#prompt = e.command;
        return prompt;
      }
      case "command-end": {
        const before = this.#prompt === e.command ? "" : this.#breakLine();
        this.#prompt = null;
        return `${before}  ${resultText(e.command, style)}\n`;
      }
      case "line":
        return `${this.#breakLine()}${e.text}\n`;
      case "script-end":
        return "";
    }
  }

  /** Ends a prompt line left open for its result. */
  #breakLine(): string {
    if (this.#prompt === null) return "";
    this.#prompt = null;
    return "\n";
  }
}

/**
 * The steps of a run for `causeway run`: one row per group and per command (indented under its
 * group), with the result, exit code and duration; "" when the console has none.
 */
export function stepsTable(model: ConsoleModel, style: Style): string {
  const rows: string[][] = [];
  const row = (item: ConsoleGroup | ConsoleCommand, step: string): void => {
    const symbol = item.status === "open" ? style.blue("⋯") : consoleFailed(item) ? style.red("✘") : style.green("✔");
    rows.push([
      symbol,
      item.exitCode === null ? "-" : String(item.exitCode),
      item.durationMs === null ? (item.status === "open" ? "running" : "") : formatDuration(item.durationMs),
      step,
    ]);
  };
  const command = (c: ConsoleCommand, indent: string): void => {
    const [first = "", ...more] = c.text.split("\n");
    row(c, `${indent}$ ${first}${more.length > 0 ? " …" : ""}`);
  };
  for (const e of model.entries) {
    if (e.kind === "group") {
      row(e, oneLine(e.title));
      for (const inner of e.entries) if (inner.kind === "command") command(inner, "  ");
    } else if (e.kind === "command") command(e, "");
  }
  return rows.length === 0 ? "" : table(["", "EXIT", "DURATION", "STEP"], rows, style);
}
