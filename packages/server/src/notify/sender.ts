import type { Notification, NotificationData, NotificationMethod } from "@causeway/core";
import type { IntegrationFields } from "../integrations.js";

/** One attempt of one delivery, with everything its sender needs; built by the outbox worker. */
export interface Delivery {
  readonly notification: Notification;
  readonly data: NotificationData;
  /** The notification resource's integration (URL, signing key, SMTP credentials), when it has one. */
  readonly integration: IntegrationFields | undefined;
  /** Every value to redact from what is sent (the run's secret parameters, the integration's secrets). */
  readonly secrets: readonly string[];
  /** email: the end of the failed run's console, redacted, when the hook asked for it. */
  readonly excerpt: string | undefined;
  /** The attempt is abandoned after this long. */
  readonly timeoutMs: number;
}

/**
 * Sends one method's notifications (webhook, slack, email): renders the delivery's data with the
 * pure builders of core, redacts it, and sends it. Contract: resolves once the receiver accepted
 * it; rejects with a `DeliveryError` otherwise (`permanent` when trying again cannot help), and
 * never takes longer than `timeoutMs`. Every request carries the delivery's id, so that a
 * receiver can drop a repeat (at-least-once delivery).
 */
export interface Sender {
  readonly method: NotificationMethod;
  send(delivery: Delivery): Promise<void>;
}

/** Why an attempt failed; `permanent`: the delivery fails at once, without retries. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
    this.name = "DeliveryError";
  }
}

/** The header naming a delivery (its outbox id), the same at every attempt. */
export const DELIVERY_HEADER = "X-Causeway-Delivery";
/** The header of the event (`start`, `success`, `failure`, `cancel`, `notify`...). */
export const EVENT_HEADER = "X-Causeway-Event";
/** The HMAC-SHA256 signature of a webhook body, when the integration has a `secret` or `signingKey`. */
export const SIGNATURE_HEADER = "X-Causeway-Signature-256";
