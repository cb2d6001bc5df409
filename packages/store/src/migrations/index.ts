import { CausewayError } from "@causeway/core";
import { Migrator, type Kysely, type Migration } from "kysely";
import { initial } from "./0001-initial.js";
import { applyHistory } from "./0002-apply-history.js";
import { runSecretParams } from "./0003-run-secret-params.js";
import { versionDedupe } from "./0004-version-dedupe.js";
import { applySources } from "./0005-apply-sources.js";
import { webhookRefusals } from "./0006-webhook-refusals.js";
import { approvalsAudit } from "./0007-approvals-audit.js";
import { notificationOutbox } from "./0008-notification-outbox.js";
import { apiTokens } from "./0009-api-tokens.js";
import { secrets } from "./0010-secrets.js";
import { runners } from "./0011-runners.js";
import { leaseLogLength } from "./0012-lease-log-length.js";
import { runsSecretParamsIndex } from "./0013-runs-secret-params-index.js";
import { runsUnsuccessfulIndex } from "./0014-runs-unsuccessful-index.js";

/**
 * Every migration, in order. To change the schema, add `NNNN-what.ts` exporting a `Migration`
 * and list it here under its file name; never edit a migration that has shipped.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  "0001-initial": initial,
  "0002-apply-history": applyHistory,
  "0003-run-secret-params": runSecretParams,
  "0004-version-dedupe": versionDedupe,
  "0005-apply-sources": applySources,
  "0006-webhook-refusals": webhookRefusals,
  "0007-approvals-audit": approvalsAudit,
  "0008-notification-outbox": notificationOutbox,
  "0009-api-tokens": apiTokens,
  "0010-secrets": secrets,
  "0011-runners": runners,
  "0012-lease-log-length": leaseLogLength,
  "0013-runs-secret-params-index": runsSecretParamsIndex,
  "0014-runs-unsuccessful-index": runsUnsuccessfulIndex,
};

/**
 * Brings `db` to the latest schema. Kysely records applied migrations in `kysely_migration`;
 * a database that holds a migration this build does not know (a newer Causeway) is refused.
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  // Numbers are handed out ahead, so migrations may land out of order (0003 before 0002): a
  // database that has a later one runs an earlier one it lacks. Each migration therefore stands
  // on 0001 alone, never on one numbered between.
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) },
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    throw new CausewayError(
      "STORE_MIGRATION_FAILED",
      `migrating the store failed${failed === undefined ? "" : ` at ${failed}`}: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
