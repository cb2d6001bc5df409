import {
  CausewayError,
  envVars,
  gitCredentialConfig,
  integrationOf,
  integrationView,
  type IntegrationFile,
  type RunSpec,
} from "@causeway/core";
import { mkdirSync, writeFileSync } from "node:fs";
import { checkDirName } from "./workspace.js";

/** Reads an integration's fields by name (`EmbeddedRunnerOptions.integrations`). */
export type IntegrationReader = (name: string) => Promise<Readonly<Record<string, string>> | undefined>;

/** An integration a run uses, with its fields, and where the job sees it. */
interface Resolved {
  /** The IN's name, or the integration's for a job-level one (the env prefix and the key files' names). */
  readonly name: string;
  /** `IN/<name>` of the dependency, or `integrations/<name>` under the workspace. */
  readonly relDir: string;
  /** Whether the fields are also exported under their raw names (an IN: key-value pairs act as params). */
  readonly raw: boolean;
  readonly fields: Readonly<Record<string, string>>;
}

/** What a run's integrations give it, once the workspace's root is known. */
export interface RunIntegrations {
  /** Variables holding values: only in the tasks' process environment, never in a file. */
  readonly secret: Record<string, string>;
  /** Fields under their raw names, for the variables the run does not set otherwise (also secret). */
  readonly raw: Record<string, string>;
  /** Variables naming key files: part of the script's environment. */
  readonly paths: Record<string, string>;
  /** Writes the files (`integration.json`, `integration.env`, keys), owner-only. */
  writeFiles(): void;
}

/**
 * Reads the fields of every integration the run uses (each IN's integration, the job's
 * `integrations:`). A missing one fails the run with its name and the command that stores it.
 */
export async function resolveIntegrations(spec: RunSpec, read: IntegrationReader | undefined): Promise<Resolved[]> {
  const wanted: { name: string; relDir: string; raw: boolean; integration: string; required: boolean }[] = [];
  for (const dep of spec.dependencies) {
    const integration = dep.operation === "IN" ? integrationOf(dep) : undefined;
    // A gitRepo's integration holds the credentials its clone uses (git.ts); an IN of any
    // other type shows its integration to the job.
    if (integration === undefined || dep.type === "gitRepo") continue;
    // An `integration` resource stands for its secret: without it the run cannot go on. The
    // integration of another type (an image's registry login) is shown when it is stored.
    const required = dep.type === "integration";
    wanted.push({ name: dep.name, relDir: `IN/${dep.name}`, raw: true, integration, required });
  }
  for (const integration of spec.job.integrations) {
    checkDirName("integration", integration);
    wanted.push({ name: integration, relDir: `integrations/${integration}`, raw: false, integration, required: true });
  }
  if (wanted.length === 0) return [];
  const found = await Promise.all(
    wanted.map(async (w) => {
      const fields = await read?.(w.integration);
      if (fields === undefined) {
        if (!w.required) return undefined;
        throw new CausewayError(
          "SECRET_NOT_FOUND",
          `integration ${JSON.stringify(w.integration)} (used by ${w.relDir.startsWith("IN/") ? `IN ${w.name}` : "the job's integrations:"}) is not in the integration store: store it with \`causeway secret set ${w.integration} --field KEY=VALUE\``,
        );
      }
      return { name: w.name, relDir: w.relDir, raw: w.raw, fields };
    }),
  );
  return found.filter((r) => r !== undefined);
}

/** The variables and files of the resolved integrations, in the workspace at `root`. */
export function runIntegrations(root: string, resolved: readonly Resolved[]): RunIntegrations {
  const secret = envVars();
  const raw = envVars();
  const paths = envVars();
  const files: { dir: string; file: IntegrationFile }[] = [];
  const gitCredentials: string[] = [];
  // Job-level ones first: an IN's variables win over a job-level integration of the same prefix.
  for (const r of [...resolved].sort((a, b) => Number(a.raw) - Number(b.raw))) {
    const dir = `${root}/${r.relDir}`;
    const view = integrationView(r.name, r.fields, dir);
    Object.assign(secret, view.secretEnv);
    if (r.raw) Object.assign(raw, view.rawEnv);
    Object.assign(paths, view.pathEnv);
    for (const file of view.files) files.push({ dir, file });
    if (view.gitCredentials !== undefined) gitCredentials.push(view.gitCredentials);
  }
  // git asks every credential helper in turn: each git credential integration is one.
  Object.assign(paths, gitCredentialConfig(gitCredentials));
  return {
    secret,
    raw,
    paths,
    writeFiles() {
      for (const { dir, file } of files) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        // `wx`: a file already there (a name two integrations share) is never overwritten.
        writeFileSync(`${dir}/${file.name}`, file.content, { mode: 0o600, flag: "wx" });
      }
    },
  };
}
