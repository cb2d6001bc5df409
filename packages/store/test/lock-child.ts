// A process that takes a data directory's lock, says so, and holds it until it is killed.
// Run: node --import tsx --conditions=source packages/store/test/lock-child.ts <dataDir>
import { acquireDataDirLock } from "@causeway/store";

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error("usage: lock-child.ts <dataDir>");
acquireDataDirLock(dataDir);
process.stdout.write("locked\n");
setInterval(() => undefined, 60_000);
