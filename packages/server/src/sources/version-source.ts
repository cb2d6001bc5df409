import type { ResourceDef, Version } from "@causeway/core";
import type { Logger } from "../logger.js";

/** The data of a new version, as `Engine.putVersion` takes it. */
export interface VersionData {
  readonly versionName?: string;
  readonly propertyBag?: Record<string, unknown>;
}

/** The outcome of recording a version: the version, and whether its key was recorded before. */
export interface Recorded {
  readonly version: Version;
  /** True when the key was recorded before: nothing was created, nothing was triggered. */
  readonly duplicate: boolean;
}

/**
 * Time for version sources: the wall clock and one-shot timers. Injected so that tests drive a
 * schedule with a manual clock instead of waiting.
 */
export interface SourceTimers {
  now(): Date;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock and Node's timers. */
export const SYSTEM_TIMERS: SourceTimers = {
  now: () => new Date(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * What a watch of one resource gets from the component that runs it. The only way a source
 * creates a version is `record`, which goes through `Engine.putVersion` with a delivery key:
 * a key recorded before (a tick, a commit seen again after a restart) creates nothing.
 */
export interface SourceSink {
  /** The resource watched. */
  readonly resource: string;
  /** Its latest version, as the engine knows it (after a restart too: the store is the truth). */
  latest(): Version | undefined;
  /**
   * Records a version created by the source (its `createdBy`), exactly once per `key`.
   * `trigger: false` records it without offering it to the resource's consumers. Rejects when
   * the resource is gone or the store refuses; the watch decides whether to try again.
   */
  record(data: VersionData, key: string, options?: { trigger?: boolean }): Promise<Recorded>;
  readonly timers: SourceTimers;
  readonly logger: Logger;
}

/** A running watch of one resource by one source. */
export interface SourceWatch {
  /** Stops the watch: no version is recorded after it resolves. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A source of versions from outside the line: a git repository polled, a cron schedule. One
 * implementation per kind of source (sources/*-source.ts), run by `startVersionSources`, which
 * starts a watch for each resource the source watches and restarts or stops it as the line's
 * definitions change.
 */
export interface VersionSource {
  /** The source's name in logs (`git`, `time`, `remote-git`). */
  readonly name: string;
  /** `createdBy` of the versions it records. */
  readonly createdBy: string;
  /**
   * Whether the source watches this resource, as a key: undefined means no; a string is the
   * part of the definition the watch depends on, and the watch is restarted when it changes.
   * Pure and cheap: it is asked for every resource after every apply.
   */
  watchKey(def: ResourceDef): string | undefined;
  /** Starts watching a resource. Never throws: problems are the watch's to log. */
  watch(def: ResourceDef, sink: SourceSink): SourceWatch;
}
