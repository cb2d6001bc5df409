import type { Command } from "commander";
import type { WebhooksJson } from "@causeway/protocol";
import type { Style } from "../code-frame.js";
import { connect, parsePositiveInt, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { alignRows, formatAge, jsonText } from "../format.js";
import type { Io } from "../io.js";

/** How many refused deliveries `causeway webhooks` shows without `--limit`. */
const DEFAULT_LIMIT = 10;

/**
 * Every webhook endpoint (URL, type, where its key comes from) with a curl line that calls it,
 * then the latest refused deliveries, newest first.
 */
export function webhooksText(hooks: WebhooksJson, now: Date, style: Style): string {
  const out: string[] = [];
  if (hooks.endpoints.length === 0)
    out.push("no webhook endpoints: the line has no webhook resource and no hosted gitRepo");
  for (const e of hooks.endpoints) {
    out.push(`${style.bold(e.resource)} (${e.type})  POST ${e.url}`);
    out.push(
      e.keyFrom === null
        ? `  key: ${style.red("none")}: every delivery is refused (set versionTemplate.webhookKey or an integration)`
        : `  key: ${e.keyFrom}`,
    );
    out.push(`  ${e.curl}`);
  }
  out.push("");
  if (hooks.refused.length === 0) out.push("no refused deliveries");
  else {
    out.push(style.bold("refused deliveries, newest first:"));
    const rows = [
      ["WHEN", "RESOURCE", "STATUS", "FROM", "DELIVERY", "REASON"],
      ...hooks.refused.map((r) => [
        formatAge(r.at, now),
        r.resource,
        `${r.status} ${r.code}`,
        r.remote ?? "-",
        r.delivery ?? "-",
        r.reason,
      ]),
    ];
    const [head = "", ...lines] = alignRows(rows);
    out.push(style.bold(head), ...lines.map((l) => style.red(l)));
  }
  return `${out.join("\n")}\n`;
}

/** Registers `causeway webhooks [--limit N]`. */
export function registerWebhooks(program: Command, io: Io): void {
  serverCommand(
    program,
    "webhooks",
    "list every webhook URL of the line with a curl line that calls it, and the latest refused deliveries",
  )
    .option("--limit <n>", `at most this many refused deliveries (default ${DEFAULT_LIMIT})`)
    .action(async (opts: ServerCommandOptions & { limit?: string }) => {
      const limit = opts.limit === undefined ? DEFAULT_LIMIT : parsePositiveInt(opts.limit, "--limit");
      const ctx = await connect(io, opts);
      const hooks = await ctx.client.webhooks(limit);
      io.out(ctx.json ? jsonText(hooks) : webhooksText(hooks, io.now(), ctx.style));
      io.exitCode(0);
    });
}
