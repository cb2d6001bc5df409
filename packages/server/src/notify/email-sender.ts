import { emailMessage, redactSecrets, redactText } from "@causeway/core";
import { createTransport } from "nodemailer";
import { DELIVERY_HEADER, DeliveryError, EVENT_HEADER, type Sender } from "./sender.js";

/**
 * `email`: one mail per recipient through the SMTP server of the integration (`host`, `port`,
 * `secure` "true" for TLS from the start, `username`/`password`, `from`), with a plain-text and
 * an HTML part (`emailMessage`) and, when asked, the failed run's console excerpt. A mail server
 * that refuses a recipient for good (a 5xx answer) fails the delivery at once.
 */
export function emailSender(): Sender {
  return {
    method: "email",
    async send(delivery) {
      const { notification, integration } = delivery;
      const host = integration?.host;
      if (integration === undefined || host === undefined || host === "")
        throw new DeliveryError(
          `email notification ${notification.resource} needs an integration with a host (the mail server): name it with integration:, or write <data>/integrations/smtp.json`,
          true,
        );
      const port = integration.port === undefined ? undefined : Number(integration.port);
      if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
        throw new DeliveryError(`email integration: port ${JSON.stringify(integration.port)} is not a port`, true);
      const secure = integration.secure === "true";
      const user = integration.username ?? integration.user;
      const transport = createTransport({
        host,
        ...(port === undefined ? {} : { port }),
        secure,
        ...(user === undefined ? {} : { auth: { user, pass: integration.password ?? "" } }),
        connectionTimeout: delivery.timeoutMs,
        greetingTimeout: delivery.timeoutMs,
        socketTimeout: delivery.timeoutMs,
      });
      // Redacted before the HTML escapes it (an escaped secret would no longer match), and after.
      const data = redactSecrets(delivery.data, delivery.secrets);
      const excerpt = delivery.excerpt === undefined ? undefined : redactText(delivery.excerpt, delivery.secrets);
      const message = redactSecrets(emailMessage(data, excerpt), delivery.secrets);
      const timer = new Promise<never>((_, reject) => {
        setTimeout(
          () => reject(new DeliveryError(`no answer from the mail server ${host} within ${delivery.timeoutMs} ms`)),
          delivery.timeoutMs,
        ).unref();
      });
      try {
        await Promise.race([
          transport.sendMail({
            from: integration.from ?? user ?? "causeway@localhost",
            to: notification.target,
            subject: message.subject,
            text: message.text,
            html: message.html,
            messageId: `<causeway-notification-${notification.id}@causeway>`,
            headers: { [DELIVERY_HEADER]: String(notification.id), [EVENT_HEADER]: notification.event },
          }),
          timer,
        ]);
      } catch (error) {
        if (error instanceof DeliveryError) throw error;
        const e = error as Error & { responseCode?: number; code?: string };
        const permanent = e.responseCode !== undefined && e.responseCode >= 500 && e.responseCode < 600;
        throw new DeliveryError(`mail server ${host}: ${e.message}`, permanent);
      } finally {
        transport.close();
      }
    },
  };
}
