import type { AuditEvent, NewAuditEvent, StoreTx } from "@causeway/core";
import type { EventBuffer } from "./context.js";

/** Who asks for a change when the caller does not say: the API's admin token. */
export const DEFAULT_ACTOR = "api";

/**
 * Appends to the audit trail, in the transaction of the change it records (so the entry exists
 * exactly when the change does), and publishes it as an `audit` event for SSE clients.
 */
export async function recordAudit(tx: StoreTx, events: EventBuffer, entry: NewAuditEvent): Promise<AuditEvent> {
  const event = await tx.insertAudit(entry);
  await events.append(tx, "audit", { ...event });
  return event;
}
