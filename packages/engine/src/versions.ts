import { mergeBag, resourceKind, type Run, type StoreTx, type Version } from "@causeway/core";
import type { EngineContext, EventBuffer } from "./context.js";
import { insertVersion } from "./finishing.js";
import { resourceNotFound } from "./names.js";
import { offer } from "./triggering.js";

/** What a version from outside says; the rest comes from the resource's latest version. */
export interface VersionData {
  versionName?: string;
  propertyBag?: Record<string, unknown>;
}

/** Options of `Engine.putVersion`. */
export interface PutVersionOptions {
  /**
   * The delivery key of the version (a webhook's delivery id, a cron tick's time, a commit): a
   * second put with the same key for the same resource creates nothing and returns the first
   * version with `duplicate: true`. Recorded in the version's transaction, so a crash never
   * leaves one without the other.
   */
  readonly key?: string;
  /**
   * False: the version is recorded but offered to no consumer (a commit that only changes the
   * line's own pipeline files: Shippable's rule). Default true.
   */
  readonly trigger?: boolean;
}

/**
 * Creates a version of a resource from outside (the versions API, `put-version`, a webhook, a
 * version source) in `tx`: a new flow, the bag merged onto the latest version's as the kind says,
 * offered to the resource's consumers where the kind's versions trigger. With a `key`, at most
 * once per key.
 */
export async function putVersion(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  name: string,
  data: VersionData,
  createdBy: string,
  options: PutVersionOptions,
): Promise<{ version: Version; runs: Run[]; duplicate: boolean }> {
  const { model } = ctx;
  const resource = model.resource(name);
  if (resource === undefined) throw resourceNotFound(model, name);
  const { key } = options;
  if (key !== undefined) {
    // Exactly once: a key seen before gives its version back, and nothing runs again.
    const seen = await tx.versionByKey(name, key);
    if (seen !== undefined) return { version: seen, runs: [], duplicate: true };
  }
  const current = model.latest.get(name);
  const flow = ctx.options.newFlowId();
  const version = await insertVersion(ctx, tx, events, {
    objectName: name,
    versionName: data.versionName ?? current?.versionName ?? "",
    propertyBag: mergeBag(resource.type, current?.propertyBag ?? {}, data.propertyBag ?? {}),
    createdBy,
    runId: null,
    stateSha: null,
    flowId: flow,
  });
  const runs: Run[] = [];
  if (resourceKind(resource.type).versionsTrigger && options.trigger !== false) {
    for (const consumer of model.consumers.get(name) ?? []) {
      const run = await offer(ctx, tx, events, consumer, {
        kind: "version",
        input: name,
        versionId: version.id,
        description: `new version ${version.versionNumber} of ${name} (${createdBy})`,
        flow,
        trigger: { kind: "version", by: name, versionId: version.id },
      });
      if (run !== undefined) runs.push(run);
    }
  }
  if (key !== undefined) await tx.recordVersionKey(name, key, version.id);
  return { version, runs, duplicate: false };
}
