import { redactSecrets, redactText, slackPayload } from "@causeway/core";
import { postJson } from "./http-post.js";
import { DELIVERY_HEADER, DeliveryError, EVENT_HEADER, type Sender } from "./sender.js";

/**
 * `slack`: an incoming-webhook message (`slackPayload`) POSTed to the integration's
 * `webhookUrl`, one per recipient (`#channel` or `@user` as its `channel`).
 */
export function slackSender(): Sender {
  return {
    method: "slack",
    async send(delivery) {
      const { notification, integration } = delivery;
      const url = integration?.webhookUrl;
      if (url === undefined || url === "")
        throw new DeliveryError(
          `slack notification ${notification.resource} needs an integration with a webhookUrl`,
          true,
        );
      const payload = redactSecrets(slackPayload(delivery.data, notification.target), delivery.secrets);
      await postJson(
        url,
        redactText(JSON.stringify(payload), delivery.secrets),
        { [DELIVERY_HEADER]: String(notification.id), [EVENT_HEADER]: notification.event },
        delivery.timeoutMs,
      );
    },
  };
}
