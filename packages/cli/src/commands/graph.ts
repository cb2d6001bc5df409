import type { Command } from "commander";
import {
  buildGraph,
  CausewayError,
  didYouMean,
  flagChain,
  GRAPH_FORMATS,
  graphFlags,
  renderGraph,
  subgraph,
  type GraphFormat,
  usageError,
} from "@causeway/core";
import type { Io } from "../io.js";
import { loadLine, plural } from "./validate.js";

/** Registers `causeway graph [PATH|URL…] --format text|dot|mermaid|json [--json] [--flag F]`. */
export function registerGraph(program: Command, io: Io): void {
  program
    .command("graph")
    .description("print the dependency graph of an assembly line")
    .argument(
      "[paths...]",
      "pipeline directories, git URLs (URL#branch), projects (causeway.project.yml), or one pipeline file (default: .)",
    )
    .option("--format <format>", GRAPH_FORMATS.join(", "), "text")
    .option("--json", "the same as --format json")
    .option("--flag <flag>", "only the objects carrying this flag and their whole chain")
    .action(async (paths: string[], opts: { format: string; json?: boolean; flag?: string }) => {
      const format = opts.json === true ? "json" : opts.format;
      if (!(GRAPH_FORMATS as readonly string[]).includes(format)) {
        throw usageError(`--format must be one of ${GRAPH_FORMATS.join(", ")}, got ${format}`);
      }
      const { result } = await loadLine(paths.length === 0 ? ["."] : paths, io.cwd);
      let graph = buildGraph(result.pipeline);
      if (opts.flag !== undefined) {
        const flags = graphFlags(graph);
        if (!flags.includes(opts.flag)) {
          const known = flags.length === 0 ? "the line has no flags" : `the flags of the line: ${flags.join(", ")}`;
          throw new CausewayError("UNKNOWN_FLAG", `no resource or job has the flag ${JSON.stringify(opts.flag)}`, {
            hint: didYouMean(opts.flag, flags) === undefined ? known : `${didYouMean(opts.flag, flags)} (${known})`,
          });
        }
        const total = graph.nodes.length;
        graph = subgraph(graph, flagChain(graph, opts.flag));
        // On standard error, so that the graph itself stays what a program reads.
        io.err(
          `flag ${opts.flag}: ${plural(graph.nodes.length, "object")} of ${total} (those with the flag and their whole chain)\n`,
        );
      }
      io.out(renderGraph(graph, format as GraphFormat));
      const errors = result.diagnostics.filter((d) => d.severity === "error").length;
      if (errors > 0) io.err(`${plural(errors, "error")}: run causeway validate for details\n`);
      io.exitCode(0);
    });
}
