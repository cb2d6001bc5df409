import { z } from "zod";

// Who may do what: API tokens and their roles, and the secrets of the integration store.

// --- API tokens and roles (issue 11): POST/GET/DELETE /api/v1/tokens ---

/** The roles of API tokens, least first (core's ROLES). */
export const RoleSchema = z.enum(["viewer", "operator", "admin"]);

/** `POST /api/v1/tokens`: a new token's name, role and lifetime in days (none: no expiry). */
export const TokenCreateBodySchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/, "a name of letters, digits and . _ @ -, at most 100"),
  role: RoleSchema,
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
/** The body of `POST /api/v1/tokens`. */
export type TokenCreateBody = z.infer<typeof TokenCreateBodySchema>;

/** A token as `GET /api/v1/tokens` lists it: never its secret or its hash. */
export const TokenJsonSchema = z.object({
  name: z.string(),
  role: RoleSchema,
  kind: z.enum(["api"]),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  /** `active`, or why the token is refused. */
  state: z.enum(["active", "revoked", "expired"]),
});
/** A token on the wire. */
export type TokenJson = z.infer<typeof TokenJsonSchema>;

/** The answer to `POST /api/v1/tokens` (201): the secret, shown this once. */
export const TokenCreatedSchema = z.object({
  token: z.string(),
  name: z.string(),
  role: RoleSchema,
  expiresAt: z.string().nullable(),
});
/** A created token. */
export type TokenCreated = z.infer<typeof TokenCreatedSchema>;
// ---------------------------------------------------------------------------------------------
// Secrets: the integration store (issue 11). Values go in (PUT) and never come out.

/** A secret's name and field names, never a value (`GET /api/v1/secrets`, the answer of a PUT). */
export const SecretSummarySchema = z.object({
  name: z.string(),
  fields: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
/** A secret's summary on the wire. */
export type SecretSummaryJson = z.infer<typeof SecretSummarySchema>;

/** `PUT /api/v1/secrets/:name`: the fields, replacing the secret's whole set. */
export const PutSecretRequestSchema = z.object({ fields: z.record(z.string(), z.string()) });
/** The body of a PUT of a secret. */
export type PutSecretRequest = z.infer<typeof PutSecretRequestSchema>;

/** `GET /api/v1/secrets`. */
export const SecretListSchema = z.object({ secrets: z.array(SecretSummarySchema) });
/** The list of secrets on the wire. */
export type SecretListJson = z.infer<typeof SecretListSchema>;

/** `POST /api/v1/secrets/rotate-key`: the new key's id and how many values were re-encrypted. */
export const RotateKeyResultSchema = z.object({
  keyId: z.string(),
  previousKeyId: z.string(),
  resealed: z.number().int(),
});
/** The answer of a key rotation. */
export type RotateKeyResultJson = z.infer<typeof RotateKeyResultSchema>;
