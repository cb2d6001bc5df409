import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type {} from "vitest";

// Where the test corpora are. The repository carries its own corpus (FIXTURE_CORPUS), written
// for it and always there. The external corpus of real Shippable files lives outside the
// repository, in shared/ beside it (or where CAUSEWAY_CORPUS says): a plain clone has none, so
// its tests skip there with a one-line reason, and are mandatory where CI runs.

/** The root of the repository. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** The repository's own corpus: one folder per line, in every clone. */
export const FIXTURE_CORPUS = resolve(REPO_ROOT, "packages/core/test/fixtures/corpus");

/** Where the external corpus is looked for when CAUSEWAY_CORPUS is not set. */
export const DEFAULT_EXTERNAL_CORPUS = resolve(REPO_ROOT, "../shared/corpus/shippable");

/** What the decision depends on; the caller reads the process's environment and disk. */
export interface CorpusInputs {
  /** `CI` and `CAUSEWAY_CORPUS` of the environment. */
  readonly env: { readonly CI?: string | undefined; readonly CAUSEWAY_CORPUS?: string | undefined };
  /** A relative CAUSEWAY_CORPUS is resolved against this directory. */
  readonly cwd: string;
  /** Where the corpus is when CAUSEWAY_CORPUS is not set. */
  readonly defaultDir: string;
  readonly isDirectory: (dir: string) => boolean;
}

/**
 * Where the external corpus is: `found` (test it), `skip` (absent and optional: the tests that
 * need it are skipped, and `reason` says so in one line naming the missing folder), or
 * `missing` (absent where it is mandatory: the tests that need it fail with `reason`).
 */
export type CorpusLocation =
  | { readonly kind: "found"; readonly dir: string }
  | { readonly kind: "skip"; readonly reason: string }
  | { readonly kind: "missing"; readonly reason: string };

/** True when `CI` is set to anything but an empty string, `0` or `false` (as CI services set it). */
export function isCi(value: string | undefined): boolean {
  return value !== undefined && !["", "0", "false"].includes(value.trim().toLowerCase());
}

/**
 * Decides where the external corpus is. A CAUSEWAY_CORPUS that names no directory is an error
 * (whoever set it wants that corpus tested); otherwise the default folder is used when it
 * exists; when it does not, the corpus tests are skipped, unless CI is set: then they fail.
 */
export function locateCorpus(inputs: CorpusInputs): CorpusLocation {
  const named = inputs.env.CAUSEWAY_CORPUS?.trim();
  if (named !== undefined && named !== "") {
    const dir = resolve(inputs.cwd, named);
    if (inputs.isDirectory(dir)) return { kind: "found", dir };
    return { kind: "missing", reason: `CAUSEWAY_CORPUS names ${dir}, which is not a directory` };
  }
  if (inputs.isDirectory(inputs.defaultDir)) return { kind: "found", dir: inputs.defaultDir };
  if (isCi(inputs.env.CI)) {
    return {
      kind: "missing",
      reason: `no external corpus at ${inputs.defaultDir}, and CI is set: put the corpus there or set CAUSEWAY_CORPUS=DIR`,
    };
  }
  return {
    kind: "skip",
    reason: `no external corpus at ${inputs.defaultDir}: its tests are skipped (CAUSEWAY_CORPUS=DIR names another place)`,
  };
}

declare module "vitest" {
  interface ProvidedContext {
    /** The external corpus, decided once per test run by corpus-setup.ts. */
    externalCorpus: CorpusLocation;
  }
}
