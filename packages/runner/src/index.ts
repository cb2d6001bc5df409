export { SHIPCTL_DIR, TASK_WORKER } from "./paths.js";
export { taskScript, type TaskScriptInput } from "./script.js";
export { createEmbeddedRunner, type EmbeddedExecution, type EmbeddedRunner, type RunIo } from "./embedded-runner.js";
export type { EmbeddedRunResult, JobVersionData, NotificationRequest, OutVersionBase } from "./run-results.js";
export {
  compileRunnerOptions,
  passthroughEnv,
  DEFAULT_CANCEL_GRACE_MS,
  DEFAULT_PATH,
  PASSTHROUGH_NAMES,
  type CompiledRunnerOptions,
  type EmbeddedRunnerOptions,
} from "./options.js";
export {
  carriedEntries,
  encodeManifest,
  loadManifest,
  readTree,
  restoreArchive,
  restoreManifest,
  safeJoin,
  saveArchive,
  unsafePathReason,
  type ArchiveEntry,
  type ArchiveManifest,
  type Tree,
  type TreeFile,
} from "./state-archive.js";
export { MARKERS, markerText } from "./console.js";
export {
  UNSUPPORTED_REPOSITORY,
  displayUrl,
  gitAuth,
  repositoryLocation,
  checkoutInput,
  type CheckoutInputOptions,
  type GitAuth,
  type RepositoryLocation,
} from "./git.js";
export { NO_CONTAINER_ENGINE } from "./container.js";
export { NODE_WORKSPACE_FS, type WorkspaceFs } from "./workspace.js";
export {
  chooseSandbox,
  sandboxArgs,
  sandboxNotice,
  workspaceArgs,
  SANDBOX_MODES,
  type Sandbox,
  type SandboxChoice,
  type SandboxMode,
} from "./sandbox.js";
export { endOrphanedTasks, type OrphanOptions, type OrphanReport } from "./worker-record.js";
export { prepareWorkDir, workDirPrefix, type WorkDirOptions } from "./work-dir.js";
export {
  filesMaterialiser,
  materialiserFor,
  MATERIALISERS,
  type MaterialiseContext,
  type Materialiser,
} from "./kinds/index.js";
export { RunnerAgent, type AgentOptions } from "./agent/agent.js";
export { RunnerClient, ServerRefusal, unreachable } from "./agent/client.js";
export type { RunnerTransport } from "./agent/transport.js";
