import type { Command } from "commander";
import {
  buildGraph,
  flagChain,
  GRAPH_FORMATS,
  renderGraph,
  subgraph,
  type GraphFormat,
  usageError,
} from "@causeway/core";
import { loadDir } from "../pipeline-dir.js";
import type { Io } from "../io.js";

/** Registers `causeway graph [DIR] --format text|dot|mermaid|json [--flag F]`. */
export function registerGraph(program: Command, io: Io): void {
  program
    .command("graph")
    .description("print the dependency graph of an assembly line")
    .argument("[dir]", "pipeline directory", ".")
    .option("--format <format>", GRAPH_FORMATS.join(", "), "text")
    .option("--flag <flag>", "only the objects carrying this flag and their whole chain")
    .action(async (dir: string, opts: { format: string; flag?: string }) => {
      if (!(GRAPH_FORMATS as readonly string[]).includes(opts.format)) {
        throw usageError(`--format must be one of ${GRAPH_FORMATS.join(", ")}, got ${opts.format}`);
      }
      const { result } = await loadDir(dir);
      let graph = buildGraph(result.pipeline);
      if (opts.flag !== undefined) graph = subgraph(graph, flagChain(graph, opts.flag));
      io.out(renderGraph(graph, opts.format as GraphFormat));
      const errors = result.diagnostics.filter((d) => d.severity === "error").length;
      if (errors > 0) io.err(`${errors} errors: run causeway validate for details\n`);
      io.exitCode(0);
    });
}
