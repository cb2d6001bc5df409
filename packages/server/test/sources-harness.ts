import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPipeline, type Version } from "@causeway/core";
import { Engine } from "@causeway/engine";
import { createEmbeddedRunner, passthroughEnv } from "@causeway/runner";
import { openSqliteStore, type SqliteStores } from "@causeway/store";
import type { SourceTimers } from "../src/sources/version-source.js";
import { waitFor } from "./helpers.js";

/**
 * A clock and timers that move only when the test says: `advanceTo` fires each timer due on
 * the way, at its own time, and waits for the watch it woke to set its next timer.
 */
export class ManualTimers implements SourceTimers {
  #now: number;
  #next = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start: string) {
    this.#now = Date.parse(start);
  }

  now(): Date {
    return new Date(this.#now);
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Timers set and not fired. */
  get pending(): number {
    return this.#timers.size;
  }

  /** When the earliest timer is due, as an ISO time; undefined when none is set. */
  nextAt(): string | undefined {
    let at: number | undefined;
    for (const timer of this.#timers.values()) if (at === undefined || timer.at < at) at = timer.at;
    return at === undefined ? undefined : new Date(at).toISOString();
  }

  /** Fires the earliest timer at its time (and waits for the watch to set its next one). */
  async fireNext(): Promise<void> {
    const at = this.nextAt();
    if (at !== undefined) await this.advanceTo(at);
  }

  /** Moves the clock without firing anything (a server that was down). */
  jumpTo(to: string): void {
    this.#now = Date.parse(to);
  }

  /** Moves the clock to `to`, firing every timer due on the way at its time, in order. */
  async advanceTo(to: string): Promise<void> {
    const target = Date.parse(to);
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) if (first === undefined || entry[1].at < first[1].at) first = entry;
      if (first === undefined || first[1].at > target) break;
      const [id, { at, fn }] = first;
      const others = this.#timers.size - 1;
      this.#timers.delete(id);
      this.#now = Math.max(this.#now, at);
      fn();
      await waitFor("the woken watch to set its next timer", () => this.#timers.size > others);
    }
    this.#now = Math.max(this.#now, target);
  }
}

/** A real engine on a real SQLite store, whose clock is `timers`. */
export interface SourcesHarness {
  readonly engine: Engine;
  readonly stores: SqliteStores;
  readonly dir: string;
  /** Applies YAML as the line, errors and all (an invalid object is loaded inconsistent). */
  apply(yaml: string): Promise<void>;
  versions(name: string): Promise<Version[]>;
  close(): Promise<void>;
}

export async function sourcesHarness(timers: SourceTimers, dir?: string): Promise<SourcesHarness> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), "causeway-sources-")));
  const clock = { now: () => timers.now() };
  const stores = await openSqliteStore({ dataDir: join(root, "data"), clock });
  const runner = createEmbeddedRunner({
    workDir: join(root, "work"),
    blobs: stores.blobs,
    env: passthroughEnv(process.env),
    cancelGraceMs: 200,
    // Tasks may wait on files outside their workspaces: no sandbox (sandbox.test.ts has its own).
    sandbox: "off",
  });
  const engine = new Engine({ ...stores, runner, clock, options: { slots: 2 } });
  await engine.start();
  return {
    engine,
    stores,
    dir: root,
    async apply(yaml) {
      await engine.apply(loadPipeline([{ path: "causeway.yml", text: yaml }]).pipeline);
    },
    async versions(name) {
      return (await stores.store.read.listVersions(name, 1000)).reverse();
    },
    async close() {
      await engine.stop();
      runner.close();
      await stores.store.close();
      if (dir === undefined) await rm(root, { recursive: true, force: true });
    },
  };
}
