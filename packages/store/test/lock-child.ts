// A process that takes a data directory's lock, says so, and holds it until it is killed.
// Run: node --expose-gc --import tsx --conditions=source packages/store/test/lock-child.ts <dataDir>
import { acquireDataDirLock } from "@causeway/store";

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error("usage: lock-child.ts <dataDir>");
// The handle is dropped at once, and the collector runs (with --expose-gc) before "locked": the
// lock must hold anyway, as for a caller that keeps no reference to it.
acquireDataDirLock(dataDir);
const gc = (globalThis as { gc?: () => void }).gc;
for (let i = 0; i < 3; i++) {
  gc?.();
  await new Promise((resolve) => setImmediate(resolve));
}
process.stdout.write("locked\n");
setInterval(() => undefined, 60_000);
