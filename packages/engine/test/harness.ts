import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPipeline, type Run } from "@causeway/core";
import { createEmbeddedRunner, passthroughEnv } from "@causeway/runner";
import { openSqliteStore, type SqliteStores } from "@causeway/store";
import { Engine } from "../src/index.js";

/** A real engine on a real SQLite store and the real embedded runner, in a temp dir. */
export interface Harness {
  readonly engine: Engine;
  readonly stores: SqliteStores;
  readonly dir: string;
  /** Loads YAML text as the line and applies it; throws on an error diagnostic. */
  apply(yaml: string): Promise<void>;
  /** Runs of a job, oldest first. */
  runs(job: string): Promise<Run[]>;
  /** The log of a run as text. */
  log(runId: number): Promise<string>;
  close(): Promise<void>;
}

export async function makeHarness(
  options: { slots?: number; applyHistory?: number; onOutbox?: () => void } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), "causeway-engine-"));
  const stores = await openSqliteStore({ dataDir: join(dir, "data") });
  const runner = createEmbeddedRunner({
    workDir: join(dir, "work"),
    blobs: stores.blobs,
    env: passthroughEnv(process.env),
    cancelGraceMs: 200,
    // The store's integration store, as the server composes it.
    integrations: (name) => stores.store.read.getSecret(name),
    // Tasks of these tests wait on gate files outside their workspaces: no sandbox (it hides
    // them; its own tests are in packages/runner and packages/server).
    sandbox: "off",
  });
  const engine = new Engine({
    ...stores,
    runner,
    options: {
      slots: options.slots ?? 2,
      ...(options.applyHistory === undefined ? {} : { applyHistory: options.applyHistory }),
      ...(options.onOutbox === undefined ? {} : { onOutbox: options.onOutbox }),
    },
  });
  await engine.start();
  return {
    engine,
    stores,
    dir,
    async apply(yaml) {
      const result = loadPipeline([{ path: "causeway.yml", text: yaml }]);
      const errors = result.diagnostics.filter((d) => d.severity === "error");
      if (errors.length > 0) throw new Error(`line has errors: ${JSON.stringify(errors, null, 2)}`);
      await engine.apply(result.pipeline);
    },
    async runs(job) {
      return (await stores.store.read.listRuns({ job })).reverse();
    },
    async log(runId) {
      return new TextDecoder().decode(await stores.logs.read(runId));
    },
    async close() {
      await engine.stop();
      await stores.store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value, or fails after `ms`. Never a fixed sleep. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
