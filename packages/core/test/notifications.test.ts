import { describe, expect, it } from "vitest";
import {
  approvalNotifications,
  DEFAULT_RETRY_POLICY,
  emailMessage,
  endEventOf,
  escapeHtml,
  isPermanentRefusal,
  nextAttemptDelay,
  notificationData,
  notificationsFor,
  notificationTargets,
  readNotification,
  redactSecrets,
  redactText,
  secretForms,
  slackPayload,
  webhookPayload,
  HOOK_NAMES,
  type Hook,
  type HookName,
  type NotificationData,
  type NotificationEvent,
  type RunStatus,
} from "../src/index.js";

function hooks(spec: Partial<Record<HookName, readonly string[]>>, snippet: readonly string[] = []) {
  const out = {} as Record<HookName, Hook>;
  for (const h of HOOK_NAMES)
    out[h] = {
      script: [],
      notify: (spec[h] ?? []).map((name) => ({ name, sendFailingSnippet: snippet.includes(name) })),
    };
  return { hooks: out };
}

describe("endEventOf: which event a final status notifies as", () => {
  it.each<[RunStatus, NotificationEvent | undefined]>([
    ["success", "success"],
    ["failure", "failure"],
    ["timeout", "failure"],
    ["lost", "failure"],
    ["error", "failure"],
    ["cancelled", "cancel"],
    ["skipped", undefined],
    ["processing", undefined],
  ])("%s -> %s", (status, event) => {
    expect(endEventOf(status)).toBe(event);
  });
});

describe("notificationsFor: the hooks' NOTIFY of an event", () => {
  const job = hooks(
    { on_start: ["a"], on_success: ["b"], on_failure: ["c", "d"], on_cancel: ["e"], always: ["z", "c"] },
    ["d", "c"],
  );
  it.each<[NotificationEvent, string[]]>([
    ["start", ["a"]],
    ["success", ["b", "z", "c"]],
    ["failure", ["c", "d", "z"]],
    ["cancel", ["e", "z", "c"]],
  ])("%s notifies %j (always on every end, each resource once)", (event, names) => {
    expect(notificationsFor(job, event).map((n) => n.resource)).toEqual(names);
  });

  it("keeps the first hook of a resource and its excerpt flag", () => {
    expect(notificationsFor(job, "failure")).toEqual([
      { resource: "c", hook: "on_failure", sendFailingSnippet: true },
      { resource: "d", hook: "on_failure", sendFailingSnippet: true },
      { resource: "z", hook: "always", sendFailingSnippet: false },
    ]);
  });

  it("makes nothing for a job without NOTIFY", () => {
    expect(notificationsFor(hooks({}), "failure")).toEqual([]);
  });
});

describe("approvalNotifications: where a gate's events go", () => {
  it.each([
    ["no hook notifies", {}, []],
    ["one hook", { on_failure: ["team"] }, ["team"]],
    [
      "every hook, once each",
      { on_start: ["a"], on_success: ["b", "a"], always: ["c"], on_cancel: ["b"] },
      ["a", "b", "c"],
    ],
  ] as const)("%s", (_, spec, expected) => {
    expect(approvalNotifications(hooks(spec)).map((n) => n.resource)).toEqual(expected);
  });
});

describe("readNotification and notificationTargets", () => {
  it.each<[string, Record<string, unknown>, string | undefined, readonly string[] | undefined, readonly string[]]>([
    ["email", { method: "email", recipients: ["a@b.io", "c@d.io"] }, "email", ["a@b.io", "c@d.io"], []],
    ["slack told by #/@", { recipients: ["#deploys", "@oncall"] }, "slack", ["#deploys", "@oncall"], []],
    ["webhook told by URLs", { recipients: ["https://x.io/h"] }, "webhook", ["https://x.io/h"], []],
    ["one recipient as a string", { method: "slack", recipients: "#ops" }, "slack", ["#ops"], []],
    ["only an integration: its method decides", {}, undefined, [""], []],
    ["webhook to the integration's URL", { method: "Webhook" }, "webhook", [""], []],
    [
      "irc: accepted, not delivered",
      { method: "irc", recipients: ["s#c"] },
      undefined,
      undefined,
      ["PIPELINE_NOTIFICATION_NOT_DELIVERED"],
    ],
    ["unknown method", { method: "pigeon" }, undefined, undefined, ["PIPELINE_NOTIFICATION_METHOD"]],
    [
      "a bad address",
      { method: "email", recipients: ["nope"] },
      "email",
      undefined,
      ["PIPELINE_NOTIFICATION_RECIPIENT"],
    ],
    ["email without recipients", { method: "email" }, "email", undefined, ["PIPELINE_NOTIFICATION_RECIPIENT"]],
    [
      "a slack name without # or @",
      { method: "slack", recipients: ["ops"] },
      "slack",
      undefined,
      ["PIPELINE_NOTIFICATION_RECIPIENT"],
    ],
    [
      "a URL that is not http",
      { method: "webhook", recipients: ["ftp://x.io"] },
      "webhook",
      undefined,
      ["PIPELINE_NOTIFICATION_RECIPIENT"],
    ],
    ["mixed recipients", { recipients: ["#a", "a@b.io"] }, undefined, undefined, ["PIPELINE_NOTIFICATION_RECIPIENT"]],
  ])("%s", (_, template, method, targets, codes) => {
    const read = readNotification(template);
    expect(read.problems.map((p) => p.code)).toEqual(codes);
    if (codes.length === 0) expect(read.setup.method).toBe(method);
    expect(notificationTargets({ template })?.targets).toEqual(targets);
  });

  it("sends to a shipctl --recipient instead of the recipients", () => {
    expect(notificationTargets({ template: { recipients: ["#a", "#b"] } }, "#c")).toEqual({
      method: "slack",
      targets: ["#c"],
    });
  });
});

