import { restoreArchive } from "../state-archive.js";
import type { Materialiser } from "./materialiser.js";

/**
 * The default materialiser: an IN's version files (an upstream job's state, a state
 * resource's files), restored from the version's archive into `IN/<name>/<type>/`; nothing for
 * a version without files.
 */
export const filesMaterialiser: Materialiser = {
  announce: undefined,
  savesOutFiles: false,
  async fillIn(dep, dataDir, ctx) {
    const sha = dep.version?.stateSha ?? null;
    if (sha === null) return "";
    const m = await restoreArchive(ctx.blobs, sha, dataDir);
    return `${m.files.length} file${m.files.length === 1 ? "" : "s"} restored`;
  },
};
