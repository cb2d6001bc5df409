import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import {
  ApprovalSchema,
  HookSchema,
  InStepSchema,
  JobSchema,
  LegacyTaskItemSchema,
  OutStepSchema,
  ParamSpecSchema,
  PipelineFileSchema,
  ResourceSchema,
  RetriesSchema,
  ScriptSchema,
  StepSchema,
  TaskMappingSchema,
  TaskStepSchema,
} from "@causeway/core";

/** Where the generated schema is committed, relative to the repository root. */
export const SCHEMA_PATH = "docs/causeway.schema.json";

const SCHEMA_FILE = fileURLToPath(new URL(`../${SCHEMA_PATH}`, import.meta.url));

// Schemas that become named definitions, so the file reads like the language reference and
// each shape is written once. The recursive script item (a z.lazy inside ScriptSchema) must be
// named too, or zod calls it __schema0.
const NAMED: readonly (readonly [z.ZodType, string])[] = [
  [ResourceSchema, "resource"],
  [JobSchema, "job"],
  [StepSchema, "step"],
  [InStepSchema, "inStep"],
  [OutStepSchema, "outStep"],
  [TaskStepSchema, "taskStep"],
  [TaskMappingSchema, "taskMapping"],
  [LegacyTaskItemSchema, "legacyTaskItem"],
  [HookSchema, "hook"],
  [ScriptSchema, "script"],
  [scriptItemOf(ScriptSchema), "scriptItem"],
  [ApprovalSchema, "approval"],
  [RetriesSchema, "retries"],
  [ParamSpecSchema, "paramSpec"],
];

function scriptItemOf(script: typeof ScriptSchema): z.ZodType {
  for (const option of script.options) if (option instanceof z.ZodArray) return option.element;
  throw new Error("ScriptSchema has no list form any more: update NAMED in scripts/generate-schema.ts");
}

/**
 * The metadata zod reads while converting: the descriptions of the global registry (where
 * `.describe()` puts them) plus the ids of the named definitions. A registry of its own, so the
 * global one is never mutated.
 */
class NamedRegistry extends z.core.$ZodRegistry<z.core.GlobalMeta> {
  readonly #ids = new Map<z.core.$ZodType, string>(NAMED);

  override get<S extends z.core.$ZodType>(schema: S): z.core.GlobalMeta | undefined {
    const meta = z.globalRegistry.get(schema);
    const id = this.#ids.get(schema);
    return id === undefined ? meta : { ...meta, id };
  }
}

/**
 * The JSON Schema of a pipeline file (draft-07, the draft yaml-language-server supports best),
 * as the exact text committed at docs/causeway.schema.json: 2-space JSON, trailing newline.
 * Pure and deterministic.
 */
export function buildSchemaJson(): string {
  const generated = z.toJSONSchema(PipelineFileSchema, {
    target: "draft-07",
    io: "input",
    unrepresentable: "any",
    metadata: new NamedRegistry(),
  });
  const { $schema, description, ...rest } = generated;
  const schema = {
    $schema,
    $id: "urn:causeway:schema:pipeline-file",
    title: "Causeway assembly line",
    description: `${description ?? ""} Generated from packages/core/src/language/schema.ts by npm run schema: do not edit.`,
    ...rest,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** Writes the schema, or with `check` compares it with the committed file. Returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const fresh = buildSchemaJson();
  if (argv.includes("--check")) {
    const committed = await readFile(SCHEMA_FILE, "utf8").catch(() => undefined);
    if (committed === fresh) return 0;
    process.stderr.write(`${SCHEMA_PATH} is ${committed === undefined ? "missing" : "stale"}: run npm run schema\n`);
    return 1;
  }
  await writeFile(SCHEMA_FILE, fresh);
  process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
