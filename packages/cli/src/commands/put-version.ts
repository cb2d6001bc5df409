import type { Command } from "commander";
import type { PutVersionBody } from "@causeway/protocol";
import { connect, serverCommand, splitAssignment, type ServerCommandOptions } from "../command-kit.js";
import { jsonText, runLabel } from "../format.js";
import type { Io } from "../io.js";

/** The body of a put-version from `K=V` arguments: `versionName=` names the version, the rest fill the propertyBag. */
export function putVersionBody(assignments: readonly string[]): PutVersionBody {
  let versionName: string | undefined;
  const bag: Record<string, string> = {};
  for (const a of assignments) {
    const [k, v] = splitAssignment(a, "a property", "KEY=VALUE");
    if (k === "versionName") versionName = v;
    else bag[k] = v;
  }
  return {
    ...(versionName === undefined ? {} : { versionName }),
    ...(Object.keys(bag).length === 0 ? {} : { propertyBag: bag }),
  };
}

/** Registers `causeway put-version RESOURCE K=V ...`. */
export function registerPutVersion(program: Command, io: Io): void {
  serverCommand(
    program,
    "put-version",
    "create a version of a resource from outside (it triggers the jobs that take it)",
  )
    .argument("<resource>", "the resource")
    .argument("[assignments...]", "versionName=NAME and KEY=VALUE properties")
    .action(async (name: string, assignments: string[], opts: ServerCommandOptions) => {
      const body = putVersionBody(assignments);
      const ctx = await connect(io, opts);
      const result = await ctx.client.putVersion(name, body);
      if (ctx.json) io.out(jsonText(result));
      else {
        const v = result.version;
        const lines = [`created ${name} #${v.versionNumber}${v.versionName === "" ? "" : ` "${v.versionName}"`}`];
        for (const r of result.runs) lines.push(`triggered ${runLabel(r)} (id ${r.id})`);
        if (result.runs.length === 0) lines.push("no run triggered");
        io.out(`${lines.join("\n")}\n`);
      }
      io.exitCode(0);
    });
}
