import type { BlobStore, LoadOptions, LoadResult, LogStore, RefusedFile, SourceFile, Store } from "@causeway/core";
import type { Engine } from "@causeway/engine";
import type { TokenAuth } from "./auth.js";
import type { SecretKeyRing } from "@causeway/store";
import type { Integrations } from "./integrations.js";
import type { Logger } from "./logger.js";

import type { RunnerDeps } from "./runners/runner-routes.js";

/** What the HTTP app is built from; the composition root (startServer) passes real ones. */
export interface AppDeps {
  readonly engine: Engine;
  /** The engine's store (reads). */
  readonly store: Store;
  /** Run logs; a LogFeed (see log-feed.ts) wakes log streams on every append. */
  readonly logs: LogStore;
  readonly blobs: BlobStore;
  /**
   * The API tokens (auth.ts): every route but `GET /health` requires one as `Authorization:
   * Bearer`, of the role the route names (routes.ts).
   */
  readonly auth: TokenAuth;
  /**
   * Anonymous GETs of the jobs with `allowPublicAccess` and of their runs and logs are allowed
   * (`--public`); everything else still needs a token. Default false.
   */
  readonly publicAccess?: boolean;
  /** The loader of `POST /apply` (default: core's loadPipeline). */
  readonly loadFiles?: (
    files: readonly SourceFile[],
    options: LoadOptions,
    unread: readonly RefusedFile[],
  ) => LoadResult;
  /** The groups file of identities (identity.ts, `<data>/groups.json`); no groups when absent. */
  readonly groupsFile?: string;
  /** Secrets of integrations (webhook keys, git credentials); none when absent. */
  readonly integrations?: Integrations;
  /** The keys of the integration store, for `POST /secrets/rotate-key` (absent: no rotation). */
  readonly secretKeys?: SecretKeyRing;
  /** The built web UI served at `/` (web-routes.ts); absent: no UI, `/` is not found. */
  readonly webDir?: string;
  /** The server's version, reported by `GET /health`. */
  readonly version: string;
  readonly logger?: Logger;
  /** Ends every open SSE stream when aborted (server shutdown). */
  readonly signal?: AbortSignal;
  /** Time between SSE heartbeat comments (default 15 s). */
  readonly heartbeatMs?: number;
  /** Event and log streams held open at once; one more is refused (default 200). */
  readonly maxStreams?: number;
  /** The notification outbox, woken when a failed delivery is retried (absent: nothing delivers). */
  readonly outbox?: { wake(): void };
  /** The runners (runners/hub.ts) and their rows: the runner protocol's routes (absent: none). */
  readonly runners?: RunnerDeps;
}
