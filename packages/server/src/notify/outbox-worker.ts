import {
  describeError,
  NOTIFICATION_METHODS,
  nextAttemptDelay,
  secretNamesOf,
  type LogStore,
  type Notification,
  type NotificationData,
  type NotificationMethod,
  type RetryPolicy,
  type Store,
} from "@causeway/core";
import type { IntegrationFields, Integrations } from "../integrations.js";
import type { Logger } from "../logger.js";
import { emailSender } from "./email-sender.js";
import { consoleExcerpt, EXCERPT_READ_BYTES } from "./excerpt.js";
import { DeliveryError, type Delivery, type Sender } from "./sender.js";
import { slackSender } from "./slack-sender.js";
import { webhookSender } from "./webhook-sender.js";

/** The integration an email resource without one sends through (`<data>/integrations/smtp.json`). */
export const DEFAULT_SMTP_INTEGRATION = "smtp";

/**
 * Integration fields that are settings, not secrets: they are not redacted (a port `587` or a
 * `secure: "true"` would turn every such text in a payload into stars).
 */
export const NON_SECRET_FIELDS: readonly string[] = ["host", "port", "secure", "from", "method", "type"];

/** What the outbox worker needs. */
export interface OutboxWorkerOptions {
  readonly store: Store;
  readonly logs: LogStore;
  readonly integrations: Integrations;
  readonly logger: Logger;
  /** The most an attempt may take. */
  readonly timeoutMs: number;
  /** Attempts in flight at once. */
  readonly concurrency: number;
  readonly retry: RetryPolicy;
  /** Default: webhook, slack and email. */
  readonly senders?: readonly Sender[];
  readonly now?: () => Date;
  readonly random?: () => number;
}

/** The running outbox worker. */
export interface OutboxWorker {
  /** Starts delivering: every pending delivery in the store is due (nothing is lost across restarts). */
  start(): void;
  /** Something was put into the outbox: look for due deliveries now (the engine calls it after a commit). */
  wake(): void;
  /** Stops taking deliveries and waits for the attempts in flight (each ends within its timeout). */
  stop(): Promise<void>;
}

/**
 * Delivers the notification outbox (docs/semantics.md "Notifications"): takes due pending
 * deliveries (counting the attempt first, in a short transaction of its own), sends them at most
 * `concurrency` at once, and records each outcome in another: delivered, or pending again after
 * the backoff of `retry`, or `failed` once the attempts are used up (or the receiver refused it
 * for good). It runs beside the engine and never holds its transactions. Woken by the engine
 * after a commit that enqueued something, and by one timer for the next due retry: no polling.
 * A delivery in flight when the server dies is pending in the store and sent again at the next
 * start: delivery is at least once, and every request names its delivery so that receivers can
 * drop a repeat.
 */
