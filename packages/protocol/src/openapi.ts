import { z } from "zod";
import { API_PREFIX, API_ROUTES, type ApiRoute } from "./api-routes.js";
import { ErrorBodySchema } from "./schemas.js";

// The OpenAPI 3.1 document of /api/v1, generated from the route table (api-routes.ts): served by
// the server at /api/v1/openapi.json, so that any tool can read the API it actually serves.

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const out = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  delete out.$schema;
  return out;
}

/** `/runs/:id` as OpenAPI writes it: `/runs/{id}` (a catch-all `:path{.+}` too). */
export function openApiPath(path: string): string {
  return `${API_PREFIX}${path.replace(/:([A-Za-z]+)(\{[^}]*\})?/g, "{$1}")}`;
}

function parameters(route: ApiRoute): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const match of route.path.matchAll(/:([A-Za-z]+)/g)) {
    out.push({ name: match[1], in: "path", required: true, schema: { type: "string" } });
  }
  const query =
    route.query === undefined ? {} : (schemaOf(route.query, "input").properties as Record<string, JsonSchema>);
  for (const [name, schema] of Object.entries(query ?? {})) out.push({ name, in: "query", required: false, schema });
  return out;
}

function success(route: ApiRoute): JsonSchema {
  const answer = route.answer;
  switch (answer.kind) {
    case "json":
      return {
        "200": { description: "OK", content: { "application/json": { schema: schemaOf(answer.schema, "output") } } },
      };
    case "bytes":
      return { "200": { description: "OK", content: { [answer.contentType]: { schema: { type: "string" } } } } };
    case "stream":
      return {
        "200": { description: "server-sent events", content: { "text/event-stream": { schema: { type: "string" } } } },
      };
    case "empty":
      return { "204": { description: "done" } };
  }
}

/** The OpenAPI document of the API of Causeway `version`. Pure. */
export function openApiDocument(version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const error = {
    description: "an error (docs/errors.md)",
    content: { "application/json": { schema: schemaOf(ErrorBodySchema, "output") } },
  };
  for (const [name, route] of Object.entries(API_ROUTES) as [string, ApiRoute][]) {
    const operation: JsonSchema = {
      operationId: name,
      summary: route.summary,
      "x-causeway-role": route.role,
      ...(route.publicRead === true ? { "x-causeway-public-read": true } : {}),
      ...(route.role === "none" ? { security: [] } : {}),
      parameters: parameters(route),
      ...(route.body === undefined
        ? {}
        : {
            requestBody: { required: true, content: { "application/json": { schema: schemaOf(route.body, "input") } } },
          }),
      responses: { ...success(route), default: error },
    };
    (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Causeway API", version, description: "The HTTP API of Causeway (docs/api.md)." },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths,
  };
}
