import {
  CausewayError,
  httpStatusOf,
  loadManifest,
  runIntegrations,
  type BlobStore,
  type RunResult,
  type RunSpec,
  type RunnerRecord,
} from "@causeway/core";
import type { AttemptFinish, HeartbeatAnswer, RunnerClaim, RunnerJson, RunnerSession } from "@causeway/protocol";
import { RunnerAgent, ServerRefusal, type EmbeddedRunner, type RunnerTransport } from "@causeway/runner";
import type { Integrations } from "../integrations.js";
import type { RunnerHub } from "./hub.js";

const SHA = /^[0-9a-f]{64}$/;

/** The blobs a run may read, by its spec: its inputs' state archives and, once read, their files. */
const readable = new WeakMap<RunSpec, { roots: Set<string>; files: Set<string> | undefined }>();

/**
 * FORBIDDEN_ROLE unless `sha` is the state archive of one of the run's inputs (or its previous
 * state), or a file of one: a job token reads its own inputs, nothing else of the blob store.
 */
export async function checkReadableBlob(
  spec: RunSpec | undefined,
  runId: number,
  sha: string,
  blobs: BlobStore,
): Promise<void> {
  const refuse = (): CausewayError =>
    new CausewayError("FORBIDDEN_ROLE", `run ${runId} has no blob ${sha} among its inputs`);
  if (spec === undefined || !SHA.test(sha)) throw refuse();
  let known = readable.get(spec);
  if (known === undefined) {
    const roots = new Set<string>();
    if (spec.previousStateSha) roots.add(spec.previousStateSha);
    for (const dep of spec.dependencies) if (dep.version?.stateSha) roots.add(dep.version.stateSha);
    known = { roots, files: undefined };
    readable.set(spec, known);
  }
  if (known.roots.has(sha)) return;
  if (known.files === undefined) {
    const files = new Set<string>();
    for (const root of known.roots) {
      const manifest = await loadManifest(blobs, root).catch(() => undefined);
      for (const entry of manifest?.files ?? []) files.add(entry.sha);
    }
    known.files = files;
  }
  if (!known.files.has(sha)) throw refuse();
}

/** FORBIDDEN_ROLE unless the run's job uses the integration. */
export function checkIntegration(spec: RunSpec | undefined, runId: number, name: string): void {
  if (spec === undefined || !runIntegrations(spec).includes(name)) {
    throw new CausewayError("FORBIDDEN_ROLE", `run ${runId} does not use the integration ${name}`);
  }
}

/**
 * The runner protocol without the network, for the server's embedded runner: the same agent
 * as a remote runner's (`RunnerAgent`), calling the hub directly. A cancel is pushed at once,
 * console bytes go straight to the run's log (no spool file), and nothing of the runner or its
 * claims is stored (it dies with the server). Refusals are the ServerRefusals of the HTTP API.
 */
export class InProcessTransport implements RunnerTransport {
  readonly #hub: RunnerHub;
  readonly #record: RunnerRecord;
  readonly #blobs: BlobStore;
  readonly #integrations: Integrations | undefined;
  readonly inProcess: RunnerTransport["inProcess"];

  constructor(hub: RunnerHub, record: RunnerRecord, blobs: BlobStore, integrations?: Integrations) {
    this.#hub = hub;
    this.#record = record;
    this.#blobs = blobs;
    this.#integrations = integrations;
    this.inProcess = { onCancel: (token, listener) => hub.onCancel(token, listener) };
  }

  session(): Promise<RunnerSession> {
    return refused(async () => ({
      session: this.#record.session as string,
      runner: (await this.#hub.runnerJson(this.#record.name)) as RunnerJson,
      settings: this.#hub.settings,
    }));
  }

  claim(session: string, _free: number, signal: AbortSignal): Promise<RunnerClaim | undefined> {
    return refused(async () => {
      const claimed = await this.#hub.claim(this.#record, session, signal);
      if (claimed === undefined) return undefined;
      const { runId, epoch, jobToken, spec } = claimed;
      return { runId, epoch, jobToken, spec: spec as unknown as Record<string, unknown> };
    });
  }

  start(token: string, runId: number, epoch: number): Promise<void> {
    return refused(() => Promise.resolve(this.#hub.start(this.#hub.attempt(token, runId, epoch))));
  }

  heartbeat(token: string, runId: number, epoch: number): Promise<HeartbeatAnswer> {
    return refused(() => Promise.resolve(this.#hub.heartbeat(this.#hub.attempt(token, runId, epoch))));
  }

  log(token: string, runId: number, epoch: number, offset: number, bytes: Uint8Array): Promise<number> {
    return refused(() => this.#hub.log(this.#hub.attempt(token, runId, epoch), offset, bytes));
  }

  finish(token: string, runId: number, body: AttemptFinish): Promise<void> {
    return refused(() =>
      this.#hub.finish(this.#hub.attempt(token, runId, body.epoch, true), body.logBytes, body.result as RunResult),
    );
  }

  getBlob(token: string, runId: number, epoch: number, sha: string): Promise<Uint8Array | undefined> {
    return refused(async () => {
      await checkReadableBlob(this.#hub.specOf(this.#hub.attempt(token, runId, epoch)), runId, sha, this.#blobs);
      return this.#blobs.get(sha);
    });
  }

  putBlob(token: string, runId: number, epoch: number, bytes: Uint8Array): Promise<string> {
    return refused(() => {
      this.#hub.attempt(token, runId, epoch);
      return this.#blobs.put(bytes);
    });
  }

  integration(
    token: string,
    runId: number,
    epoch: number,
    name: string,
  ): Promise<Readonly<Record<string, string>> | undefined> {
    return refused(async () => {
      checkIntegration(this.#hub.specOf(this.#hub.attempt(token, runId, epoch)), runId, name);
      return this.#integrations?.get(name);
    });
  }
}

/** A catalog error as the HTTP API would answer it. */
async function refused<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CausewayError) {
      throw new ServerRefusal(httpStatusOf(error.code), error.code, error.message, error.details);
    }
    throw error;
  }
}

/** The server's embedded runner: `runner` behind the runner agent, on the in-process transport. */
export interface EmbeddedAgent {
  /** Takes no more work and resolves when its runs are reported (after the engine's stop). */
  stop(): Promise<void>;
}

/** Starts the embedded runner as a runner of the hub, with `slots` slots, in pool `default`. */
export async function startEmbeddedAgent(options: {
  readonly hub: RunnerHub;
  readonly runner: EmbeddedRunner;
  readonly slots: number;
  readonly blobs: BlobStore;
  readonly integrations?: Integrations;
  readonly name?: string;
}): Promise<EmbeddedAgent> {
  const record = options.hub.embed(options.name ?? "embedded", options.slots);
  const agent = new RunnerAgent({
    client: new InProcessTransport(options.hub, record, options.blobs, options.integrations),
    runner: options.runner,
    capacity: options.slots,
    labels: [],
  });
  await agent.start();
  return { stop: () => agent.drain() };
}