export function createOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
  const { store, logger } = options;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const senders = new Map<NotificationMethod, Sender>(
    (options.senders ?? [webhookSender(), slackSender(), emailSender()]).map((s) => [s.method, s]),
  );
  const inFlight = new Map<number, Promise<void>>();
  let started = false;
  let stopped = false;
  let pumping: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  const wake = (): void => {
    if (!started || stopped) return;
    if (pumping !== undefined) {
      again = true;
      return;
    }
    pumping = pump().finally(() => {
      pumping = undefined;
      if (again && !stopped) wake();
    });
  };

  async function pump(): Promise<void> {
    try {
      do {
        again = false;
        const free = options.concurrency - inFlight.size;
        if (free <= 0) break;
        const claimed = await claim(free);
        // Claimed while stopping: they stay pending (their attempt counted) for the next start.
        if (stopped) return;
        for (const n of claimed) {
          const attempt = deliver(n).finally(() => {
            inFlight.delete(n.id);
            wake();
          });
          inFlight.set(n.id, attempt);
        }
        if (claimed.length === free) again = true;
      } while (again && !stopped);
      await schedule();
      failures = 0;
    } catch (error) {
      // The store failed (a full disk): try again later, the rows wait in the store.
      failures++;
      logger.error("the notification outbox cannot read the store; trying again", error, { event: "notify" });
      setTimer(Math.min(1000 * 2 ** Math.min(failures, 6), 60_000));
    }
  }

  // Takes up to `limit` due deliveries, counting their attempt before it is made.
  async function claim(limit: number): Promise<Notification[]> {
    const at = now().toISOString();
    return store.transaction(async (tx) => {
      const due = await tx.dueNotifications(at, limit, [...inFlight.keys()]);
      const out: Notification[] = [];
      for (const n of due) out.push(await tx.updateNotification(n.id, { attempts: n.attempts + 1 }));
      return out;
    });
  }

  async function schedule(): Promise<void> {
    if (stopped) return;
    const next = await store.read.nextNotificationDue([...inFlight.keys()]);
    if (next === undefined) {
      clearTimeout(timer);
      timer = undefined;
      return;
    }
    setTimer(Math.max(0, Date.parse(next) - now().getTime()));
  }

  function setTimer(ms: number): void {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      wake();
    }, ms);
    timer.unref();
  }

  async function deliver(n: Notification): Promise<void> {
    let outcome: { ok: true } | { ok: false; error: string; permanent: boolean };
    try {
      const delivery = await prepare(n);
      const method = delivery.method;
      const sender = senders.get(method);
      if (sender === undefined) throw new DeliveryError(`no sender for method ${method}`, true);
      await sender.send(delivery.delivery);
      outcome = { ok: true };
    } catch (error) {
      outcome = {
        ok: false,
        error: describeError(error),
        // Anything else (an integration file that cannot be read) may be fixed meanwhile: retried.
        permanent: error instanceof DeliveryError && error.permanent,
      };
    }
    try {
      await record(n, outcome);
    } catch (error) {
      // Not recorded: the delivery stays pending and is sent again (at least once).
      logger.error(`notification ${n.id}: its outcome could not be recorded`, error, { event: "notify" });
    }
  }

  async function record(
    n: Notification,
    outcome: { ok: true } | { ok: false; error: string; permanent: boolean },
  ): Promise<void> {
    const at = now();
    if (outcome.ok) {
      await store.transaction((tx) =>
        tx.updateNotification(n.id, { state: "delivered", deliveredAt: at.toISOString(), nextAttemptAt: null }),
      );
      return;
    }
    const delay = outcome.permanent ? undefined : nextAttemptDelay(n.attempts, options.retry, random());
    if (delay === undefined) {
      await store.transaction((tx) =>
        tx.updateNotification(n.id, { state: "failed", lastError: outcome.error, nextAttemptAt: null }),
      );
      logger.warn(
        `notification ${n.id} (${n.resource}, ${n.event} of ${n.job}) failed after ${n.attempts} ${n.attempts === 1 ? "attempt" : "attempts"}: ${outcome.error}`,
        { event: "notify", id: n.id, resource: n.resource, state: "failed" },
      );
      return;
    }
    await store.transaction((tx) =>
      tx.updateNotification(n.id, {
        lastError: outcome.error,
        nextAttemptAt: new Date(at.getTime() + delay).toISOString(),
      }),
    );
  }

  // Everything a sender needs, read at send time: the integration, the secrets, the excerpt.
  async function prepare(n: Notification): Promise<{ method: NotificationMethod; delivery: Delivery }> {
    const data = n.data as unknown as NotificationData;
    const method = n.method ?? undefined;
    const named = data.integration ?? undefined;
    let integration: IntegrationFields | undefined;
    if (named !== undefined) {
      integration = await options.integrations.get(named);
      if (integration === undefined)
        throw new DeliveryError(`the integration ${named} of ${n.resource} does not exist`, false);
    } else if (method === "email") integration = await options.integrations.get(DEFAULT_SMTP_INTEGRATION);
    const resolved = method ?? integration?.method ?? "webhook";
    if (!(NOTIFICATION_METHODS as readonly string[]).includes(resolved))
      throw new DeliveryError(`the integration of ${n.resource} names an unknown method ${resolved}`, true);
    const secrets = await secretsOf(n, integration);
    const excerpt =
      resolved === "email" && data.sendFailingSnippet && data.event === "failure" && n.runId !== null
        ? await excerptOf(n.runId)
        : undefined;
    return {
      method: resolved as NotificationMethod,
      delivery: { notification: n, data, integration, secrets, excerpt, timeoutMs: options.timeoutMs },
    };
  }

  async function secretsOf(n: Notification, integration: IntegrationFields | undefined): Promise<string[]> {
    const secrets: string[] = [];
    for (const [key, value] of Object.entries(integration ?? {}))
      if (!NON_SECRET_FIELDS.includes(key)) secrets.push(value);
    if (n.runId !== null) {
      const run = await store.read.getRun(n.runId);
      if (run !== undefined)
        for (const name of secretNamesOf(run)) {
          const value = run.params[name];
          if (value !== undefined) secrets.push(value);
        }
    }
    return secrets;
  }

  async function excerptOf(runId: number): Promise<string | undefined> {
    const size = await options.logs.size(runId);
    if (size === 0) return undefined;
    const from = Math.max(0, size - EXCERPT_READ_BYTES);
    const text = new TextDecoder().decode(await options.logs.read(runId, from));
    return consoleExcerpt(text, from > 0);
  }

  return {
    start() {
      if (started) return;
      started = true;
      wake();
    },
    wake,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await pumping;
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}
