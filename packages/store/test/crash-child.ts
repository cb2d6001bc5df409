// The child of the crash test: inserts a run, a version and an event per transaction, forever,
// and prints the version id after each commit. The test SIGKILLs it at a random moment.
// Run: node --import tsx --conditions=source packages/store/test/crash-child.ts <dataDir>
import { openSqliteStore } from "@causeway/store";

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error("usage: crash-child.ts <dataDir>");
const { store } = await openSqliteStore({ dataDir });
process.stdout.write("ready\n");
for (let i = 0; ; i++) {
  const id = await store.transaction(async (tx) => {
    const run = await tx.insertRun({
      job: "crash",
      status: "success",
      statusReason: null,
      trigger: { kind: "manual", by: "test" },
      flow: `flow-${i}`,
      inputs: [],
      params: {},
      secretParams: [],
      priority: 9999,
      attempt: 1,
      rerunOf: null,
    });
    const version = await tx.insertVersion({
      objectName: "crash",
      versionName: String(i),
      propertyBag: { i, padding: "x".repeat(i % 500) },
      createdBy: `run:${run.id}`,
      runId: run.id,
      stateSha: null,
      flowId: run.flow,
    });
    await tx.appendEvent("version", { versionId: version.id, runId: run.id });
    return version.id;
  });
  // Written only after COMMIT returned: every id printed is acknowledged as durable.
  process.stdout.write(`${id}\n`);
}
