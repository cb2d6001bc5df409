import {
  diffLine,
  type ApplyRecord,
  type Mapping,
  type NewApplyRecord,
  type Pipeline,
  type AppliedObject,
  type LineDiff,
  type StoredObject,
  type StoreTx,
  resourceKind,
} from "@causeway/core";
import { recordAudit } from "./audit.js";
import type { EngineContext, EventBuffer } from "./context.js";
import { insertVersion } from "./finishing.js";
import { enqueueEnd } from "./notifying.js";
import { offer, recordRun } from "./triggering.js";

/** What applying a line changed. */
export interface ApplyReport {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
  /** Resources that got a new version from their definition. */
  readonly versioned: string[];
  /** Objects of refused files, kept as they were (sorted). */
  readonly kept: string[];
  /** The entry of the apply history. */
  readonly record: ApplyRecord;
}

/** What an apply is told besides the definitions. */
export interface ApplyRequest {
  /**
   * Files the loader refused (paths as in `Origin.file`): every object one of them defined is
   * kept as it was, with its pending runs.
   */
  readonly refused?: readonly string[];
  /**
   * What the apply history records besides what changed (default: source `api`, by `api`,
   * nothing known of the files).
   */
  readonly history?: Omit<NewApplyRecord, "added" | "changed" | "removed" | "kept">;
}

const UNKNOWN_LOAD: Omit<NewApplyRecord, "added" | "changed" | "removed" | "kept"> = {
  source: "api",
  by: "api",
  dir: null,
  files: [],
  errors: 0,
  warnings: 0,
  problems: [],
};

/**
 * Applies a line's definitions (design §3): new and changed resources and jobs are stored,
 * removed ones soft-deleted (history kept). A new resource gets version 1 from its definition;
 * a changed definition makes a new version. Such versions trigger nothing, except for a
 * `trigger` resource, whose edit is a deliberate "run it" (it starts a new flow).
 *
 * An object is removed only when a file that loaded no longer defines it, or when its file is
 * gone from the line. The objects of a refused file are kept as they were (`planApply`): not
 * changed, not removed, their queued runs untouched; a definition of the same name from another
 * file is not applied (the loader reports it as a duplicate). The apply is recorded in the apply
 * history, in the same transaction.
 */
