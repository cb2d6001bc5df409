import { CausewayError, isEnvName } from "@causeway/core";

/** Checks manual-run parameters against a job's typed `params`, filling defaults. */
export function checkParams(
  specs: readonly {
    name: string;
    type: string;
    default: string | number | boolean | undefined;
    choices: readonly (string | number)[];
    required: boolean;
  }[],
  given: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    if (!isEnvName(name))
      throw new CausewayError("INVALID_PARAM", `parameter name ${name} is not a valid environment variable name`);
    out[name] = value;
  }
  for (const spec of specs) {
    const value = out[spec.name];
    if (value === undefined) {
      if (spec.default !== undefined) out[spec.name] = String(spec.default);
      else if (spec.required) throw new CausewayError("INVALID_PARAM", `parameter ${spec.name} is required`);
      continue;
    }
    if (spec.type === "number" && !Number.isFinite(Number(value))) {
      throw new CausewayError("INVALID_PARAM", `parameter ${spec.name} must be a number, got ${value}`);
    }
    if (spec.type === "boolean" && value !== "true" && value !== "false") {
      throw new CausewayError("INVALID_PARAM", `parameter ${spec.name} must be true or false, got ${value}`);
    }
    if (spec.type === "choice" && !spec.choices.map(String).includes(value)) {
      throw new CausewayError(
        "INVALID_PARAM",
        `parameter ${spec.name} must be one of ${spec.choices.join(", ")}, got ${value}`,
      );
    }
  }
  return out;
}
