export { Engine, type EngineDeps, type TraceEntry, type WhyReport } from "./engine.js";
export type { ApplyReport } from "./applying.js";
export type { EngineOptions } from "./context.js";