describe("nextAttemptDelay: the backoff", () => {
  const policy = { firstDelayMs: 1000, maxDelayMs: 300_000, maxAttempts: 10 };
  it.each<[number, number, number | undefined]>([
    [1, 0.5, 750],
    [1, 0, 500],
    [2, 0.5, 1500],
    [3, 0.5, 3000],
    [9, 0, 128_000],
    [9, 0.5, 192_000],
    [20, 0.999, undefined],
    [10, 0.5, undefined],
  ])("after attempt %d (random %d): %s ms", (attempt, random, delay) => {
    const got = nextAttemptDelay(attempt, policy, random);
    if (delay === undefined) expect(got).toBeUndefined();
    else expect(got).toBe(delay);
  });

  it("caps the delay, and the default policy gives up after 10 attempts", () => {
    expect(nextAttemptDelay(9, { ...policy, maxDelayMs: 5000 }, 0.5)).toBe(3750);
    expect(nextAttemptDelay(9, DEFAULT_RETRY_POLICY, 0)).toBeGreaterThan(0);
    expect(nextAttemptDelay(10, DEFAULT_RETRY_POLICY, 0)).toBeUndefined();
  });

  it.each<[number, boolean]>([
    [400, true],
    [404, true],
    [408, false],
    [429, false],
    [500, false],
    [503, false],
  ])("HTTP %d is a permanent refusal: %s", (status, permanent) => {
    expect(isPermanentRefusal(status)).toBe(permanent);
  });
});

const RUN = {
  id: 41,
  job: "deploy",
  number: 3,
  status: "timeout" as const,
  statusReason: "ran longer than 1 minute",
  flow: "f-1",
  startedAt: "2026-12-03T10:00:00.000Z",
  finishedAt: "2026-12-03T10:01:00.000Z",
};
const URL = "http://127.0.0.1:4810/api/v1/runs/41";

