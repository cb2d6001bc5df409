import { CausewayError, ConsoleParser, usageError } from "@causeway/core";
import type { Command } from "commander";
import type { RunJson } from "@causeway/protocol";
import type { LogStreamMessage } from "../client.js";
import { connect, parseRunId, serverCommand, type CommandContext, type ServerCommandOptions } from "../command-kit.js";
import { consoleText, LiveConsoleView, type ConsoleViewOptions } from "../console-view.js";
import { isFinalStatus, jsonText } from "../format.js";
import type { Io } from "../io.js";

const MAX_RECONNECTS = 5;

/** A piece of log not seen before: `text` starts at byte `offset`. */
export interface LogPiece {
  readonly offset: number;
  readonly text: string;
}

/**
 * The part of `m` after byte `offset` (what was received already): a stream resumed after a
 * drop never repeats text. Offsets fall on character boundaries (the server cuts text there).
 */
function unseen(m: { readonly offset: number; readonly text: string }, offset: number): LogPiece {
  if (m.offset >= offset) return m;
  const bytes = Buffer.from(m.text, "utf8");
  const skip = offset - m.offset;
  return { offset, text: skip >= bytes.byteLength ? "" : bytes.subarray(skip).toString("utf8") };
}

/**
 * Streams a run's log to the end of the run, resuming at the last byte received when the
 * connection drops; hands each piece of log not seen before to `onPiece`, in order. Returns
 * the final run.
 */
export async function followLogs(
  ctx: CommandContext,
  runId: number,
  onPiece: (piece: LogPiece) => void,
): Promise<RunJson> {
  const { client } = ctx;
  let offset = 0;
  let failures = 0;
  let received = false;
  for (;;) {
    try {
      for await (const m of client.streamLogs(runId, offset)) {
        received = true;
        failures = 0;
        if (m.kind === "end") return m.run;
        const piece = unseen(m, offset);
        offset = Math.max(offset, m.offset + Buffer.byteLength(m.text));
        if (piece.text !== "") onPiece(piece);
      }
    } catch (error) {
      // Errors of the server, and a server that could not be reached at all, are final; a
      // connection that drops after the stream was flowing is resumed below.
      if (!received || (error instanceof CausewayError && error.code !== "SERVER_UNREACHABLE")) throw error;
    }
    // The stream ended without the run's end, or dropped: resume from the last byte.
    failures++;
    if (failures > MAX_RECONNECTS)
      throw new CausewayError("SERVER_UNREACHABLE", `lost the log stream of run ${runId}`, {
        hint: `the run may still be going: see \`causeway run ${runId}\``,
      });
    await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 200 * failures)));
  }
}

/** How `logs` prints: the protocol's JSON, the stored bytes, or the console a person reads. */
type LogsFormat = "json" | "raw" | "view";

interface LogsOptions extends ServerCommandOptions {
  readonly follow?: boolean;
  readonly raw?: boolean;
}

/** `--follow`: the log as it grows, in `format`; exits 0 only when the run succeeds. */
async function follow(ctx: CommandContext, runId: number, format: LogsFormat, view: ConsoleViewOptions): Promise<void> {
  const { io } = ctx;
  let run: RunJson;
  if (format === "json") {
    const message = (m: LogStreamMessage): void => io.out(`${JSON.stringify(m)}\n`);
    run = await followLogs(ctx, runId, (piece) => message({ kind: "log", ...piece }));
    message({ kind: "end", run });
  } else if (format === "raw") {
    run = await followLogs(ctx, runId, (piece) => io.out(piece.text));
  } else {
    const parser = new ConsoleParser();
    const live = new LiveConsoleView((text) => io.out(text), view);
    run = await followLogs(ctx, runId, (piece) => live.show(parser.push(piece.text)));
    live.show(parser.end());
  }
  io.exitCode(run.status === "success" ? 0 : 1);
}

/** Registers `causeway logs RUN [--follow] [--raw]`. */
export function registerLogs(program: Command, io: Io): void {
  serverCommand(program, "logs", "print a run's console: groups, commands with exit codes and durations, output")
    .argument("<run>", "the run id")
    .option("-f, --follow", "stream the log until the run ends; exit 0 only if it succeeds")
    .option("--raw", "print the log as stored, console markers included")
    .action(async (id: string, opts: LogsOptions) => {
      const runId = parseRunId(id);
      if (opts.raw === true && opts.json === true)
        throw usageError("--raw and --json cannot be used together (the JSON holds the stored text)");
      const ctx = await connect(io, opts);
      const format: LogsFormat = ctx.json ? "json" : opts.raw === true ? "raw" : "view";
      // On a terminal, Setup and Cleanup fold when they succeed; elsewhere every line is printed.
      const view: ConsoleViewOptions = { style: ctx.style, fold: io.isTTY };
      if (opts.follow === true) return follow(ctx, runId, format, view);
      if (format === "raw") io.outBytes(await ctx.client.logBytes(runId, 0));
      else {
        const page = await ctx.client.logs(runId, 0);
        if (format === "json")
          io.out(jsonText({ run: runId, status: page.status ?? null, nextOffset: page.nextOffset, text: page.text }));
        else {
          const parser = new ConsoleParser();
          parser.push(page.text);
          // A run going on may add to its open groups and commands, and to its last line.
          const complete = page.status === undefined || isFinalStatus(page.status);
          if (complete) parser.end();
          io.out(consoleText(parser.model, view, complete ? "" : parser.partialLine));
        }
      }
      io.exitCode(0);
    });
}
