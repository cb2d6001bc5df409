import { CausewayError, type DependencySpec } from "@causeway/core";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "./process.js";

/**
 * gitRepo INs. The embedded runner clones any repository git can reach: an absolute local path
 * or a `file://` URL, or a remote URL (`https://`, `http://`, `ssh://`, `git://`, or
 * `user@host:path`), with the credentials of the resource's integration (`gitAuth`). A
 * `sourceName` of the form `org/repo` (a hosted SCM's name, without its host) ends the run with
 * status error and the reason below.
 */

/** The reason given for a sourceName the embedded runner cannot clone. */
export const UNSUPPORTED_REPOSITORY =
  "the embedded runner clones a local path, a file:// URL or a git URL (https://, ssh://, git://, user@host:path), not an SCM's org/repo name";

/** Where a repository is: a local directory, or a URL git fetches from. */
export type RepositoryLocation =
  { readonly kind: "local"; readonly path: string } | { readonly kind: "remote"; readonly url: string };

const REMOTE_URL = /^(?:https?|ssh|git|git\+ssh|ssh\+git):\/\/[^\s/]+\/?\S*$/;
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/;

/** The location of a repository source, or undefined for anything git cannot reach by itself. */
export function repositoryLocation(sourceName: unknown): RepositoryLocation | undefined {
  if (typeof sourceName !== "string" || sourceName === "" || sourceName.includes("\0")) return undefined;
  if (sourceName.startsWith("file://")) {
    try {
      return { kind: "local", path: fileURLToPath(sourceName) };
    } catch {
      return undefined;
    }
  }
  if (isAbsolute(sourceName)) return { kind: "local", path: sourceName };
  if (REMOTE_URL.test(sourceName) || SCP_LIKE.test(sourceName)) return { kind: "remote", url: sourceName };
  return undefined;
}

/** The location of a repository source, or a `GIT_FAILED` error naming what is wrong. */
export function repositorySource(sourceName: unknown): RepositoryLocation {
  const location = repositoryLocation(sourceName);
  if (location !== undefined) return location;
  throw new CausewayError(
    "GIT_FAILED",
    `${UNSUPPORTED_REPOSITORY} (sourceName: ${JSON.stringify(sourceName ?? null)})`,
  );
}

/** A URL as it may be printed: without the password or token of its user part. */
export function displayUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)[^@/]*@/i, "$1");
}

/** The environment that gives git an integration's credentials, and what removes its files. */
export interface GitAuth {
  readonly env: Readonly<Record<string, string>>;
  /** Removes the key file; idempotent. */
  cleanup(): Promise<void>;
}

/**
 * Credentials for git from an integration's fields, never on a command line:
 * - `privateKey` (an SSH key, Shippable's "SSH Key" integration): written to an owner-only file
 *   in a new owner-only directory and given to ssh by `GIT_SSH_COMMAND` (`-i`, `IdentitiesOnly`,
 *   `BatchMode`); `knownHosts`, when given, is the only file of known hosts
 *   (`StrictHostKeyChecking=yes`), else ssh's own with `accept-new`;
 * - `token` (with `username`, default `x-access-token`) or `username` and `password`: an HTTP
 *   `Authorization: Basic` header, through `GIT_CONFIG_*` variables of git's environment.
 * No fields: no variables. `cleanup` removes the files once git is done.
 */
export async function gitAuth(fields: Readonly<Record<string, string>> | undefined): Promise<GitAuth> {
  const env: Record<string, string> = {};
  let dir: string | undefined;
  const cleanup = async (): Promise<void> => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  };
  if (fields === undefined) return { env, cleanup };
  try {
    const key = fields.privateKey;
    if (key !== undefined && key !== "") {
      dir = await mkdtemp(join(tmpdir(), "causeway-git-"));
      const keyFile = join(dir, "key");
      await writeFile(keyFile, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600, flag: "wx" });
      const options = ["-i", keyFile, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"];
      if (fields.knownHosts !== undefined && fields.knownHosts !== "") {
        const known = join(dir, "known_hosts");
        await writeFile(known, fields.knownHosts, { mode: 0o600, flag: "wx" });
        options.push("-o", `UserKnownHostsFile=${known}`, "-o", "StrictHostKeyChecking=yes");
      } else options.push("-o", "StrictHostKeyChecking=accept-new");
      env.GIT_SSH_COMMAND = ["ssh", ...options].map(shellWord).join(" ");
    }
    const secret = fields.token ?? fields.password;
    if (secret !== undefined && secret !== "") {
      const user = fields.username ?? "x-access-token";
      env.GIT_CONFIG_COUNT = "1";
      env.GIT_CONFIG_KEY_0 = "http.extraHeader";
      env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${Buffer.from(`${user}:${secret}`).toString("base64")}`;
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { env, cleanup };
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Options of `checkoutRepository`. */
export interface CheckoutOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly graceMs: number;
  readonly signal?: AbortSignal;
}

/**
 * Clones `source` (a local path or a git URL) into the empty directory `dir` and checks out
 * `ref` (a commit sha, or any revision; HEAD when undefined) detached. Throws `GIT_FAILED` with
 * git's message.
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
  const shown = displayUrl(source);
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
  await run(["clone", "--quiet", "--no-checkout", "--", source, dir], `git clone of ${shown}`);
  await run(
    ["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", ref ?? "HEAD"],
    `git checkout of ${ref ?? "HEAD"} from ${shown}`,
  );
}

/** What `checkoutInput` needs: the runner's environment and, for credentials, its integrations. */
export interface CheckoutInputOptions extends CheckoutOptions {
  /** The fields of an integration by name (see `EmbeddedRunnerOptions.integrations`). */
  readonly integrations?: ((name: string) => Promise<Readonly<Record<string, string>> | undefined>) | undefined;
}

/**
 * A gitRepo IN: clones the resource's repository (`sourceName`: a local path or a git URL, with
 * the credentials of its `integration` for a remote one) into `dir` and checks out the commit of
 * its frozen version (`propertyBag.shaData.commitSha`, else the version name, else the branch
 * head), detached. Returns what it did, for the console (the URL without its user part).
 */
export async function checkoutInput(dep: DependencySpec, dir: string, options: CheckoutInputOptions): Promise<string> {
  const location = repositorySource(dep.pointer.sourceName ?? dep.template.sourceName);
  const shaData = dep.version?.propertyBag.shaData as Record<string, unknown> | undefined;
  const commit = typeof shaData?.commitSha === "string" && shaData.commitSha !== "" ? shaData.commitSha : undefined;
  const ref = commit ?? (dep.version?.versionName || undefined);
  const source = location.kind === "local" ? location.path : location.url;
  // A remote repository's credentials come from the resource's integration, as files that live
  // only as long as the clone.
  const fields =
    location.kind === "remote" && dep.integration !== undefined
      ? await options.integrations?.(dep.integration)
      : undefined;
  const auth = await gitAuth(fields);
  try {
    await checkoutRepository(source, dir, ref, {
      env: { ...options.env, ...auth.env },
      graceMs: options.graceMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } finally {
    await auth.cleanup();
  }
  return `checked out ${ref ?? "HEAD"} from ${displayUrl(source)}`;
}
