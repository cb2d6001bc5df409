import { createHmac } from "node:crypto";
import { redactSecrets, redactText, webhookPayload } from "@causeway/core";
import { postJson } from "./http-post.js";
import { DELIVERY_HEADER, DeliveryError, EVENT_HEADER, SIGNATURE_HEADER, type Sender } from "./sender.js";

/**
 * `webhook`: the event as JSON (`webhookPayload`, or `shipctl notify --payload` as is), POSTed
 * to the target URL or, without recipients, to the integration's `webhookUrl`; signed with
 * `X-Causeway-Signature-256: sha256=<hex HMAC of the body>` when the integration has a `secret`
 * (or `signingKey`).
 */
export function webhookSender(): Sender {
  return {
    method: "webhook",
    async send(delivery) {
      const { notification, integration } = delivery;
      const url = notification.target === "" ? integration?.webhookUrl : notification.target;
      if (url === undefined || url === "")
        throw new DeliveryError(
          `webhook ${notification.resource} has no recipients and its integration no webhookUrl`,
          true,
        );
      const body = redactText(
        JSON.stringify(redactSecrets(webhookPayload(delivery.data), delivery.secrets)),
        delivery.secrets,
      );
      const key = integration?.secret ?? integration?.signingKey;
      await postJson(
        url,
        body,
        {
          [DELIVERY_HEADER]: String(notification.id),
          [EVENT_HEADER]: notification.event,
          ...(key === undefined || key === ""
            ? {}
            : { [SIGNATURE_HEADER]: `sha256=${createHmac("sha256", key).update(body).digest("hex")}` }),
        },
        delivery.timeoutMs,
      );
    },
  };
}
