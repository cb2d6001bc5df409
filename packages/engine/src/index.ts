export { Engine, type EngineDeps, type WhyReport } from "./engine.js";
export type { PutVersionOptions, VersionData } from "./versions.js";
export type { TraceEntry } from "./trace.js";
export type { ApplyReport, ApplyRequest } from "./applying.js";
export type { EngineOptions } from "./context.js";
export type { ExternalReport } from "./external.js";
export { enqueueNotifications, type NotifyRequest } from "./notifying.js";
export type { GateView } from "./approvals.js";
export type { TriggerOptions } from "./manual-runs.js";
