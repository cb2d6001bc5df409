import { fileURLToPath } from "node:url";

/** The directory holding the `shipctl` script; the runner puts it first on a job's PATH. */
export const SHIPCTL_DIR = fileURLToPath(new URL("../shipctl", import.meta.url));

/** The task worker script (libexec/task-worker.sh). */
export const TASK_WORKER = fileURLToPath(new URL("../libexec/task-worker.sh", import.meta.url));
