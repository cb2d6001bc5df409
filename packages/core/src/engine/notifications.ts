import { readNotification, type NotificationMethod } from "../kinds/notification.js";
import { HOOK_NAMES, type HookName, type JobDef, type Mapping, type ResourceDef } from "../language/model.js";
import type { Run, RunStatus } from "./model.js";

/**
 * The pure rules of notifications (docs/semantics.md "Notifications"): which run events notify
 * which resources, to which targets, and when a failed delivery is tried again.
 */

/** The run events hooks notify on: a run starts, or ends in one of three ways. */
export const NOTIFICATION_EVENTS = ["start", "success", "failure", "cancel"] as const;
/** A run event that hooks notify on. */
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/**
 * The event a final status notifies as: `timeout`, `lost` and `error` count as `failure`;
 * `skipped` (a run that never ran) notifies nothing.
 */
export function endEventOf(status: RunStatus): NotificationEvent | undefined {
  switch (status) {
    case "success":
      return "success";
    case "failure":
    case "timeout":
    case "lost":
    case "error":
      return "failure";
    case "cancelled":
      return "cancel";
    default:
      return undefined;
  }
}

/** The hooks whose `NOTIFY` fire on an event: its own, and `always` on every end. */
const HOOKS_OF: Readonly<Record<NotificationEvent, readonly HookName[]>> = {
  start: ["on_start"],
  success: ["on_success", "always"],
  failure: ["on_failure", "always"],
  cancel: ["on_cancel", "always"],
};

/** One notification an event makes: a resource, the hook that named it, and its excerpt flag. */
export interface HookNotification {
  readonly resource: string;
  readonly hook: HookName;
  readonly sendFailingSnippet: boolean;
}

/**
 * The notifications a run event makes from the job's hooks (`always` on every end). A resource
 * named by several hooks of one event is notified once (its first hook; the excerpt when any asks).
 */
export function notificationsFor(job: Pick<JobDef, "hooks">, event: NotificationEvent): HookNotification[] {
  const byResource = new Map<string, HookNotification>();
  for (const hook of HOOKS_OF[event]) {
    for (const item of job.hooks[hook].notify) {
      const seen = byResource.get(item.name);
      byResource.set(
        item.name,
        seen === undefined
          ? { resource: item.name, hook, sendFailingSnippet: item.sendFailingSnippet }
          : { ...seen, sendFailingSnippet: seen.sendFailingSnippet || item.sendFailingSnippet },
      );
    }
  }
  return [...byResource.values()];
}

/** The events of an approval gate that notify: a gate opened, and a gate decided (approved, rejected, timed out). */
export const APPROVAL_EVENTS = ["approval-requested", "approval-decided"] as const;
/** An event of an approval gate. */
export type ApprovalEvent = (typeof APPROVAL_EVENTS)[number];

/**
 * The resources an approval gate's events notify: every notification resource the job's hooks
 * name, whatever the hook, once each (the people told when the job starts, fails or ends are the
 * people who must hear that it waits for them). None for a job whose hooks notify nothing.
 */
export function approvalNotifications(job: Pick<JobDef, "hooks">): { readonly resource: string }[] {
  const names = new Set<string>();
  for (const hook of HOOK_NAMES) for (const item of job.hooks[hook].notify) names.add(item.name);
  return [...names].map((resource) => ({ resource }));
}

/** Whether a job's hooks notify anything at all on `event` (cheap: the hot path asks it). */
export function notifiesOn(job: Pick<JobDef, "hooks">, event: NotificationEvent): boolean {
  return HOOKS_OF[event].some((hook) => job.hooks[hook].notify.length > 0);
}

/**
 * Where one notification resource sends: its method (undefined: the integration's `method`
 * field decides when sending) and one target per delivery. Targets are the recipients (or the
 * one `recipient` a `shipctl notify --recipient` gives), each its own delivery; a webhook or
 * Slack resource without recipients has one target `""` (the integration's `webhookUrl`, no
 * channel). Undefined when Causeway delivers nothing for it (an IRC resource, a broken one).
 */
