import { fileURLToPath } from "node:url";

/** The directory holding the `shipctl` script; the runner puts it first on a job's PATH. */
export const SHIPCTL_DIR = fileURLToPath(new URL("../shipctl", import.meta.url));

/** The task launcher script (libexec/task-launcher.sh). */
export const TASK_LAUNCHER = fileURLToPath(new URL("../libexec/task-launcher.sh", import.meta.url));
