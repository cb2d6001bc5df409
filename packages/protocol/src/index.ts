// Causeway's wire contract: the schemas of every HTTP body and event, and the route table of
// the API (api-routes.ts), from which the clients and the OpenAPI document are built.
export { RunStatusSchema } from "./run-status.js";
export * from "./schemas.js";
export * from "./people.js";
export * from "./access.js";
export * from "./runner.js";
export * from "./ui.js";
export * from "./api-routes.js";
export * from "./openapi.js";
