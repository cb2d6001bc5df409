import { CausewayError } from "@causeway/core";

/** `limit` when it is a non-negative integer; STORE_BAD_ARGUMENT otherwise. */
export function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new CausewayError("STORE_BAD_ARGUMENT", `a limit must be a non-negative integer, not ${limit}`);
  }
  return limit;
}
