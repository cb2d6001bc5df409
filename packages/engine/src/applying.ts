import { canonical, type Mapping, type Pipeline, type StoreTx } from "@causeway/core";
import type { EngineContext, EventBuffer } from "./context.js";
import { insertVersion } from "./finishing.js";
import { offer, recordRun } from "./triggering.js";

/** What applying a line changed. */
export interface ApplyReport {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
  /** Resources that got a new version from their definition. */
  readonly versioned: string[];
}

/**
 * Applies a line's definitions (design §3): new and changed resources and jobs are stored,
 * removed ones soft-deleted (history kept). A new resource gets version 1 from its definition;
 * a changed definition makes a new version. Such versions trigger nothing, except for a
 * `trigger` resource, whose edit is a deliberate "run it" (it starts a new flow).
 */
export async function applyPipeline(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  pipeline: Pipeline,
): Promise<ApplyReport> {
  const { model } = ctx;
  const report: ApplyReport = { added: [], changed: [], removed: [], versioned: [] };
  const stored = new Map((await tx.listObjects(true)).map((o) => [o.name, o]));
  const seen = new Set<string>();
  const triggered: { resource: string; versionId: number; flow: string; versionNumber: number }[] = [];
  for (const def of [...pipeline.resources, ...pipeline.jobs]) {
    if (def.name === "" || seen.has(def.name)) continue;
    seen.add(def.name);
    const kind = "steps" in def ? ("job" as const) : ("resource" as const);
    const definition = JSON.parse(JSON.stringify(def)) as Mapping;
    const before = stored.get(def.name);
    const same =
      before !== undefined && before.deletedAt === null && canonical(before.definition) === canonical(definition);
    if (same) continue;
    await tx.putObject({ name: def.name, kind, type: def.type, definition, consistent: def.consistent });
    const after = await tx.getObject(def.name);
    if (after !== undefined) model.setObject(after);
    if (before === undefined || before.deletedAt !== null) report.added.push(def.name);
    else report.changed.push(def.name);
    await events.append(tx, "definition", { name: def.name, kind, change: before === undefined ? "added" : "changed" });
    if (kind !== "resource") continue;
    const template = (definition.template ?? {}) as Mapping;
    const previousTemplate = before === undefined ? undefined : ((before.definition.template ?? {}) as Mapping);
    const hasVersions = model.latest.has(def.name) || (await tx.latestVersion(def.name)) !== undefined;
    if (hasVersions && previousTemplate !== undefined && canonical(previousTemplate) === canonical(template)) continue;
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
    if (def.type === "trigger" && hasVersions) {
      triggered.push({ resource: def.name, versionId: version.id, flow, versionNumber: version.versionNumber });
    }
  }
  for (const [name, object] of stored) {
    if (object.deletedAt !== null || seen.has(name)) continue;
    await tx.softDeleteObject(name);
    // Runs of a removed job that have not started never will: end them now.
    for (const run of model.activeRuns(name)) {
      if (run.status === "processing") continue;
      const now = ctx.clock.now().toISOString();
      const ended = await tx.updateRun(run.id, {
        status: "cancelled",
        statusReason: "the job was removed from the line",
        finishedAt: now,
      });
      await recordRun(ctx, tx, events, ended);
    }
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
  return report;
}

function versionNameOf(template: Mapping): string {
  const v = template.versionName;
  return typeof v === "string" || typeof v === "number" ? String(v) : "";
}
