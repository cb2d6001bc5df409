/**
 * Which branches of a `gitRepo` make versions (shippable.md §4.1): `branch: main`, or
 * `branches: {only: [...], except: [...]}` with `*` wildcards, or neither: the repository's
 * default branch (its `HEAD`).
 */
export type BranchFilter =
  | { readonly kind: "default" }
  | { readonly kind: "branch"; readonly branch: string }
  | { readonly kind: "patterns"; readonly only: readonly string[]; readonly except: readonly string[] };

/** The branch filter of a gitRepo definition (`branch` wins over `branches`, as in Shippable). */
export function readBranchFilter(data: Readonly<Record<string, unknown>>): BranchFilter {
  if (typeof data.branch === "string" && data.branch !== "") return { kind: "branch", branch: data.branch };
  const branches = data.branches;
  if (branches !== null && typeof branches === "object" && !Array.isArray(branches)) {
    const { only, except } = branches as Record<string, unknown>;
    const list = (v: unknown): string[] =>
      typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
    if (only !== undefined || except !== undefined)
      return { kind: "patterns", only: only === undefined ? ["*"] : list(only), except: list(except) };
  }
  return { kind: "default" };
}

/**
 * Whether a branch (its short name, `main`, `feature/x`) makes versions under the filter. `*`
 * matches any characters, `/` included. A `default` filter selects `defaultBranch` only.
 */
export function branchSelected(filter: BranchFilter, branch: string, defaultBranch?: string): boolean {
  switch (filter.kind) {
    case "default":
      return branch === defaultBranch;
    case "branch":
      return branch === filter.branch;
    case "patterns":
      return filter.only.some((p) => globMatch(p, branch)) && !filter.except.some((p) => globMatch(p, branch));
  }
}

function globMatch(pattern: string, name: string): boolean {
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`).test(name);
}

/**
 * Whether new commits of a gitRepo make versions (`buildOnCommit`, default true, shippable.md
 * §4.1). A repository fed only by a job's `OUT` (`replicate`) sets it false.
 */
export function buildsOnCommit(data: Readonly<Record<string, unknown>>): boolean {
  return data.buildOnCommit !== false && data.buildOnCommit !== "false";
}