export async function applyPipeline(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  pipeline: Pipeline,
  request: ApplyRequest = {},
): Promise<ApplyReport> {
  const { model } = ctx;
  const { stored, diff: plan, withVersions } = await diffStored(ctx, tx, pipeline, request.refused ?? []);
  const report = { added: [] as string[], changed: [] as string[], removed: [] as string[], versioned: [] as string[] };
  const touched = new Set([...plan.added, ...plan.changed]);
  const versioned = new Set(plan.versioned);
  const seen = new Set<string>(plan.kept);
  const triggered: { resource: string; versionId: number; flow: string; versionNumber: number }[] = [];
  for (const def of [...pipeline.resources, ...pipeline.jobs]) {
    if (def.name === "" || seen.has(def.name)) continue;
    seen.add(def.name);
    if (!touched.has(def.name)) continue;
    const kind = "steps" in def ? ("job" as const) : ("resource" as const);
    const definition = JSON.parse(JSON.stringify(def)) as Mapping;
    const before = stored.get(def.name);
    await tx.putObject({ name: def.name, kind, type: def.type, definition, consistent: def.consistent });
    const after = await tx.getObject(def.name);
    if (after !== undefined) model.setObject(after);
    if (before === undefined || before.deletedAt !== null) report.added.push(def.name);
    else report.changed.push(def.name);
    await events.append(tx, "definition", { name: def.name, kind, change: before === undefined ? "added" : "changed" });
    if (kind !== "resource" || !versioned.has(def.name)) continue;
    const template = (definition.template ?? {}) as Mapping;
    const flow = ctx.options.newFlowId();
    const version = await insertVersion(ctx, tx, events, {
      objectName: def.name,
      versionName: versionNameOf(template),
      propertyBag: template,
      createdBy: "yaml",
      runId: null,
      stateSha: null,
      flowId: flow,
    });
    report.versioned.push(def.name);
    if (resourceKind(def.type).yamlEditTriggers && withVersions.has(def.name)) {
      triggered.push({ resource: def.name, versionId: version.id, flow, versionNumber: version.versionNumber });
    }
  }
  // Runs of a removed job that have not started never will: end them now, with the job's
  // on_cancel/always notifications like any cancel. All of them before any removed object leaves
  // the model, so a notification resource removed by the same apply still delivers them.
  for (const name of plan.removed) {
    const job = stored.has(name) ? model.job(name) : undefined;
    if (job === undefined) continue;
    for (const run of model.activeRuns(name)) {
      if (run.status === "processing") continue;
      const now = ctx.clock.now().toISOString();
      const ended = await tx.updateRun(run.id, {
        status: "cancelled",
        statusReason: "the job was removed from the line",
        finishedAt: now,
      });
      await recordRun(ctx, tx, events, ended);
      await enqueueEnd(ctx, tx, events, job, ended);
    }
  }
  for (const name of plan.removed) {
    const object = stored.get(name);
    if (object === undefined) continue;
    await tx.softDeleteObject(name);
    model.objects.delete(name);
    report.removed.push(name);
    await events.append(tx, "definition", { name, kind: object.kind, change: "removed" });
  }
  model.relink();
  for (const t of triggered) {
    for (const consumer of model.consumers.get(t.resource) ?? []) {
      await offer(ctx, tx, events, consumer, {
        kind: "version",
        input: t.resource,
        versionId: t.versionId,
        description: `trigger resource ${t.resource} edited (version ${t.versionNumber})`,
        flow: t.flow,
        trigger: { kind: "yaml", by: t.resource, versionId: t.versionId },
      });
    }
  }
  const record = await tx.insertApply(
    {
      ...(request.history ?? UNKNOWN_LOAD),
      added: report.added,
      changed: report.changed,
      removed: report.removed,
      kept: [...plan.kept],
    },
    ctx.options.applyHistory,
  );
  // The server's own applies are the watcher's or a git source's; the others, the person's.
  await recordAudit(tx, events, {
    actor: record.source === "watcher" || record.source === "git" ? record.source : record.by,
    action: "apply",
    subject: `apply:${record.id}`,
    detail: {
      source: record.source,
      by: record.by,
      added: record.added,
      changed: record.changed,
      removed: record.removed,
      kept: record.kept,
    },
  });
  return { ...report, kept: [...plan.kept], record };
}

/**
 * What applying `pipeline` does to the stored line (`diffLine` on every stored object, deleted
 * ones included), read through `reader`: a transaction for an apply, the store's reads for a
 * plan. Writes nothing.
 */
export async function diffStored(
  ctx: EngineContext,
  reader: Pick<StoreTx, "listObjects" | "latestVersion">,
  pipeline: Pipeline,
  refused: readonly string[],
): Promise<{ stored: Map<string, StoredObject>; diff: LineDiff; withVersions: Set<string> }> {
  const stored = new Map((await reader.listObjects(true)).map((o) => [o.name, o]));
  const withVersions = new Set<string>();
  for (const def of pipeline.resources) {
    if (
      ctx.model.latest.has(def.name) ||
      (stored.has(def.name) && (await reader.latestVersion(def.name)) !== undefined)
    )
      withVersions.add(def.name);
  }
  const diff = diffLine(appliedObjects(stored.values()), pipeline, new Set(refused), (name) => withVersions.has(name));
  return { stored, diff, withVersions };
}

/** Stored objects as `diffLine` compares them, by name (soft-deleted ones flagged). */
export function appliedObjects(objects: Iterable<StoredObject>): Map<string, AppliedObject> {
  const applied = new Map<string, AppliedObject>();
  for (const o of objects)
    applied.set(o.name, { definition: o.definition, consistent: o.consistent, deleted: o.deletedAt !== null });
  return applied;
}

function versionNameOf(template: Mapping): string {
  const v = template.versionName;
  return typeof v === "string" || typeof v === "number" ? String(v) : "";
}