describe("payloads", () => {
  const failure: NotificationData = notificationData(RUN, "failure", URL, { hook: "on_failure" });

  it("webhook: the event's fields and a summary", () => {
    expect(webhookPayload(failure)).toEqual({
      event: "failure",
      job: "deploy",
      runId: 41,
      runNumber: 3,
      status: "timeout",
      reason: "ran longer than 1 minute",
      flow: "f-1",
      buildUrl: URL,
      startedAt: RUN.startedAt,
      finishedAt: RUN.finishedAt,
      text: "deploy #3 failed (timeout): ran longer than 1 minute",
    });
  });

  it.each([
    [
      "a gate opened",
      "approval-requested",
      { approvers: ["alice", "ops"], minApprovals: 2 },
      "deploy #3 waits for approval from alice, ops (2 needed)",
      "#f0ad4e",
    ],
    [
      "a gate open to any operator",
      "approval-requested",
      { approvers: [], minApprovals: 1 },
      "deploy #3 waits for approval",
      "#f0ad4e",
    ],
    [
      "an approval",
      "approval-decided",
      { outcome: "approved", by: "bob", comment: null, timedOut: false },
      "deploy #3 was approved by bob",
      "#65cea7",
    ],
    [
      "a reject with its comment",
      "approval-decided",
      { outcome: "rejected", by: "bob", comment: "not today", timedOut: false },
      "deploy #3 was rejected by bob: not today",
      "#f15a4c",
    ],
    [
      "a timeout",
      "approval-decided",
      { outcome: "rejected", by: "system", comment: null, timedOut: true },
      "deploy #3 approval timed out: rejected",
      "#f15a4c",
    ],
  ] as const)("approval events: %s", (_, event, extra, text, color) => {
    const data = notificationData(RUN, event, URL, { extra });
    expect(webhookPayload(data)).toMatchObject({ ...extra, event, text });
    expect(slackPayload(data, "")).toMatchObject({ attachments: [{ fallback: text, color }] });
    expect(emailMessage(data, undefined).subject).toBe(`[Causeway] ${text}`);
  });

  it("webhook: a shipctl --payload as is, the options otherwise", () => {
    const notify = notificationData(RUN, "notify", URL, { options: { text: "hi", color: "#000" } });
    expect(webhookPayload(notify)).toMatchObject({ event: "notify", text: "hi", color: "#000" });
    expect(webhookPayload(notificationData(RUN, "notify", URL, { payload: [1, 2] }))).toEqual([1, 2]);
  });

  it("slack: Shippable's defaults, the colour by outcome, the channel", () => {
    const ok = notificationData({ ...RUN, status: "success", statusReason: null }, "success", URL);
    expect(slackPayload(ok, "#deploys")).toEqual({
      username: "Causeway",
      channel: "#deploys",
      attachments: [
        {
          pretext: RUN.finishedAt,
          text: `<${URL}|deploy #3> succeeded`,
          color: "#65cea7",
          fallback: "deploy #3 succeeded",
        },
      ],
    });
    expect(slackPayload(failure, "")).toMatchObject({ attachments: [{ color: "#f15a4c" }] });
    expect(slackPayload(failure, "")).not.toHaveProperty("channel");
    const custom = notificationData(RUN, "notify", URL, {
      options: { text: "t", pretext: "p", color: "#123456", "icon-url": "https://i/x.png", username: "bot" },
    });
    expect(slackPayload(custom, "@me")).toEqual({
      username: "bot",
      icon_url: "https://i/x.png",
      channel: "@me",
      attachments: [{ pretext: "p", text: "t", color: "#123456", fallback: "deploy #3: t" }],
    });
  });

  it("email: subject, text and HTML escaped, with the excerpt", () => {
    const data = { ...failure, reason: "<script>&" };
    const mail = emailMessage(data, "make: *** [all] Error 2 <b>");
    expect(mail.subject).toBe("[Causeway] deploy #3 failed (timeout): <script>&");
    expect(mail.text).toContain("Reason: <script>&");
    expect(mail.text).toContain("make: *** [all] Error 2 <b>");
    expect(mail.html).toContain("&lt;script&gt;&amp;");
    expect(mail.html).toContain("<pre>make: *** [all] Error 2 &lt;b&gt;</pre>");
    expect(mail.html).not.toContain("<script>");
    expect(emailMessage(data, undefined).text).not.toContain("console");
    expect(escapeHtml(`"'`)).toBe("&quot;&#39;");
  });
});

describe("redaction", () => {
  const secret = 's3cr"et/value';
  const b64 = (s: string) => btoa(s);

  it.each<[string, string]>([
    ["plain", `token=${secret};`],
    ["JSON-escaped", JSON.stringify({ t: secret })],
    ["URL-encoded", `?t=${encodeURIComponent(secret)}`],
    ["base64 alone", b64(secret)],
    ["base64 inside basic auth, offset 0", b64(`${secret}:x`)],
    ["base64 inside basic auth, offset 1", b64(`u:${secret}`)],
    ["base64 inside basic auth, offset 2", b64(`us:${secret}`)],
    ["base64 inside basic auth, offset 3", b64(`usr:${secret}`)],
  ])("replaces the %s form", (_, text) => {
    const out = redactText(text, [secret]);
    expect(out).toContain("***");
    for (const form of secretForms([secret])) expect(out).not.toContain(form);
    expect(out).not.toContain("et/value");
  });

  it("redacts deep over JSON, keys included, and keeps other values", () => {
    const value = { a: [`x ${secret} y`, 3, true, null], [secret]: { b: secret } };
    expect(redactSecrets(value, [secret])).toEqual({ a: ["x *** y", 3, true, null], "***": { b: "***" } });
  });

  it("leaves values shorter than 4 characters alone (they would star every text)", () => {
    expect(redactText("true 587 abc", ["abc", "587", "", "true"])).toBe("*** 587 abc");
    expect(redactSecrets({ a: 1 }, [])).toEqual({ a: 1 });
  });
});
