import type { RunQuery } from "@causeway/core";
import { sql, type Kysely } from "kysely";
import { checkLimit } from "./query-limits.js";
import type { CausewayDatabase } from "./schema.js";

/**
 * The select of `listRuns` (exported for the query-plan test). All the runs of a job in some
 * statuses (its active runs, typically) are read through (job, status, id) and the few found
 * sorted, rather than every run of the job walked by id. Runs in statuses that are not
 * `success` (the engine's active runs at start, a filter on failures), of any job, are read
 * through the partial index `runs_unsuccessful_ix` (migration 0014), which SQLite uses only
 * when the query holds its condition literally: hence the term `status != 'success'`.
 */
export function listRunsQuery(db: Kysely<CausewayDatabase>, query: RunQuery) {
  const bySeek = query.job !== undefined && (query.statuses?.length ?? 0) > 1 && query.limit === undefined;
  let select = db
    .selectFrom("runs")
    .selectAll()
    .orderBy(bySeek ? sql`+id` : "id", "desc");
  if (query.job !== undefined) select = select.where("job", "=", query.job);
  if (query.flow !== undefined) select = select.where("flow", "=", query.flow);
  if (query.statuses !== undefined) {
    if (query.job === undefined && !query.statuses.includes("success"))
      select = select.where(sql<boolean>`status != 'success'`);
    select = select.where("status", "in", [...query.statuses]);
  }
  if (query.limit !== undefined) select = select.limit(checkLimit(query.limit));
  return select;
}
