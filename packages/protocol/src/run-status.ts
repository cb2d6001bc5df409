import { z } from "zod";

/** Every run status. */
export const RunStatusSchema = z.enum([
  "waiting",
  "queued",
  "waiting_approval",
  "processing",
  "success",
  "failure",
  "cancelled",
  "timeout",
  "lost",
  "error",
  "skipped",
]);
