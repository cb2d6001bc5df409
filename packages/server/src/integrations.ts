import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { CausewayError, type SecretsPort, type Store } from "@causeway/core";

/** The fields of one integration (a webhook key, a token, an SSH key, SMTP credentials). */
export type IntegrationFields = Readonly<Record<string, string>>;

/**
 * Where secrets of integrations come from: webhook keys, git credentials, mail servers. The one
 * interface every consumer reads through, so that the encrypted integration store (the
 * runners-and-security work) replaces the file-based one without touching them.
 */
export interface Integrations {
  /** The integration's fields, or undefined when there is no integration of that name. */
  get(name: string): Promise<IntegrationFields | undefined>;
}

/** The directory of integration files in the embedded server's data directory. */
export const INTEGRATIONS_DIR = "integrations";

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** An integration file larger than this is refused (a key or a few tokens, not data). */
const MAX_BYTES = 64 * 1024;

/**
 * Integrations kept as files: `<dir>/<name>.json`, one JSON object of string fields each, owner-only
 * (a file that group or others can read is refused, as ssh refuses a readable key). The embedded
 * server's directory is `<data dir>/integrations`. Read at each call: an edited file counts at once.
 */
export function fileIntegrations(dir: string): Integrations {
  return {
    async get(name) {
      if (!NAME.test(name)) return undefined;
      const path = join(dir, `${name}.json`);
      let mode: number;
      let size: number;
      try {
        ({ mode, size } = await stat(path));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      if ((mode & 0o077) !== 0)
        throw new CausewayError(
          "INTEGRATION_INVALID",
          `the integration file ${path} can be read by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
        );
      if (size > MAX_BYTES)
        throw new CausewayError("INTEGRATION_INVALID", `the integration file ${path} is over ${MAX_BYTES} bytes`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(path, "utf8"));
      } catch (error) {
        throw new CausewayError(
          "INTEGRATION_INVALID",
          `the integration file ${path} is not JSON: ${(error as Error).message}`,
        );
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
        throw new CausewayError("INTEGRATION_INVALID", `the integration file ${path} must hold one JSON object`);
      const fields: Record<string, string> = {};
      for (const [key, value] of Object.entries(parsed)) {
        if (typeof value !== "string")
          throw new CausewayError(
            "INTEGRATION_INVALID",
            `the integration file ${path}: field ${JSON.stringify(key)} must be a string`,
          );
        fields[key] = value;
      }
      return fields;
    },
  };
}

/**
 * The integration store: the encrypted `secrets` of the store (`causeway secret set`) first, then
 * the legacy owner-only files of `<data>/integrations/` (read at each call, as before), so lines
 * and data directories written before the store keep working. A name in both is the store's.
 */
export function storeIntegrations(store: Store, legacy: Integrations): Integrations {
  return {
    async get(name) {
      return (await store.read.getSecret(name)) ?? legacy.get(name);
    },
  };
}

/**
 * The engine's port to the values of integrations (for redacting consoles). Never throws: an
 * integration that cannot be read leaves nothing to redact, and the run that needs it fails in
 * the runner with the reason.
 */
export function integrationSecrets(integrations: Integrations): SecretsPort {
  return {
    async valuesOf(names) {
      const all = await Promise.all(names.map((name) => integrations.get(name).catch(() => undefined)));
      return all.flatMap((fields) => (fields === undefined ? [] : Object.values(fields)));
    },
  };
}
