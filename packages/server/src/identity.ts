import { readFile, stat } from "node:fs/promises";
import { CausewayError, impliedRoles, type ApiToken, type Identity } from "@causeway/core";

export type { Identity } from "@causeway/core";

/**
 * Who a request comes from: the one seam of identities. A request's identity is its API token's
 * (auth.ts): the token's name, the roles its role implies, and the groups of that name. An
 * admin token may act for a person it names in `X-Causeway-User` (what `causeway --as NAME` or
 * `$USER` sends): claimed by the admin, not authenticated. Any other token's identity is its
 * own name, and the header is ignored (the CLI sends `$USER` on every request).
 */

/** The header a client names its person in. */
export const USER_HEADER = "X-Causeway-User";

/** The groups file of the data directory: `{"ops": ["alice", "bob"]}`. */
export const GROUPS_FILE = "groups.json";

/** A groups file larger than this is refused (names, not data). */
const MAX_GROUPS_BYTES = 256 * 1024;

const MAX_NAME = 200;

/** The name a request claims in `X-Causeway-User`, checked; undefined when it claims none. */
export function claimedUser(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const name = header.trim();
  if (name.length === 0 || name.length > MAX_NAME || [...name].some((ch) => ch < " " || ch === "\x7f")) {
    throw new CausewayError(
      "IDENTITY_INVALID",
      `${USER_HEADER} must be a name of 1 to ${MAX_NAME} characters without control characters`,
      { hint: "pass a plain name with --as NAME" },
    );
  }
  return name;
}

/**
 * The name a change is recorded under: for an admin token, the name claimed in the header, else
 * `fromBody` (the `user` of older clients), else the token's name; for any other token, its name.
 */
export function actorName(token: ApiToken | undefined, header: string | undefined, fromBody?: string): string {
  if (token === undefined) return "anonymous";
  if (token.role !== "admin") return token.name;
  return claimedUser(header) ?? fromBody ?? token.name;
}

/**
 * Who a request comes from, for decisions that depend on it (approval gates): its name
 * (`actorName`), the roles its token's role implies (an admin is also an operator and a
 * viewer), and the groups `groupsFile` gives the name (none when there is no file). The file is
 * read at each call, so an edit counts at once.
 */
export async function identify(
  token: ApiToken | undefined,
  header: string | undefined,
  groupsFile: string | undefined,
): Promise<Identity> {
  const name = actorName(token, header);
  const groups = groupsFile === undefined ? {} : await readGroups(groupsFile);
  const memberOf = Object.entries(groups)
    .filter(([, members]) => members.includes(name))
    .map(([group]) => group);
  return { name, roles: [...(token === undefined ? [] : impliedRoles(token.role)), ...memberOf] };
}

/**
 * The groups of a groups file (`{"group": ["name", ...]}`); `{}` when there is none. A file that
 * other users can read or write, or that is not of that form, is `GROUPS_INVALID`: it decides
 * who may approve, so it is owner-only, as integration files are.
 */
export async function readGroups(path: string): Promise<Record<string, string[]>> {
  let mode: number;
  let size: number;
  let uid: number;
  let file: boolean;
  try {
    const info = await stat(path);
    ({ mode, size, uid } = info);
    file = info.isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  const invalid = (why: string): CausewayError =>
    new CausewayError("GROUPS_INVALID", `the groups file ${path} ${why}`, {
      hint: `correct it, or remove it for no groups`,
    });
  if (!file) throw invalid("is not a regular file");
  if ((mode & 0o077) !== 0 || (process.getuid !== undefined && uid !== process.getuid())) {
    throw invalid(
      `must belong to the server's user and be owner-only (mode ${(mode & 0o777).toString(8)}; chmod 600 it)`,
    );
  }
  if (size > MAX_GROUPS_BYTES) throw invalid(`is over ${MAX_GROUPS_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw invalid(`is not JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw invalid(`must hold one JSON object of groups, {"ops": ["alice", "bob"]}`);
  }
  const groups: Record<string, string[]> = {};
  for (const [group, members] of Object.entries(parsed)) {
    if (!Array.isArray(members) || members.some((m) => typeof m !== "string")) {
      throw invalid(`gives group ${JSON.stringify(group)} something other than a list of names`);
    }
    groups[group] = members as string[];
  }
  return groups;
}
