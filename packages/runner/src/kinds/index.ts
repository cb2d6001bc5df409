import type { DependencySpec } from "@causeway/core";
import { filesMaterialiser } from "./files.js";
import { gitRepoMaterialiser } from "./git-repo.js";
import type { Materialiser } from "./materialiser.js";
import { stateMaterialiser } from "./state.js";

export type { MaterialiseContext, Materialiser } from "./materialiser.js";
export { filesMaterialiser } from "./files.js";

/**
 * The materialisers of the resource types that have files of their own in a workspace; every
 * other type (and a job used as a dependency) has `filesMaterialiser`. Adding a type with files
 * is one file here and one line in this table.
 */
export const MATERIALISERS: Readonly<Record<string, Materialiser>> = Object.freeze({
  gitRepo: gitRepoMaterialiser,
  state: stateMaterialiser,
});

/** The materialiser of a dependency. */
export function materialiserFor(dep: Pick<DependencySpec, "kind" | "type">): Materialiser {
  if (dep.kind === "job" || !Object.hasOwn(MATERIALISERS, dep.type)) return filesMaterialiser;
  return MATERIALISERS[dep.type] ?? filesMaterialiser;
}
