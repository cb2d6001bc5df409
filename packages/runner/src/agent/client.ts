import {
  HeartbeatAnswerSchema,
  LogAckSchema,
  RUNNER_API,
  RunnerClaimSchema,
  RunnerRegisteredSchema,
  RunnerSessionSchema,
  type AttemptFinish,
  type HeartbeatAnswer,
  type RunnerClaim,
  type RunnerRegister,
  type RunnerRegistered,
  type RunnerSession,
  type RunnerSessionRequest,
} from "@causeway/protocol";
import type { z } from "zod";
import type { RunnerTransport } from "./transport.js";

/** A refusal of the server: its status and error code, and its details (a 416's offset). */
export class ServerRefusal extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Whether `error` says the server is out of reach (down, restarting, the network): retry. */
export function unreachable(error: unknown): boolean {
  return !(error instanceof ServerRefusal) || error.status >= 500;
}

/**
 * The runner protocol's calls as a runner makes them (design §5; docs/runners.md): fetch, JSON
 * validated with the protocol's schemas, refusals as ServerRefusal. A fetch that fails (the
 * server is down) throws as fetch does; the agent retries.
 */
export class RunnerClient implements RunnerTransport {
  readonly #base: string;
  #credential = "";

  constructor(server: string, credential?: string) {
    this.#base = server.replace(/\/+$/, "") + RUNNER_API;
    if (credential !== undefined) this.#credential = credential;
  }

  /** The runner credential of the session and claim calls (after a registration). */
  set credential(value: string) {
    this.#credential = value;
  }

  register(body: RunnerRegister): Promise<RunnerRegistered> {
    return this.#json("POST", "/register", undefined, body, RunnerRegisteredSchema);
  }

  session(body: RunnerSessionRequest): Promise<RunnerSession> {
    return this.#json("POST", "/sessions", this.#credential, body, RunnerSessionSchema);
  }

  /** A long poll: a claim, or undefined when the server had nothing within its hold. */
  async claim(session: string, free: number, signal: AbortSignal): Promise<RunnerClaim | undefined> {
    const response = await this.#fetch("POST", "/claim", this.#credential, JSON.stringify({ session, free }), signal);
    if (response.status === 204) return undefined;
    return RunnerClaimSchema.parse(await response.json());
  }

  async start(token: string, runId: number, epoch: number): Promise<void> {
    await this.#fetch("POST", `/attempts/${runId}/start`, token, JSON.stringify({ epoch }));
  }

  heartbeat(token: string, runId: number, epoch: number): Promise<HeartbeatAnswer> {
    return this.#json("POST", `/attempts/${runId}/heartbeat`, token, { epoch }, HeartbeatAnswerSchema);
  }

  /** Uploads console bytes from `offset`; the server's offset after them. */
  async log(token: string, runId: number, epoch: number, offset: number, bytes: Uint8Array): Promise<number> {
    const response = await this.#fetch("PUT", `/attempts/${runId}/log?offset=${offset}&epoch=${epoch}`, token, bytes);
    return LogAckSchema.parse(await response.json()).offset;
  }

  async finish(token: string, runId: number, body: AttemptFinish): Promise<void> {
    await this.#fetch("POST", `/attempts/${runId}/finish`, token, JSON.stringify(body));
  }

  async getBlob(token: string, runId: number, epoch: number, sha: string): Promise<Uint8Array | undefined> {
    try {
      const response = await this.#fetch("GET", `/attempts/${runId}/blobs/${sha}?epoch=${epoch}`, token);
      return new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      if (error instanceof ServerRefusal && error.status === 404) return undefined;
      throw error;
    }
  }

  async putBlob(token: string, runId: number, epoch: number, bytes: Uint8Array): Promise<string> {
    const response = await this.#fetch("PUT", `/attempts/${runId}/blobs?epoch=${epoch}`, token, bytes);
    return ((await response.json()) as { sha: string }).sha;
  }

  async integration(
    token: string,
    runId: number,
    epoch: number,
    name: string,
  ): Promise<Readonly<Record<string, string>> | undefined> {
    try {
      const path = `/attempts/${runId}/integrations/${encodeURIComponent(name)}?epoch=${epoch}`;
      const response = await this.#fetch("GET", path, token);
      return ((await response.json()) as { fields: Record<string, string> }).fields;
    } catch (error) {
      if (error instanceof ServerRefusal && error.status === 404) return undefined;
      throw error;
    }
  }

  async #json<T>(
    method: string,
    path: string,
    bearer: string | undefined,
    body: unknown,
    schema: z.ZodType<T>,
  ): Promise<T> {
    const response = await this.#fetch(method, path, bearer, JSON.stringify(body));
    return schema.parse(await response.json());
  }

  async #fetch(
    method: string,
    path: string,
    bearer: string | undefined,
    body?: string | Uint8Array,
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = {
      "Content-Type": typeof body === "string" ? "application/json" : "application/octet-stream",
    };
    if (bearer !== undefined) headers.Authorization = `Bearer ${bearer}`;
    const response = await fetch(this.#base + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      ...(signal === undefined ? {} : { signal }),
    });
    if (response.ok) return response;
    let code = "HTTP_" + String(response.status);
    let message = `${method} ${path}: HTTP ${response.status}`;
    let details: unknown;
    try {
      const parsed = (await response.json()) as { error?: { code?: string; message?: string; details?: unknown } };
      code = parsed.error?.code ?? code;
      message = parsed.error?.message ?? message;
      details = parsed.error?.details;
    } catch {
      // Not our JSON (a proxy's page): the status says enough.
    }
    throw new ServerRefusal(response.status, code, message, details);
  }
}
