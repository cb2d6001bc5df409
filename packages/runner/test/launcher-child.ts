// A process that runs one task through a task worker, says so, and waits to be killed: the
// stand-in for a server in the lifeline tests.
// Run: node --import tsx --conditions=source packages/runner/test/launcher-child.ts
//        <dir> <record file> <grace ms> <T|X|S>   (S: in the sandbox, with <dir> its slot and
//        <dir>/ws the task's working directory)
// The task is <dir>/task.sh (written by the test); its output goes to <dir>/task.out.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { TaskLauncher } from "../src/launcher.js";
import { chooseSandbox } from "../src/sandbox.js";
import { SHIPCTL_DIR } from "../src/paths.js";
import { WorkerRecord } from "../src/worker-record.js";

const [dir, record, grace, mode] = process.argv.slice(2);
if (dir === undefined || record === undefined || grace === undefined || mode === undefined) {
  throw new Error("usage: launcher-child.ts <dir> <record file> <grace ms> <T|X|S>");
}
const sandbox =
  mode === "S"
    ? chooseSandbox({ mode: "required", env: { PATH: process.env.PATH ?? "" }, shipctlDir: SHIPCTL_DIR, hidden: [] })
    : undefined;
const launcher = new TaskLauncher({
  graceMs: Number(grace),
  record: new WorkerRecord(record),
  ...(sandbox?.kind === "bwrap" ? { sandbox: sandbox.sandbox } : {}),
});
if (mode === "S") mkdirSync(join(dir, "ws"));
const task = launcher.launch({
  cwd: mode === "S" ? join(dir, "ws") : dir,
  ...(mode === "S" ? { slot: dir } : {}),
  prefix: join(dir, "task"),
  ownPid: mode === "X",
  graceMs: Number(grace),
  onData: () => undefined,
});
process.stdout.write("launched\n");
void task.done.then((exit) => process.stdout.write(`done ${exit.code}\n`));
setInterval(() => undefined, 60_000);
