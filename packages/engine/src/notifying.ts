import {
  endEventOf,
  notificationData,
  notificationsFor,
  notificationTargets,
  notifiesOn,
  redactSecrets,
  secretNamesOf,
  type HookName,
  type JobDef,
  type Mapping,
  type NotificationData,
  type NotificationEvent,
  type NotificationRequest,
  type Run,
  type StoreTx,
} from "@causeway/core";
import type { EngineContext, EventBuffer } from "./context.js";

/** What to notify: an event of a run, from the job's hooks or to the resources given. */
export interface NotifyRequest {
  readonly job: JobDef;
  readonly run: Run;
  /** A hook event (`start`, `success`, `failure`, `cancel`), or another event of the engine. */
  readonly event: string;
  /**
   * The resources to notify; default: those the job's hooks name for `event` (which must then
   * be a hook event). An approval gate passes the resources it notifies.
   */
  readonly resources?: readonly { readonly resource: string; readonly sendFailingSnippet?: boolean }[];
  /** Fields merged into the webhook JSON (an approval's decision, who decided...). */
  readonly extra?: Mapping;
}

/**
 * Puts the deliveries of an event into the outbox, in the caller's transaction (so they exist
 * exactly when the change that causes them is committed): one row per target of each notification
 * resource. A resource that is gone, not a notification, or delivers nothing (IRC, a broken
 * definition) is skipped. After the commit the engine wakes the outbox (`EngineOptions.onOutbox`).
 * Costs nothing for a job whose hooks notify nothing on the event.
 */
export async function enqueueNotifications(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  request: NotifyRequest,
): Promise<number> {
  const { job, run, event } = request;
  const items: { resource: string; sendFailingSnippet: boolean; hook: HookName | null }[] =
    request.resources?.map((r) => ({
      resource: r.resource,
      sendFailingSnippet: r.sendFailingSnippet ?? false,
      hook: null,
    })) ?? (isHookEvent(event) && notifiesOn(job, event) ? notificationsFor(job, event) : []);
  if (items.length === 0) return 0;
  const buildUrl = ctx.options.buildUrl(run.id);
  const now = ctx.clock.now().toISOString();
  let count = 0;
  for (const item of items) {
    const data = notificationData(run, event, buildUrl, {
      hook: item.hook,
      sendFailingSnippet: item.sendFailingSnippet,
      ...(request.extra === undefined ? {} : { extra: request.extra }),
    });
    count += await insertDeliveries(ctx, tx, item.resource, undefined, run, job.name, event, data, now);
  }
  events.outbox += count;
  return count;
}

/**
 * The outbox rows of a run's `shipctl notify` requests (`RunResult.notifications`): each to the
 * request's `--recipient`, else to the resource's recipients. Their text and payload are
 * redacted of the run's secret parameters before they are stored.
 */
export async function enqueueRequests(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  job: JobDef,
  run: Run,
  requests: readonly NotificationRequest[],
): Promise<number> {
  if (requests.length === 0) return 0;
  const secrets = secretValues(job, run);
  const buildUrl = ctx.options.buildUrl(run.id);
  const now = ctx.clock.now().toISOString();
  let count = 0;
  for (const request of requests) {
    const options = redactSecrets({ ...request.options }, secrets);
    const data = notificationData(run, "notify", buildUrl, {
      options,
      ...(request.payload === undefined ? {} : { payload: redactSecrets(request.payload, secrets) }),
    });
    count += await insertDeliveries(ctx, tx, request.resource, options.recipient, run, job.name, "notify", data, now);
  }
  events.outbox += count;
  return count;
}

/** The deliveries of a run's end: its hooks' notifications, then its `shipctl notify` requests. */
export async function enqueueEnd(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  job: JobDef,
  run: Run,
  requests: readonly NotificationRequest[] = [],
): Promise<void> {
  const event = endEventOf(run.status);
  if (event !== undefined && notifiesOn(job, event)) await enqueueNotifications(ctx, tx, events, { job, run, event });
  await enqueueRequests(ctx, tx, events, job, run, requests);
}

async function insertDeliveries(
  ctx: EngineContext,
  tx: StoreTx,
  resource: string,
  recipient: string | undefined,
  run: Run,
  job: string,
  event: string,
  data: NotificationData,
  now: string,
): Promise<number> {
  const def = ctx.model.resource(resource);
  if (def === undefined || def.type !== "notification" || !def.consistent) return 0;
  const where = notificationTargets(def, recipient);
  if (where === undefined) return 0;
  for (const target of where.targets) {
    await tx.insertNotification({
      runId: run.id,
      job,
      event,
      resource,
      method: where.method ?? null,
      target,
      data: { ...data, integration: def.integration ?? null },
      nextAttemptAt: now,
    });
  }
  return where.targets.length;
}

function isHookEvent(event: string): event is NotificationEvent {
  return event === "start" || event === "success" || event === "failure" || event === "cancel";
}

/** The values of the run's secret parameters. */
function secretValues(job: JobDef, run: Run): string[] {
  const names = secretNamesOf(run, job.params);
  return [...names].map((name) => run.params[name]).filter((v): v is string => v !== undefined);
}
