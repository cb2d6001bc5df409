export { passthroughEnv } from "../options.js";
import { SANDBOX_MODES } from "../sandbox.js";

/** The sandbox modes, as strings for the runner's argument check. */
export const SANDBOX_MODES_LIST: readonly string[] = SANDBOX_MODES;
