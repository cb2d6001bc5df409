import { checkoutRepository, localRepositoryPath } from "../git.js";
import type { Materialiser } from "./materialiser.js";

/**
 * `gitRepo`: an IN is a checkout of its version's commit (`propertyBag.shaData.commitSha`, else
 * the version name, else the branch head) in `IN/<name>/gitRepo/`, cloned by `git.ts`.
 */
export const gitRepoMaterialiser: Materialiser = {
  announce: "cloning...",
  savesOutFiles: false,
  async fillIn(dep, dataDir, ctx) {
    const source = localRepositoryPath(dep.pointer.sourceName ?? dep.template.sourceName);
    const shaData = dep.version?.propertyBag.shaData as Record<string, unknown> | undefined;
    const commit = typeof shaData?.commitSha === "string" && shaData.commitSha !== "" ? shaData.commitSha : undefined;
    const ref = commit ?? (dep.version?.versionName || undefined);
    await checkoutRepository(source, dataDir, ref, { env: ctx.env, graceMs: ctx.graceMs, signal: ctx.signal });
    return `checked out ${ref ?? "HEAD"} from ${source}`;
  },
};
