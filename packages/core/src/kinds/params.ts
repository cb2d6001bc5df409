import { envKey, envValue as str, envVars } from "../engine/env-values.js";
import { defineKind } from "./kind.js";

/** `params`: key/value settings, under `propertyBag.params` (shippable.md §4.3). */
export const paramsKind = defineKind({
  type: "params",
  holds: "key/value settings under `propertyBag.params`",
  versionsFrom: "YAML edits (do not trigger); `OUT` from a job (triggers)",
  jobSees:
    "each key as `<N>_PARAMS_<KEY>` and as a plain `$KEY` (a platform variable of the same name wins); `secure` is never exported",
  valuesKey: "params",
  env(n, _dep, bag) {
    const platform = envVars();
    const user = envVars();
    const params = bag.params;
    if (params !== null && typeof params === "object" && !Array.isArray(params)) {
      for (const [k, v] of Object.entries(params)) {
        // The encrypted blob of Shippable: never exported as it is.
        if (k === "secure") continue;
        const bare = k.replace(/[^A-Za-z0-9_]/g, "").replace(/^[0-9]+/, "");
        if (bare !== "") user[bare] = str(v);
        const upper = envKey(k);
        if (upper !== "") platform[`${n}_PARAMS_${upper}`] = str(v);
      }
    }
    return { platform, user };
  },
});
