import {
  APPLY_HISTORY_LIMIT,
  type BlobStore,
  type Clock,
  type EngineEvent,
  type LogStore,
  type RunnerPort,
  type SecretsPort,
  type Store,
  type StoreTx,
} from "@causeway/core";
import type { ReadModel } from "./read-model.js";
import { DEFAULT_LOG_LIMIT } from "./run-log.js";

/** Options of the engine; `compileEngineOptions` applies defaults. */
export interface EngineOptions {
  /** Runs executed at once by the embedded runner (default 2). */
  readonly slots?: number;
  /** URL of a run's page, for `$BUILD_URL` (default: a path). */
  readonly buildUrl?: (runId: number) => string;
  /** Creates flow ids (default: random UUIDs). */
  readonly newFlowId?: () => string;
  /** Entries the apply history keeps (default APPLY_HISTORY_LIMIT, 1000). */
  readonly applyHistory?: number;
  /**
   * Called after a commit that put deliveries into the notification outbox (the server wakes
   * its outbox worker): no polling, and nothing at all for a change that notified nothing.
   */
  readonly onOutbox?: () => void;
  /**
   * The values of integrations, to redact them from the consoles of the runs that use them (the
   * engine never holds the secret key). Without it only secret parameters are redacted.
   */
  readonly secrets?: SecretsPort;
  /** The most bytes a run's log keeps; past it a marker line, then nothing (default 64 MiB). */
  readonly logLimitBytes?: number;
}

/** Engine options with defaults applied. */
export interface CompiledEngineOptions {
  readonly slots: number;
  readonly buildUrl: (runId: number) => string;
  readonly newFlowId: () => string;
  readonly applyHistory: number;
  readonly onOutbox: (() => void) | undefined;
  readonly secrets: SecretsPort | undefined;
  readonly logLimitBytes: number;
}

/** Applies defaults and rejects nonsense. */
export function compileEngineOptions(options: EngineOptions, randomId: () => string): CompiledEngineOptions {
  const slots = options.slots ?? 2;
  if (!Number.isInteger(slots) || slots < 1)
    throw new RangeError(`engine slots must be a positive integer, got ${slots}`);
  const applyHistory = options.applyHistory ?? APPLY_HISTORY_LIMIT;
  if (!Number.isInteger(applyHistory) || applyHistory < 1)
    throw new RangeError(`engine applyHistory must be a positive integer, got ${applyHistory}`);
  const logLimitBytes = options.logLimitBytes ?? DEFAULT_LOG_LIMIT;
  if (!Number.isSafeInteger(logLimitBytes) || logLimitBytes < 1024)
    throw new RangeError(`engine logLimitBytes must be an integer of at least 1024, got ${logLimitBytes}`);
  return Object.freeze({
    logLimitBytes,
    applyHistory,
    slots,
    buildUrl: options.buildUrl ?? ((id: number) => `/runs/${id}`),
    newFlowId: options.newFlowId ?? randomId,
    onOutbox: options.onOutbox,
    secrets: options.secrets,
  });
}

/** What the engine's parts share. */
export interface EngineContext {
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly logs: LogStore;
  readonly runner: RunnerPort;
  readonly clock: Clock;
  readonly model: ReadModel;
  readonly options: CompiledEngineOptions;
}

/** Events appended in a transaction, published to listeners after it commits. */
export class EventBuffer {
  readonly events: EngineEvent[] = [];
  /** Deliveries put into the notification outbox in the transaction (`enqueueNotifications`). */
  outbox = 0;

  async append(tx: StoreTx, type: EngineEvent["type"], payload: Record<string, unknown>): Promise<void> {
    this.events.push(await tx.appendEvent(type, payload));
  }
}