export function notificationTargets(
  def: Pick<ResourceDef, "template">,
  recipient?: string,
): { readonly method: NotificationMethod | undefined; readonly targets: readonly string[] } | undefined {
  const { setup, problems } = readNotification(def.template);
  // A resource with an error is inconsistent: it delivers nothing.
  if (!setup.delivered || problems.length > 0) return undefined;
  if (recipient !== undefined && recipient !== "") return { method: setup.method, targets: [recipient] };
  if (setup.recipients.length > 0) return { method: setup.method, targets: setup.recipients };
  return setup.method === "email" ? undefined : { method: setup.method, targets: [""] };
}

/**
 * What an outbox row keeps of the event that made it, for rendering at send time. Never a
 * secret parameter's value: the run's parameters are read again when sending, for redaction.
 */
export interface NotificationData {
  /** `start`, `success`, `failure`, `cancel`, `notify` (shipctl notify), or another event of the engine. */
  readonly event: string;
  /** The hook that named the resource; null for `shipctl notify` and other events. */
  readonly hook: HookName | null;
  readonly job: string;
  readonly runId: number;
  readonly runNumber: number;
  readonly status: RunStatus;
  readonly reason: string | null;
  readonly flow: string;
  readonly buildUrl: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** email: the end of the failed run's console goes with the mail. */
  readonly sendFailingSnippet: boolean;
  /** The notification resource's `integration` when the event happened (credentials, URL). */
  readonly integration?: string | null;
  /** `shipctl notify` options (`text`, `pretext`, `color`, `icon-url`, `username`, `recipient`...). */
  readonly options?: Readonly<Record<string, string>>;
  /** `shipctl notify --payload`: sent as is. */
  readonly payload?: unknown;
  /** Whatever else the event carries (an approval's decision...), merged into the webhook JSON. */
  readonly extra?: Mapping;
}

/** The data of an event of `run` of `job` (for `notificationsFor` or `shipctl notify`). */
export function notificationData(
  run: Pick<Run, "id" | "job" | "number" | "status" | "statusReason" | "flow" | "startedAt" | "finishedAt">,
  event: string,
  buildUrl: string,
  more: Partial<Pick<NotificationData, "hook" | "sendFailingSnippet" | "options" | "payload" | "extra">> = {},
): NotificationData {
  return {
    event,
    hook: more.hook ?? null,
    job: run.job,
    runId: run.id,
    runNumber: run.number,
    status: run.status,
    reason: run.statusReason,
    flow: run.flow,
    buildUrl,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    sendFailingSnippet: more.sendFailingSnippet ?? false,
    ...(more.options === undefined ? {} : { options: more.options }),
    ...(more.payload === undefined ? {} : { payload: more.payload }),
    ...(more.extra === undefined ? {} : { extra: more.extra }),
  };
}

/** How the outbox tries again: the first delay, the cap, and how many attempts in all. */
export interface RetryPolicy {
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
}

/** The default retry policy: 1 s, doubling, at most 5 min, 10 attempts (about 13 minutes in all). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  firstDelayMs: 1000,
  maxDelayMs: 300_000,
  maxAttempts: 10,
});

/**
 * The wait after failed attempt number `attempt` (1 for the first): `firstDelayMs` doubling,
 * capped at `maxDelayMs`, jittered down to half by `random` (in [0, 1)) so that many deliveries
 * failing together do not retry together. Undefined when the attempts are used up.
 */
export function nextAttemptDelay(attempt: number, policy: RetryPolicy, random: number): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  const full = Math.min(policy.firstDelayMs * 2 ** Math.min(attempt - 1, 40), policy.maxDelayMs);
  return Math.round(full / 2 + (full / 2) * random);
}

/**
 * Whether an HTTP answer is a refusal that trying again will not change: a 4xx other than 408
 * (timeout), 425 (too early) and 429 (too many requests). Such a delivery fails at once.
 */
export function isPermanentRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 425 && status !== 429;
}
