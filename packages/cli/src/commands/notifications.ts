import type { Command } from "commander";
import type { NotificationJson } from "@causeway/protocol";
import type { Style } from "../code-frame.js";
import { usageError } from "@causeway/core";
import { connect, parsePositiveInt, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { alignRows, formatAge, jsonText } from "../format.js";
import type { Io } from "../io.js";

/** How many deliveries `causeway notifications` shows without `--limit`. */
const DEFAULT_LIMIT = 20;

/**
 * The deliveries of the notification outbox, newest first: when, the run's event, the resource
 * and target, the state with its attempts, and the last error of one that failed or waits.
 */
export function notificationsText(deliveries: readonly NotificationJson[], now: Date, style: Style): string {
  if (deliveries.length === 0) return "no notification deliveries\n";
  const rows = [
    ["ID", "WHEN", "JOB", "EVENT", "RESOURCE", "TARGET", "STATE", "ATTEMPTS", "LAST ERROR"],
    ...deliveries.map((n) => [
      String(n.id),
      formatAge(n.createdAt, now),
      n.runId === null ? n.job : `${n.job} (run ${n.runId})`,
      n.event,
      n.method === null ? n.resource : `${n.resource} (${n.method})`,
      n.target === "" ? "(integration)" : n.target,
      n.state === "pending" && n.nextAttemptAt !== null && n.attempts > 0
        ? `pending, next ${formatAge(n.nextAttemptAt, now)}`
        : n.state,
      String(n.attempts),
      n.lastError ?? "-",
    ]),
  ];
  const [head = "", ...lines] = alignRows(rows);
  const colour = (n: NotificationJson, line: string): string =>
    n.state === "failed" ? style.red(line) : n.state === "pending" ? style.yellow(line) : line;
  return `${[style.bold(head), ...lines.map((line, i) => colour(deliveries[i] as NotificationJson, line))].join("\n")}\n`;
}

/** Registers `causeway notifications [--failed] [--limit N]` and `causeway notifications retry ID`. */
export function registerNotifications(program: Command, io: Io): void {
  serverCommand(
    program,
    "notifications",
    "list the deliveries of the notification outbox, newest first, with their state and last error; `retry ID` puts a failed one back",
  )
    .argument("[retry]", "retry: put the failed delivery ID back in the outbox, to be sent at once")
    .argument("[id]", "the delivery's id (the ID column)")
    .option("--failed", "only the deliveries that failed (gave up after their attempts)")
    .option("--limit <n>", `at most this many deliveries (default ${DEFAULT_LIMIT})`)
    .action(
      async (
        action: string | undefined,
        id: string | undefined,
        opts: ServerCommandOptions & { failed?: boolean; limit?: string },
      ) => {
        if (action !== undefined) {
          if (action !== "retry")
            throw usageError(`unknown action ${JSON.stringify(action)}: the one action is retry ID`);
          if (id === undefined) throw usageError("retry needs the id of a failed delivery (the ID column)");
          const delivery = parsePositiveInt(id, "ID");
          const ctx = await connect(io, opts);
          const retried = await ctx.client.retryNotification(delivery);
          io.out(ctx.json ? jsonText(retried) : `notification ${retried.id} is pending again\n`);
          io.exitCode(0);
          return;
        }
        const limit = opts.limit === undefined ? DEFAULT_LIMIT : parsePositiveInt(opts.limit, "--limit");
        const ctx = await connect(io, opts);
        const { notifications } = await ctx.client.notifications({
          limit,
          ...(opts.failed === true ? { state: "failed" } : {}),
        });
        io.out(ctx.json ? jsonText(notifications) : notificationsText(notifications, io.now(), ctx.style));
        io.exitCode(0);
      },
    );
}
