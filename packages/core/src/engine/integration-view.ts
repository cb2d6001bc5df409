import { envPrefix } from "../language/env-prefix.js";
import { isEnvName } from "./env.js";
import { envKey, envVars } from "./env-values.js";

/** A file an integration puts in a run's workspace: always owner-only (0600). */
export interface IntegrationFile {
  /** The file's name inside the integration's directory. */
  readonly name: string;
  readonly content: string;
}

/**
 * What a job sees of one integration (shippable.md §4.4): variables holding secret values, which
 * travel only in the task's process environment; variables naming files, which may be written
 * anywhere; and the files of its directory (`IN/<name>/` or `$JOB_INTEGRATIONS/<name>/`).
 */
export interface IntegrationView {
  /** `<N>_INTEGRATION_<FIELD>` of every field. */
  readonly secretEnv: Readonly<Record<string, string>>;
  /** Fields under their raw names (a key-value integration acts as encrypted params); the platform's variables win. */
  readonly rawEnv: Readonly<Record<string, string>>;
  /** `<N>_PRIVATE_KEY_PATH`, `<N>_PUBLIC_KEY_PATH`, `<N>_KEYPATH`: paths, not secrets. */
  readonly pathEnv: Readonly<Record<string, string>>;
  readonly files: readonly IntegrationFile[];
  /**
   * A git credential integration (`host`, `username`, `password` fields): the path of its
   * credential store file (`<name>_git-credentials`, in git's `store` format), which the runner
   * gives git as a credential helper (`gitCredentialConfig`). Undefined for other integrations.
   */
  readonly gitCredentials: string | undefined;
}

/** The field that makes an integration an SSH key (`<name>_key`, `<name>_key.pub`). */
export const SSH_PRIVATE_KEY_FIELD = "privateKey";
/** The public half of an SSH key integration. */
export const SSH_PUBLIC_KEY_FIELD = "publicKey";
/** The field that makes an integration a PEM key (`<name>_key.pem`). */
export const PEM_KEY_FIELD = "pemKey";
/** The fields that make an integration a git credential (Shippable's "Git Credential"); `port` is optional. */
export const GIT_CREDENTIAL_FIELDS = ["host", "username", "password"] as const;

/** `"value"` as a double-quoted shell word: `$`, backquote, `"` and `\` escaped. */
function shellQuoted(value: string): string {
  return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/**
 * The view of an integration's `fields` for `dependencyName` (an IN's name, or the integration's
 * own for a job-level one: it gives the env prefix and the key files' names), whose directory is
 * `dir`. `integration.json` holds every field, `integration.env` `KEY="value"`
 * lines (fields whose name is not a variable name are written under their `envKey`); a
 * `privateKey` field makes `<name>_key` (and `publicKey` `<name>_key.pub`), a `pemKey` field
 * `<name>_key.pem`. Pure: the runner writes the files, owner-only.
 */
export function integrationView(
  dependencyName: string,
  fields: Readonly<Record<string, string>>,
  dir: string,
): IntegrationView {
  const n = envPrefix(dependencyName);
  const secretEnv = envVars();
  const rawEnv = envVars();
  const pathEnv = envVars();
  const envLines: string[] = [];
  for (const [field, value] of Object.entries(fields)) {
    const key = envKey(field);
    if (key !== "") secretEnv[`${n}_INTEGRATION_${key}`] = value;
    if (isEnvName(field)) rawEnv[field] = value;
    const line = isEnvName(field) ? field : key;
    if (line !== "" && isEnvName(line)) envLines.push(`${line}=${shellQuoted(value)}`);
  }
  const files: IntegrationFile[] = [
    { name: "integration.json", content: `${JSON.stringify(fields, null, 2)}\n` },
    { name: "integration.env", content: envLines.map((l) => `${l}\n`).join("") },
  ];
  const privateKey = fields[SSH_PRIVATE_KEY_FIELD];
  if (privateKey !== undefined) {
    files.push({ name: `${dependencyName}_key`, content: withNewline(privateKey) });
    pathEnv[`${n}_PRIVATE_KEY_PATH`] = `${dir}/${dependencyName}_key`;
    pathEnv[`${n}_KEYPATH`] = `${dir}/${dependencyName}_key`;
    const publicKey = fields[SSH_PUBLIC_KEY_FIELD];
    if (publicKey !== undefined) {
      files.push({ name: `${dependencyName}_key.pub`, content: withNewline(publicKey) });
      pathEnv[`${n}_PUBLIC_KEY_PATH`] = `${dir}/${dependencyName}_key.pub`;
    }
  }
  const pem = fields[PEM_KEY_FIELD];
  if (pem !== undefined) {
    files.push({ name: `${dependencyName}_key.pem`, content: withNewline(pem) });
    pathEnv[`${n}_KEYPATH`] = `${dir}/${dependencyName}_key.pem`;
  }
  const credential = gitCredentialLine(fields);
  const gitCredentials = credential === undefined ? undefined : `${dir}/${dependencyName}_git-credentials`;
  if (credential !== undefined) files.push({ name: `${dependencyName}_git-credentials`, content: credential });
  return { secretEnv, rawEnv, pathEnv, files, gitCredentials };
}

/**
 * The line of git's credential store (`git help credential-store`) for an integration with the
 * git credential fields: `https://<username>:<password>@<host>[:<port>]`, user and password
 * percent-encoded. Undefined when a field is missing or the host is not a bare host name.
 */
function gitCredentialLine(fields: Readonly<Record<string, string>>): string | undefined {
  const [host, user, password] = GIT_CREDENTIAL_FIELDS.map((f) => fields[f]);
  if (host === undefined || user === undefined || password === undefined) return undefined;
  const port = fields.port;
  if (!/^[A-Za-z0-9.-]+$/.test(host) || (port !== undefined && !/^[0-9]{1,5}$/.test(port))) return undefined;
  const enc = (text: string): string => encodeURIComponent(text);
  return `https://${enc(user)}:${enc(password)}@${host}${port === undefined ? "" : `:${port}`}\n`;
}

/**
 * The environment that gives git the credential store files `paths` as credential helpers
 * (`GIT_CONFIG_COUNT`, `GIT_CONFIG_KEY_<i>`, `GIT_CONFIG_VALUE_<i>`: configuration of this
 * process tree only, nothing written to the user's git configuration). Paths, not secrets.
 */
export function gitCredentialConfig(paths: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  if (paths.length === 0) return env;
  env.GIT_CONFIG_COUNT = String(paths.length);
  paths.forEach((path, i) => {
    env[`GIT_CONFIG_KEY_${i}`] = "credential.helper";
    env[`GIT_CONFIG_VALUE_${i}`] = `store --file=${path}`;
  });
  return env;
}

// ssh refuses a key without its final newline.
function withNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
