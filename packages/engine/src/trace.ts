import { CausewayError, type StoreTx, type Version } from "@causeway/core";

/** One entry of a version's trace: an input version that led to it, transitively. */
export interface TraceEntry {
  readonly depth: number;
  readonly name: string;
  readonly versionNumber: number;
  readonly versionName: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly runId: number | null;
  readonly flow: string | null;
}

/** The trace of a version: every input version that produced it, transitively, depth first. */
export async function traceVersion(
  read: StoreTx,
  name: string,
  versionNumber?: number,
): Promise<{ version: Version; entries: TraceEntry[] }> {
  const version =
    versionNumber === undefined ? await read.latestVersion(name) : await read.versionByNumber(name, versionNumber);
  if (version === undefined) {
    throw new CausewayError(
      "VERSION_NOT_FOUND",
      versionNumber === undefined ? `${name} has no version` : `${name} has no version ${versionNumber}`,
    );
  }
  const entries: TraceEntry[] = [];
  const seen = new Set<number>([version.id]);
  const walk = async (v: Version, depth: number): Promise<void> => {
    if (v.runId === null) return;
    const run = await read.getRun(v.runId);
    if (run === undefined) return;
    for (const input of run.inputs) {
      if (input.versionId === null || seen.has(input.versionId)) continue;
      seen.add(input.versionId);
      const iv = await read.getVersion(input.versionId);
      if (iv === undefined) continue;
      entries.push({
        depth,
        name: iv.objectName,
        versionNumber: iv.versionNumber,
        versionName: iv.versionName,
        createdBy: iv.createdBy,
        createdAt: iv.createdAt,
        runId: iv.runId,
        flow: iv.flowId,
      });
      await walk(iv, depth + 1);
    }
  };
  await walk(version, 1);
  return { version, entries };
}
