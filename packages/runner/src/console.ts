/**
 * Console markers (Shippable compatible; reference: docs/console-format.md). Task scripts print
 * their own markers (script.ts); the runner prints the "Setup" and "Cleanup" groups with these
 * helpers.
 */

import { CONSOLE_MARKERS } from "@causeway/core";

/** Marker prefixes: the console format's, from core (whose reader parses what this writes). */
export const MARKERS = CONSOLE_MARKERS;

/**
 * The text of a command or title as a marker shows it: one line, reversible (`\` -> `\\`,
 * newline -> `\n`, carriage return -> `\r`); trailing line breaks of a block are dropped.
 */
export function markerText(text: string): string {
  return text
    .replace(/[\r\n]+$/, "")
    .replace(/\\/g, "\\\\")
    .replace(/\r/g, "\\r")
    .replace(/\n/g, "\\n");
}

/** A `__SH__GROUP__START__` line. */
export function groupStartLine(id: string, title: string, startMs: number, shown: boolean): string {
  return `${MARKERS.groupStart}|{"type":"grp","sequenceNumber":${startMs},"id":"${id}","is_shown":"${shown}"}|${markerText(title)}\n`;
}

/** A `__SH__GROUP__END__` line. */
export function groupEndLine(id: string, title: string, startMs: number, endMs: number, exitCode: number): string {
  return (
    `${MARKERS.groupEnd}|{"type":"grp","sequenceNumber":${startMs},"id":"${id}","is_shown":"false",` +
    `"exitcode":"${exitCode}","durationMs":${Math.max(0, Math.round(endMs - startMs))}}|${markerText(title)}\n`
  );
}

/**
 * A group of console lines written by the runner. Lines are batched and handed to `emit` on
 * `flush` (call it before anything slow, so the console shows progress) and on `end`.
 */
export class RunnerGroup {
  readonly #emit: (text: string) => void;
  readonly #id: string;
  readonly #title: string;
  readonly #startMs: number;
  #pending: string;

  constructor(emit: (text: string) => void, id: string, title: string, now: () => number) {
    this.#emit = emit;
    this.#id = id;
    this.#title = title;
    this.#startMs = now();
    this.#pending = groupStartLine(id, title, this.#startMs, false);
  }

  /** Adds a line (a trailing newline is added). */
  line(text: string): void {
    this.#pending += `${text}\n`;
  }

  /** Hands the lines written so far to the console. */
  flush(): void {
    if (this.#pending === "") return;
    const text = this.#pending;
    this.#pending = "";
    this.#emit(text);
  }

  /** Ends the group with an exit code and flushes it. */
  end(exitCode: number, endMs: number): void {
    this.#pending += groupEndLine(this.#id, this.#title, this.#startMs, endMs, exitCode);
    this.flush();
  }
}
