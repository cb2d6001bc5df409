import type {
  AttemptFinish,
  HeartbeatAnswer,
  RunnerClaim,
  RunnerSession,
  RunnerSessionRequest,
} from "@causeway/protocol";

/**
 * How a runner talks to its server: the runner protocol's calls (design §5; docs/runners.md).
 * `RunnerClient` carries them over HTTP for a remote runner; the server's embedded runner uses
 * an in-process transport to its own hub, so that both run the same agent. A refusal is a
 * `ServerRefusal` (status and code as over HTTP) whichever the transport.
 */
export interface RunnerTransport {
  session(body: RunnerSessionRequest): Promise<RunnerSession>;
  /** A long poll: a claim, or undefined when nothing came within the server's hold. */
  claim(session: string, free: number, signal: AbortSignal): Promise<RunnerClaim | undefined>;
  start(token: string, runId: number, epoch: number): Promise<void>;
  heartbeat(token: string, runId: number, epoch: number): Promise<HeartbeatAnswer>;
  /** Uploads console bytes from `offset`; the server's offset after them. */
  log(token: string, runId: number, epoch: number, offset: number, bytes: Uint8Array): Promise<number>;
  finish(token: string, runId: number, body: AttemptFinish): Promise<void>;
  getBlob(token: string, runId: number, epoch: number, sha: string): Promise<Uint8Array | undefined>;
  putBlob(token: string, runId: number, epoch: number, bytes: Uint8Array): Promise<string>;
  integration(
    token: string,
    runId: number,
    epoch: number,
    name: string,
  ): Promise<Readonly<Record<string, string>> | undefined>;
  /**
   * In process only: the server pushes a cancel at once (a remote runner gets it on its next
   * heartbeat), and console bytes go straight to the server, with no spool file between.
   */
  readonly inProcess?: {
    onCancel(token: string, listener: (reason: string) => void): void;
  };
}
