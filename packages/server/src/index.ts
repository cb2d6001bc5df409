export { buildApp, API_PREFIX } from "./app.js";
export type { AppDeps } from "./deps.js";
export type { AppEnv } from "./http-errors.js";
export { logFeed, type LogFeed } from "./log-feed.js";
export {
  createLogger,
  errorText,
  isExpectedError,
  LOG_FORMATS,
  silentLogger,
  type LogFields,
  type LogFormat,
  type LogLine,
  type Logger,
  type LoggerOptions,
} from "./logger.js";
export { nodePipelineFs } from "./node-fs.js";
export {
  compileServerOptions,
  DEFAULT_HOST,
  DEFAULT_PORT,
  badServerOptions,
  optionProblems,
  type CompiledServerOptions,
  type ServerOptions,
} from "./options.js";
export { startServer, SERVER_INFO_FILE, SERVER_VERSION, type RunningServer } from "./server.js";
export { prepareWorkDir, workDirPrefix, type WorkDirOptions } from "@causeway/runner";
export { TokenAuth, hashSecret, newSecret } from "./auth.js";
export { routeRules, type RouteRule } from "./routes.js";
export { RunnerHub, DEFAULT_RUNNER_SETTINGS, type RunnerHubOptions } from "./runners/hub.js";
export { startEmbeddedAgent, InProcessTransport, type EmbeddedAgent } from "./runners/in-process.js";
