import { CausewayError } from "@causeway/core";
import type { Command } from "commander";
import type { RunJson } from "@causeway/protocol";
import { connect, parseRunId, serverCommand, type CommandContext, type ServerCommandOptions } from "../command-kit.js";
import { jsonText } from "../format.js";
import type { Io } from "../io.js";

const MAX_RECONNECTS = 5;

/**
 * Streams a run's log to the end of the run, resuming at the last byte received when the
 * connection drops. Returns the final run.
 */
export async function followLogs(ctx: CommandContext, runId: number): Promise<RunJson> {
  const { io, client } = ctx;
  let offset = 0;
  let failures = 0;
  let received = false;
  for (;;) {
    try {
      for await (const m of client.streamLogs(runId, offset)) {
        received = true;
        failures = 0;
        if (m.kind === "end") {
          if (ctx.json) io.out(`${JSON.stringify(m)}\n`);
          return m.run;
        }
        io.out(ctx.json ? `${JSON.stringify(m)}\n` : m.text);
        offset = m.offset + Buffer.byteLength(m.text);
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

/** Registers `causeway logs RUN [--follow]`. */
export function registerLogs(program: Command, io: Io): void {
  serverCommand(program, "logs", "print a run's log")
    .argument("<run>", "the run id")
    .option("-f, --follow", "stream the log until the run ends; exit 0 only if it succeeds")
    .action(async (id: string, opts: ServerCommandOptions & { follow?: boolean }) => {
      const runId = parseRunId(id);
      const ctx = await connect(io, opts);
      if (opts.follow === true) {
        const run = await followLogs(ctx, runId);
        io.exitCode(run.status === "success" ? 0 : 1);
        return;
      }
      const page = await ctx.client.logs(runId, 0);
      if (ctx.json)
        io.out(jsonText({ run: runId, status: page.status ?? null, nextOffset: page.nextOffset, text: page.text }));
      else io.out(page.text);
      io.exitCode(0);
    });
}
