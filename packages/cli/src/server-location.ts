import { readFile, stat } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { CausewayError, usageError } from "@causeway/core";
import { ServerInfoSchema } from "@causeway/protocol";
import type { ServerTarget } from "./client.js";

/** The data directory when neither `--data` nor a server URL is given. */
export const DEFAULT_DATA_DIR = ".causeway";
const INFO_FILE = "server.json";

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
 * for the token; otherwise the `server.json` written by `causeway up` in `--data DIR`, or else in
 * the nearest `.causeway/` of the current directory or one of its parents (as git finds `.git`),
 * so commands work from where `causeway up` was started and from the line's own directory below
 * it. A token in `server.json` is used with an explicit URL only when the URLs match. The target
 * says where its token came from, for the hint of a 401.
 */
export async function locateServer(
  options: LocateOptions,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<ServerTarget> {
  const url = nonEmpty(options.server) ?? nonEmpty(env.CAUSEWAY_SERVER);
  const flagToken = nonEmpty(options.token);
  const token = flagToken ?? nonEmpty(env.CAUSEWAY_TOKEN);
  const tokenFrom = flagToken !== undefined ? "--token" : token !== undefined ? "CAUSEWAY_TOKEN" : undefined;
  if (url !== undefined) {
    checkUrl(url);
    if (token !== undefined) return { url, token, ...(tokenFrom === undefined ? {} : { tokenFrom }) };
    const file = options.data === undefined ? await findInfoFile(cwd) : join(resolve(cwd, options.data), INFO_FILE);
    const info = file === undefined ? undefined : await readInfo(file).catch(() => undefined);
    return info !== undefined && file !== undefined && sameUrl(info.url, url)
      ? { url, token: info.token, tokenFrom: file, infoFile: file }
      : { url, token: undefined };
  }
  const dataDir = options.data === undefined ? undefined : resolve(cwd, options.data);
  const file = dataDir === undefined ? await findInfoFile(cwd) : join(dataDir, INFO_FILE);
  if (file === undefined || !(await isFile(file))) throw noServer(cwd, dataDir);
  const info = await readInfo(file);
  return { url: info.url, token: token ?? info.token, tokenFrom: tokenFrom ?? file, infoFile: file };
}

/** The nearest `.causeway/server.json` at or above `cwd`, if any. */
async function findInfoFile(cwd: string): Promise<string | undefined> {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const file = join(dir, DEFAULT_DATA_DIR, INFO_FILE);
    if (await isFile(file)) return file;
    if (dirname(dir) === dir) return undefined;
  }
}

function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

function noServer(cwd: string, dataDir: string | undefined): CausewayError {
  const shown = (path: string): string => relative(cwd, path) || ".";
  const message =
    dataDir === undefined
      ? `no server found: no ${DEFAULT_DATA_DIR}/${INFO_FILE} in ${resolve(cwd)} or any directory above it`
      : `no server found: ${join(shown(dataDir), INFO_FILE)} does not exist`;
  return new CausewayError("SERVER_UNREACHABLE", message, {
    hint:
      "start one with `causeway up DIR` (or `npm start`): it writes .causeway/server.json in the directory it " +
      "is started from, which commands find from there and from any directory below; or pass --data DIR, " +
      "--server URL (or set CAUSEWAY_SERVER)",
  });
}

async function readInfo(file: string): Promise<{ url: string; token: string }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CausewayError("SERVER_UNREACHABLE", `no server found: ${file} cannot be read`, {
      hint: "start it with `causeway up`, or pass --server URL / --data DIR (or set CAUSEWAY_SERVER)",
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
    throw new CausewayError("SERVER_UNREACHABLE", `${file} is not a server.json written by causeway up`, {
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
    throw usageError(`the server URL must be an http(s) URL, got ${url}`);
}

function sameUrl(a: string, b: string): boolean {
  const norm = (u: string): string => u.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  return norm(a) === norm(b);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
