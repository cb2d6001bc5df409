import { access, constants } from "node:fs/promises";
import { runCommand } from "./process.js";

/** The reason of a run that asks for a container on a runner without a container engine. */
export const NO_CONTAINER_ENGINE = "runtime.container is true but this runner has no container engine";

const PROBE_TIMEOUT_MS = 5_000;

/**
 * True when `docker` is on the PATH of `env` and its daemon answers. Never throws; asked only
 * for runs that want a container.
 */
export async function hasContainerEngine(env: Readonly<Record<string, string>>, graceMs: number): Promise<boolean> {
  const dirs = (env.PATH ?? "").split(":").filter((d) => d !== "");
  let docker: string | undefined;
  for (const dir of dirs) {
    try {
      await access(`${dir}/docker`, constants.X_OK);
      docker = `${dir}/docker`;
      break;
    } catch {
      // not in this directory
    }
  }
  if (docker === undefined) return false;
  const { exit } = await runCommand(docker, ["version", "--format", "{{.Server.Version}}"], {
    cwd: "/",
    env,
    graceMs: Math.min(graceMs, 1_000),
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  });
  return exit.code === 0;
}
