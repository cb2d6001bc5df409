import type { NotificationData } from "./notifications.js";

/**
 * What each notification method sends, built from an outbox row's data (pure). The server's
 * senders post or mail these after redacting them; shippable.md §9.6 gives Slack's defaults.
 */

/** Slack attachment colours: Shippable's green on success, red on failure. */
export const NOTIFY_COLORS: Readonly<Record<string, string>> = {
  success: "#65cea7",
  failure: "#f15a4c",
  cancel: "#a0a0a0",
  start: "#5183a0",
  "approval-requested": "#f0ad4e",
};

/** The user name of Slack posts when `--username` does not give one. */
export const DEFAULT_NOTIFY_USERNAME = "Causeway";

const VERBS: Readonly<Record<string, string>> = {
  start: "started",
  success: "succeeded",
  failure: "failed",
  cancel: "was cancelled",
};

/** The one-line summary of an event: `deploy #3 failed: task 1 exited 2`. */
export function notificationSummary(data: NotificationData): string {
  return `${data.job} #${data.runNumber}${summaryTail(data)}`;
}

// What follows the run's label in the summary.
function summaryTail(data: NotificationData): string {
  if (data.event === "notify") return `: ${data.options?.text ?? "notification"}`;
  if (data.event === "approval-requested") return ` waits for approval${approversText(data.extra)}`;
  if (data.event === "approval-decided") return decisionText(data.extra);
  const verb = VERBS[data.event] ?? data.event;
  const status = data.event === "failure" && data.status !== "failure" ? ` (${data.status})` : "";
  const why = (data.event === "failure" || data.event === "cancel") && data.reason !== null ? `: ${data.reason}` : "";
  return ` ${verb}${status}${why}`;
}

// "from alice, ops (2 needed)" of a gate opened.
function approversText(extra: NotificationData["extra"]): string {
  const approvers = Array.isArray(extra?.approvers) ? extra.approvers.map(String) : [];
  const needed =
    typeof extra?.minApprovals === "number" && extra.minApprovals > 1 ? ` (${extra.minApprovals} needed)` : "";
  return `${approvers.length > 0 ? ` from ${approvers.join(", ")}` : ""}${needed}`;
}

// " was approved by bob", " was rejected by bob: not today", " approval timed out: rejected".
function decisionText(extra: NotificationData["extra"]): string {
  const outcome = typeof extra?.outcome === "string" ? extra.outcome : "decided";
  const by = typeof extra?.by === "string" ? extra.by : "";
  const comment = typeof extra?.comment === "string" && extra.comment !== "" ? `: ${extra.comment}` : "";
  if (extra?.timedOut === true) return ` approval timed out: ${outcome}`;
  return ` was ${outcome}${by === "" ? "" : ` by ${by}`}${comment}`;
}

/** The time an event happened: the run's end, else its start. */
function eventTime(data: NotificationData): string | null {
  return data.event === "start" ? data.startedAt : (data.finishedAt ?? data.startedAt);
}

/**
 * The JSON a webhook receives: `--payload` as is; otherwise the event's fields (`event`, `job`,
 * `runId`, `runNumber`, `status`, `reason`, `flow`, `buildUrl`, `startedAt`, `finishedAt`,
 * `text`), the `shipctl notify` options that Shippable's default payload had, and `extra`.
 */
export function webhookPayload(data: NotificationData): unknown {
  if (data.payload !== undefined) return data.payload;
  const o = data.options ?? {};
  return {
    ...data.extra,
    event: data.event,
    job: data.job,
    runId: data.runId,
    runNumber: data.runNumber,
    status: data.status,
    reason: data.reason,
    flow: data.flow,
    buildUrl: data.buildUrl,
    startedAt: data.startedAt,
    finishedAt: data.finishedAt,
    text: o.text ?? notificationSummary(data),
    ...(o.pretext === undefined ? {} : { pretext: o.pretext }),
    ...(o.color === undefined ? {} : { color: o.color }),
    ...(o["icon-url"] === undefined ? {} : { iconUrl: o["icon-url"] }),
    ...(o.username === undefined ? {} : { username: o.username }),
  };
}

/**
 * A Slack incoming-webhook message: one attachment with the event, coloured by outcome, the
 * run's link, and `channel` when the resource names one. `--payload` is sent as is (with the
 * channel added when it has none); the other options replace the defaults.
 */
export function slackPayload(data: NotificationData, channel: string): unknown {
  const withChannel = channel === "" ? {} : { channel };
  if (data.payload !== undefined) {
    const p = data.payload;
    return p !== null && typeof p === "object" && !Array.isArray(p) ? { ...withChannel, ...p } : p;
  }
  const o = data.options ?? {};
  const summary = notificationSummary(data);
  const text = o.text ?? `<${data.buildUrl}|${data.job} #${data.runNumber}>${summaryTail(data)}`;
  return {
    username: o.username ?? DEFAULT_NOTIFY_USERNAME,
    ...(o["icon-url"] === undefined ? {} : { icon_url: o["icon-url"] }),
    ...withChannel,
    attachments: [
      {
        pretext: o.pretext ?? eventTime(data) ?? "",
        text,
        color: o.color ?? NOTIFY_COLORS[colorKey(data)] ?? NOTIFY_COLORS.start,
        fallback: summary,
      },
    ],
  };
}

// A decided gate takes the colour of its outcome.
function colorKey(data: NotificationData): string {
  if (data.event !== "approval-decided") return data.event;
  return data.extra?.outcome === "approved" ? "success" : "failure";
}

/** An email: subject, plain text and HTML (every value HTML-escaped). */
export interface EmailMessage {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * The email of an event: `[Causeway] <summary>` as subject; a text and an HTML body with the
 * run's fields and link; and, when given, the failing console excerpt (`excerpt`) in a block.
 */
export function emailMessage(data: NotificationData, excerpt: string | undefined): EmailMessage {
  const summary = notificationSummary(data);
  const fields: [string, string][] = [
    ["Job", data.job],
    ["Run", `#${data.runNumber}`],
    ["Status", data.status],
    ...(data.reason === null ? [] : ([["Reason", data.reason]] as [string, string][])),
    ...(data.startedAt === null ? [] : ([["Started", data.startedAt]] as [string, string][])),
    ...(data.finishedAt === null ? [] : ([["Finished", data.finishedAt]] as [string, string][])),
    ["Flow", data.flow],
  ];
  const intro = data.options?.pretext;
  const textLines = [
    ...(intro === undefined ? [] : [intro, ""]),
    summary,
    "",
    ...fields.map(([k, v]) => `${k}: ${v}`),
    "",
    data.buildUrl,
    ...(excerpt === undefined ? [] : ["", "The end of the run's console:", "", excerpt]),
  ];
  const html = [
    "<!doctype html>",
    "<html><body>",
    ...(intro === undefined ? [] : [`<p>${escapeHtml(intro)}</p>`]),
    `<p><strong>${escapeHtml(summary)}</strong></p>`,
    "<table>",
    ...fields.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
    "</table>",
    `<p><a href="${escapeHtml(data.buildUrl)}">${escapeHtml(data.buildUrl)}</a></p>`,
    ...(excerpt === undefined ? [] : ["<p>The end of the run's console:</p>", `<pre>${escapeHtml(excerpt)}</pre>`]),
    "</body></html>",
  ];
  return { subject: `[Causeway] ${summary}`, text: `${textLines.join("\n")}\n`, html: `${html.join("\n")}\n` };
}
