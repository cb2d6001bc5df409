import { filesMaterialiser } from "./files.js";
import type { Materialiser } from "./materialiser.js";

/**
 * `state`: an IN gets the version's files in `IN/<name>/state/`; the files a job puts in
 * `OUT/<name>/state/` are archived and become the new version (named after the archive).
 */
export const stateMaterialiser: Materialiser = { ...filesMaterialiser, savesOutFiles: true };
