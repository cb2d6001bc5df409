import type { AuditEvent } from "../engine/model.js";
import type { NewAuditEvent } from "../engine/ports.js";

/**
 * Remote runners as the server keeps them (design §5): a runner registers once with a
 * single-use registration token and gets a runner credential; each run it claims is an attempt
 * with a lease (extended by heartbeats) and an epoch (fencing) and a job token of its own. Only
 * SHA-256 hashes of the three kinds of secret are stored. Pure: types and rules; the server
 * makes secrets and hashes, the store keeps the rows.
 */

/** The prefix of a registration token (`causeway runner-token create`). */
export const REGISTRATION_PREFIX = "cwreg_";
/** The prefix of a runner credential (kept in the runner's work directory). */
export const RUNNER_CREDENTIAL_PREFIX = "cwr_";
/** The prefix of a per-attempt job token. */
export const JOB_TOKEN_PREFIX = "cwj_";

/** A runner takes work, or finishes what it runs and takes no more (`causeway runner drain`). */
export type RunnerState = "active" | "draining";

/** A registered runner. */
export interface RunnerRecord {
  readonly id: number;
  /** Unique; the runner's host name by default. */
  readonly name: string;
  readonly pool: string;
  readonly labels: readonly string[];
  /** Runs it executes at once. */
  readonly capacity: number;
  readonly state: RunnerState;
  /** SHA-256 of its credential. */
  readonly credentialHash: string;
  /** Its current session (a new process of the runner starts a new one), or null. */
  readonly session: string | null;
  readonly registeredAt: string;
  readonly lastSeenAt: string | null;
}

/** A registration token as stored. */
export interface RunnerRegistration {
  readonly id: number;
  readonly hash: string;
  /** The pool the runner joins; null: the runner names it (default pool when it does not). */
  readonly pool: string | null;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly usedAt: string | null;
}

/** The lease of a run claimed by a remote runner, as much of it as survives a restart. */
export interface RunLease {
  readonly runId: number;
  readonly runnerId: number;
  /** Incremented by every claim of the run: a call with an older one is refused (fencing). */
  readonly epoch: number;
  /** SHA-256 of the attempt's job token. */
  readonly tokenHash: string;
  /** Raw console bytes stored so far: the runner uploads from there after a restart. */
  readonly logOffset: number;
  /**
   * The run log's length when `logOffset` was stored (null on a lease older than migration
   * 0012): a restart cuts the log back to it, so bytes appended after it are not there twice.
   */
  readonly logLength: number | null;
  readonly claimedAt: string;
}

/** What registering asks for. */
export interface NewRunner {
  readonly name: string;
  readonly pool: string;
  readonly labels: readonly string[];
  readonly capacity: number;
  readonly credentialHash: string;
  readonly at: string;
}

/**
 * The runners' rows: registrations, runners and the leases of remote runs (migration 0011).
 * Changes made by people come with their audit entry, in one transaction.
 */
export interface RunnerStore {
  createRegistration(
    registration: Omit<RunnerRegistration, "id" | "usedAt">,
    audit: NewAuditEvent,
  ): Promise<{ registration: RunnerRegistration; audit: AuditEvent }>;
  /**
   * Uses the registration whose secret has `hash` and registers the runner, in one
   * transaction. `RUNNER_REGISTRATION_INVALID` when it is unknown, used or expired;
   * `RUNNER_EXISTS` when a runner has the name.
   */
  register(hash: string, runner: NewRunner): Promise<RunnerRecord>;
  runnerByCredential(hash: string): Promise<RunnerRecord | undefined>;
  listRunners(): Promise<RunnerRecord[]>;
  /** `RUNNER_NOT_FOUND` when no runner has the name. */
  setRunnerState(name: string, state: RunnerState, audit: NewAuditEvent): Promise<RunnerRecord>;
  /** Records a new session of the runner (a new process), with what it says of itself. */
  startSession(
    runnerId: number,
    session: string,
    capacity: number,
    labels: readonly string[],
    at: string,
  ): Promise<void>;
  touchRunner(runnerId: number, at: string): Promise<void>;
  /** Gives the run's lease to a runner: the next epoch (1 for a first claim), returned. */
  claimLease(runId: number, runnerId: number, tokenHash: string, at: string): Promise<number>;
  /** Records, in one commit, the console bytes stored of the run and its log's length then. */
  recordLogOffset(runId: number, offset: number, length: number | null): Promise<void>;
  /** Ends the leases of these runs (they are over), in one commit. */
  deleteLeases(runIds: readonly number[]): Promise<void>;
  /**
   * Deletes the leases of runs that are not `processing` (what a server that stopped before it
   * deleted them left), at load, before any is adopted.
   */
  deleteStaleLeases(): Promise<void>;
  listLeases(): Promise<RunLease[]>;
}

/** A runner's name, pool or label: letters, digits, `.`, `_`, `-`; at most 100. */
export const RUNNER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
