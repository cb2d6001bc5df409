import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ServerInfoSchema } from "@causeway/protocol";
import { CliError } from "./cli-error.js";
import type { ServerTarget } from "./client.js";
import { UsageError } from "./usage-error.js";

/** The data directory when neither `--data` nor a server URL is given. */
export const DEFAULT_DATA_DIR = ".causeway";

/** How a command was told where the server is. */
export interface LocateOptions {
  /** `--server URL`. */
  readonly server?: string;
  /** `--token TOKEN`. */
  readonly token?: string;
  /** `--data DIR`: where to find `server.json`. */
  readonly data?: string;
}

/**
 * Finds the server: `--server` or `CAUSEWAY_SERVER` for the URL, `--token` or `CAUSEWAY_TOKEN`
 * for the token; otherwise `<--data DIR or ./.causeway>/server.json`, written by `causeway up`.
 * A token in `server.json` is used with an explicit URL only when the URLs match.
 */
export async function locateServer(
  options: LocateOptions,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<ServerTarget> {
  const url = nonEmpty(options.server) ?? nonEmpty(env.CAUSEWAY_SERVER);
  const token = nonEmpty(options.token) ?? nonEmpty(env.CAUSEWAY_TOKEN);
  const file = join(resolve(cwd, options.data ?? DEFAULT_DATA_DIR), "server.json");
  if (url !== undefined) {
    checkUrl(url);
    if (token !== undefined) return { url, token };
    const info = await readInfo(file).catch(() => undefined);
    return { url, token: info !== undefined && sameUrl(info.url, url) ? info.token : undefined };
  }
  const info = await readInfo(file);
  return { url: info.url, token: token ?? info.token };
}

async function readInfo(file: string): Promise<{ url: string; token: string }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CliError("SERVER_UNREACHABLE", `no server found: ${file} does not exist`, {
      hint: "start it with `causeway up` in this directory, or pass --server URL / --data DIR (or set CAUSEWAY_SERVER)",
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const parsed = ServerInfoSchema.safeParse(value);
  if (!parsed.success)
    throw new CliError("SERVER_UNREACHABLE", `${file} is not a server.json written by causeway up`, {
      hint: "delete it and start the server again with `causeway up`",
    });
  return parsed.data;
}

function checkUrl(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:"))
    throw new UsageError(`the server URL must be an http(s) URL, got ${url}`);
}

function sameUrl(a: string, b: string): boolean {
  const norm = (u: string): string => u.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  return norm(a) === norm(b);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
