/** The branch the example line follows. */
export declare const DEMO_BRANCH: "main";

/** The identity of commits in the repository, set in its own config. */
export declare const DEMO_AUTHOR: Readonly<{ name: string; email: string }>;

/** Options of `ensureDemoRepo`. */
export interface DemoRepoOptions {
  /** The environment of git (default: the process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Makes `dir` a git repository with one commit of the tiny app on branch main, unless it
 * already is one (idempotent). Throws when `dir` exists but is not a git repository.
 */
export declare function ensureDemoRepo(dir: string, options?: DemoRepoOptions): { created: boolean; head: string };
