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

/**
 * A version posted from outside merges into the current one. For a params resource, keys
 * other than `params` are parameters (as OUT processing puts them), so they land in `params`.
 */
export function mergeBag(
  type: string,
  current: Readonly<Record<string, unknown>>,
  given: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  if (type !== "params") return { ...current, ...given };
  const { params, ...rest } = given;
  const base =
    current.params !== null && typeof current.params === "object" ? (current.params as Record<string, unknown>) : {};
  const extra = params !== null && typeof params === "object" ? (params as Record<string, unknown>) : {};
  return { ...current, params: { ...base, ...extra, ...rest } };
}
