import { CausewayError, type SecretSummary } from "@causeway/core";
import {
  PutSecretRequestSchema,
  type RotateKeyResultJson,
  type SecretListJson,
  type SecretSummaryJson,
} from "@causeway/protocol";
import { newSecretKey, writeKeyFile } from "@causeway/store";
import type { Context } from "hono";
import type { AppDeps } from "./deps.js";
import type { AppEnv } from "./http-errors.js";
import { identify, USER_HEADER } from "./identity.js";
import { BODY_LIMITS, readBody } from "./request.js";
import type { GuardedRoutes } from "./routes.js";

/**
 * The routes of the integration store (docs/api.md, "Secrets"): set, list, delete a secret and
 * rotate the key. A value goes in and never comes out: answers hold names and field names only.
 * Each change is one transaction with its audit entry (`Engine.audited`). Admin only, listing
 * included (design §6: secrets are the admin's).
 */
export function mountSecretRoutes(api: GuardedRoutes, deps: AppDeps): void {
  const { engine } = deps;
  const actor = async (c: Context<AppEnv>): Promise<string> =>
    (await identify(c.get("token"), c.req.header(USER_HEADER), deps.groupsFile)).name;

  api.get("/secrets", "admin", async (c) => {
    const body: SecretListJson = { secrets: (await deps.store.read.listSecrets()).map(toSecretJson) };
    return c.json(body);
  });

  api.put("/secrets/:name", "admin", async (c) => {
    const name = c.req.param("name");
    const { fields } = await readBody(c, PutSecretRequestSchema, BODY_LIMITS.small);
    const who = await actor(c);
    const summary = await engine.audited(
      { actor: who, action: "secret-set", subject: `secret:${name}`, detail: { fields: Object.keys(fields).sort() } },
      (tx) => tx.putSecret(name, fields),
    );
    return c.json(toSecretJson(summary));
  });

  api.delete("/secrets/:name", "admin", async (c) => {
    const name = c.req.param("name");
    const who = await actor(c);
    await engine.audited({ actor: who, action: "secret-delete", subject: `secret:${name}`, detail: {} }, async (tx) => {
      if (!(await tx.deleteSecret(name))) throw new CausewayError("SECRET_NOT_FOUND", `no secret named ${name}`);
    });
    return c.body(null, 204);
  });

  api.post("/secrets/rotate-key", "admin", async (c) => {
    const ring = deps.secretKeys;
    if (ring?.file === undefined) {
      throw new CausewayError(
        "SECRET_KEY_INVALID",
        "this server's secret key was given as text (CAUSEWAY_SECRET_KEY): only a key file (--secret-key-file) can be rotated",
      );
    }
    const who = await actor(c);
    const previousKeyId = ring.currentId;
    const key = newSecretKey();
    // 1. The key file holds the new key and the old one: whatever the database holds decrypts.
    // Synchronous from here to the file: nothing is sealed with the new key before it is on disk.
    ring.promote(key);
    try {
      writeKeyFile(ring);
    } catch (error) {
      ring.forget(key.id);
      throw error;
    }
    // 2. Every value re-encrypted under the new key, in one transaction with its audit entry.
    const resealed = await engine.audited(
      { actor: who, action: "secret-rotate-key", subject: "secrets", detail: { keyId: key.id, previousKeyId } },
      (tx) => tx.resealSecrets(),
    );
    // 3. The old key leaves the file. A crash before this leaves both keys: still decrypts.
    ring.dropPrevious();
    writeKeyFile(ring);
    const body: RotateKeyResultJson = { keyId: key.id, previousKeyId, resealed };
    return c.json(body);
  });
}

function toSecretJson(summary: SecretSummary): SecretSummaryJson {
  return { ...summary, fields: [...summary.fields] };
}
