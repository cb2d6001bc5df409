import { checkoutInput } from "../git.js";
import type { Materialiser } from "./materialiser.js";

/**
 * `gitRepo`: an IN is a checkout of its version's commit (`propertyBag.shaData.commitSha`, else
 * the version name, else the branch head) in `IN/<name>/gitRepo/`, cloned by `git.ts` from a
 * local repository or a git URL (with its integration's credentials).
 */
export const gitRepoMaterialiser: Materialiser = {
  announce: "cloning...",
  savesOutFiles: false,
  fillIn(dep, dataDir, ctx) {
    return checkoutInput(dep, dataDir, ctx);
  },
};
