import { defineKind } from "./kind.js";

/** `notification`: where hooks send notifications (shippable.md §4.12). */
export const notificationKind = defineKind({
  type: "notification",
  holds: "`method` and `recipients`",
  versionsFrom: "static; used by `NOTIFY`",
  jobSees: "nothing more; hooks name it in `NOTIFY`, scripts in `shipctl notify`",
  notifyTarget: true,
});

/** The methods Causeway delivers (docs/language.md "notification"). */
export const NOTIFICATION_METHODS = ["webhook", "slack", "email"] as const;
/** A method Causeway delivers. */
export type NotificationMethod = (typeof NOTIFICATION_METHODS)[number];

/**
 * Methods Shippable had and Causeway accepts without delivering (a warning, so that real lines
 * keep loading): IRC, HipChat, Airbrake, New Relic, Jira.
 */
export const UNDELIVERED_METHODS: readonly string[] = ["irc", "hipchat", "airbrake", "newrelic", "jira"];

/**
 * What a notification resource says about delivery, read from its definition (`template`):
 * `method` undefined means the integration's `method` field decides at send time (a resource with
 * only an `integration`); `delivered: false` for a Shippable method Causeway does not deliver.
 */
export interface NotificationSetup {
  readonly method: NotificationMethod | undefined;
  readonly recipients: readonly string[];
  readonly delivered: boolean;
}

/** A problem of a notification resource's definition, at `key` (and item `index` of `recipients`). */
export interface NotificationProblem {
  readonly code:
    "PIPELINE_NOTIFICATION_METHOD" | "PIPELINE_NOTIFICATION_RECIPIENT" | "PIPELINE_NOTIFICATION_NOT_DELIVERED";
  readonly key: "method" | "recipients";
  readonly index: number | undefined;
  readonly message: string;
  readonly hint: string;
}

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:".]+$/;
const SLACK = /^[#@][^\s#@]+$/;

// scheme://host[:port][/path...]: a host of URL characters, no spaces (core has no URL parser).
const HTTP_URL = /^https?:\/\/[A-Za-z0-9._~%!$&'()*+,;=:@[\]-]+(\/[^\s]*)?$/i;

/** Whether `value` is an http(s) URL (a scheme, a host, an optional path; no spaces). */
export function isHttpUrl(value: string): boolean {
  return HTTP_URL.test(value) && !/^https?:\/\/[:@/]/i.test(value);
}

/** Whether a recipient has the form `method` needs (an address, a URL, `#channel` or `@user`). */
export function recipientFits(method: NotificationMethod, recipient: string): boolean {
  if (method === "email") return EMAIL.test(recipient);
  if (method === "slack") return SLACK.test(recipient);
  return isHttpUrl(recipient);
}

const RECIPIENT_FORM: Readonly<Record<NotificationMethod, string>> = {
  email: "an email address (ops@example.com)",
  slack: "a channel (#deploys) or a user (@oncall)",
  webhook: "an http(s) URL",
};

/**
 * Reads a notification resource's `method` and `recipients` (pure, no I/O): the setup the engine
 * and the outbox use, and every problem with the key it concerns. Without `method`, it is told
 * from the recipients (all `#`/`@` names: slack; all addresses: email; all URLs: webhook), or,
 * with none, left to the integration.
 */
export function readNotification(template: Readonly<Record<string, unknown>>): {
  readonly setup: NotificationSetup;
  readonly problems: readonly NotificationProblem[];
} {
  const problems: NotificationProblem[] = [];
  const raw = template.recipients;
  const recipients = (Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw]).map((r) =>
    typeof r === "string" ? r.trim() : JSON.stringify(r),
  );
  const written = typeof template.method === "string" ? template.method.trim().toLowerCase() : undefined;
  if (written !== undefined && UNDELIVERED_METHODS.includes(written)) {
    problems.push({
      code: "PIPELINE_NOTIFICATION_NOT_DELIVERED",
      key: "method",
      index: undefined,
      message: `method ${written} is accepted but not delivered by Causeway`,
      hint: `Causeway delivers ${NOTIFICATION_METHODS.join(", ")}`,
    });
    return { setup: { method: undefined, recipients, delivered: false }, problems };
  }
  let method: NotificationMethod | undefined;
  if (written !== undefined) {
    if ((NOTIFICATION_METHODS as readonly string[]).includes(written)) method = written as NotificationMethod;
    else {
      problems.push({
        code: "PIPELINE_NOTIFICATION_METHOD",
        key: "method",
        index: undefined,
        message: `unknown notification method ${JSON.stringify(template.method)}`,
        hint: `use one of ${NOTIFICATION_METHODS.join(", ")}`,
      });
      return { setup: { method: undefined, recipients, delivered: false }, problems };
    }
  } else if (template.method !== undefined && template.method !== null) {
    problems.push({
      code: "PIPELINE_NOTIFICATION_METHOD",
      key: "method",
      index: undefined,
      message: "method must be a string",
      hint: `use one of ${NOTIFICATION_METHODS.join(", ")}`,
    });
    return { setup: { method: undefined, recipients, delivered: false }, problems };
  } else if (recipients.length > 0) {
    method = NOTIFICATION_METHODS.find((m) => recipients.every((r) => recipientFits(m, r)));
    if (method === undefined) {
      problems.push({
        code: "PIPELINE_NOTIFICATION_RECIPIENT",
        key: "recipients",
        index: undefined,
        message: "the recipients do not tell the method: they are not all addresses, all URLs or all #channel/@user",
        hint: "add method: email, slack or webhook",
      });
      return { setup: { method: undefined, recipients, delivered: false }, problems };
    }
  }
  if (method !== undefined) {
    recipients.forEach((recipient, index) => {
      if (recipientFits(method, recipient)) return;
      problems.push({
        code: "PIPELINE_NOTIFICATION_RECIPIENT",
        key: "recipients",
        index,
        message: `recipient ${JSON.stringify(recipient)} is not ${RECIPIENT_FORM[method]}`,
        hint: `a ${method} notification sends to ${RECIPIENT_FORM[method]}`,
      });
    });
    if (method === "email" && recipients.length === 0)
      problems.push({
        code: "PIPELINE_NOTIFICATION_RECIPIENT",
        key: "recipients",
        index: undefined,
        message: "an email notification needs recipients",
        hint: "recipients: [ops@example.com]",
      });
  }
  return { setup: { method, recipients, delivered: true }, problems };
}
