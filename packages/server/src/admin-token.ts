import { readFile } from "node:fs/promises";
import { BOOTSTRAP_TOKEN_NAME, CausewayError, tokenStanding } from "@causeway/core";
import { ServerInfoSchema } from "@causeway/protocol";
import type { TokenAuth } from "./auth.js";
import type { Logger } from "./logger.js";

/**
 * The admin token of `causeway up` (docs/api.md "Authentication"): the secret the server writes
 * to `<data>/server.json`, which the CLI reads. Its secret is kept only there (the database has
 * its hash), so it survives restarts through that file:
 *
 * - server.json holds an active admin token of this data directory: it is used again;
 * - there is no live token named `admin` (a first start, or it was revoked): one is created;
 * - there is one, but server.json does not hold it (deleted, or from elsewhere): the start is
 *   refused with `ADMIN_TOKEN_LOST`, unless `renew` (`--new-admin-token`) revokes it and
 *   creates a new one. Revoking a token someone may use elsewhere is never done silently.
 */
export async function adminSecret(
  auth: TokenAuth,
  infoPath: string,
  options: { readonly renew: boolean; readonly logger: Logger; readonly now?: Date },
): Promise<string> {
  const now = options.now ?? new Date();
  const previous = await infoToken(infoPath);
  if (!options.renew && previous !== undefined) {
    const token = await auth.find(previous);
    if (token?.role === "admin" && tokenStanding(token, now) === "active") return previous;
  }
  const live = (await auth.list()).find((t) => t.name === BOOTSTRAP_TOKEN_NAME && t.revokedAt === null);
  if (live !== undefined) {
    if (!options.renew && tokenStanding(live, now) === "active") {
      throw new CausewayError(
        "ADMIN_TOKEN_LOST",
        `${infoPath} does not hold the admin token of this data directory, which is stored only there`,
        {
          hint: "start with --new-admin-token to revoke the token named admin and write a new one to server.json",
        },
      );
    }
    await auth.revoke(BOOTSTRAP_TOKEN_NAME, "system");
  }
  const made = await auth.create({ name: BOOTSTRAP_TOKEN_NAME, role: "admin", by: "system" });
  options.logger.info(
    `created the admin API token (named ${BOOTSTRAP_TOKEN_NAME}) in ${infoPath}: the CLI finds it there, from this ` +
      `directory and below; give other people tokens of their own with: causeway token create --role viewer|operator|admin --name NAME`,
    { event: "admin-token", path: infoPath },
  );
  return made.secret;
}

/** The token of an existing server.json, if it has one. */
async function infoToken(path: string): Promise<string | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = ServerInfoSchema.safeParse(value);
  return parsed.success ? parsed.data.token : undefined;
}
