import { CausewayError } from "@causeway/core";
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "./process.js";

/**
 * gitRepo INs. The embedded runner clones only repositories it can reach without credentials:
 * an absolute local path or a `file://` URL in the resource's `sourceName`. Anything else (an
 * `org/repo` of a hosted SCM, https, ssh) ends the run with status error and the reason
 * "only local and file:// repositories are supported by the embedded runner".
 */

/** The reason given for a sourceName the embedded runner cannot clone. */
export const UNSUPPORTED_REPOSITORY = "only local and file:// repositories are supported by the embedded runner";

/** The local path of a repository source, or a `GIT_FAILED` error for anything else. */
export function localRepositoryPath(sourceName: unknown): string {
  if (typeof sourceName === "string" && sourceName !== "" && !sourceName.includes("\0")) {
    if (sourceName.startsWith("file://")) {
      try {
        return fileURLToPath(sourceName);
      } catch {
        // falls through to the error below
      }
    } else if (isAbsolute(sourceName)) return sourceName;
  }
  throw new CausewayError(
    "GIT_FAILED",
    `${UNSUPPORTED_REPOSITORY} (sourceName: ${JSON.stringify(sourceName ?? null)})`,
  );
}

/** Options of `checkoutRepository`. */
export interface CheckoutOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly graceMs: number;
  readonly signal?: AbortSignal;
}

/**
 * Clones `source` (a local path) into the empty directory `dir` and checks out `ref` (a commit
 * sha, or any revision; HEAD when undefined) detached. Throws `GIT_FAILED` with git's message.
 */
export async function checkoutRepository(
  source: string,
  dir: string,
  ref: string | undefined,
  options: CheckoutOptions,
): Promise<void> {
  if (ref !== undefined && (ref === "" || ref.startsWith("-") || /[\s\0]/.test(ref))) {
    throw new CausewayError("GIT_FAILED", `cannot check out ${JSON.stringify(ref)}: not a revision`);
  }
  const env = { ...options.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };
  const run = async (args: string[], what: string): Promise<void> => {
    const { exit, output } = await runCommand("git", args, {
      cwd: dir,
      env,
      graceMs: options.graceMs,
      signal: options.signal,
    });
    if (exit.code === 0) return;
    const why = exit.error?.message ?? (output.trim() || `exit ${exit.code ?? exit.signal ?? "?"}`);
    throw new CausewayError("GIT_FAILED", `${what} failed: ${why}`);
  };
  await run(["clone", "--quiet", "--no-checkout", "--", source, dir], `git clone of ${source}`);
  await run(
    ["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", ref ?? "HEAD"],
    `git checkout of ${ref ?? "HEAD"} from ${source}`,
  );
}
