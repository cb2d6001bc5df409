import { createHmac } from "node:crypto";
import type { RunJson } from "@causeway/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { rm } from "node:fs/promises";
import { createServer as createNetServer } from "node:net";
import { tempDir, waitFor } from "./helpers.js";
import {
  settled,
  startNotifyServer,
  startReceiver,
  startSmtp,
  type NotifyServer,
  type Receiver,
} from "./notify-harness.js";

// Notifications end to end (docs/semantics.md "Notifications"): real servers, real runs, a real
// HTTP receiver for webhook and Slack posts, a real SMTP server for mails.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function receiver(answer?: (i: number) => number | "hang"): Promise<Receiver> {
  const r = await startReceiver(answer);
  cleanups.push(() => r.stop());
  return r;
}

async function server(...args: Parameters<typeof startNotifyServer>): Promise<NotifyServer> {
  const s = await startNotifyServer(...args);
  cleanups.push(() => s.stop());
  return s;
}

const body = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;

describe("hook events", () => {
  it("deliver on_start, on_success, on_failure, on_cancel, always and shipctl notify, each exactly once", async () => {
    const rx = await receiver();
    const line = `
resources:
  - name: hook
    type: notification
    integration: hookint
    versionTemplate:
      method: webhook
      recipients: ["${rx.url}/hook"]
  - name: chat
    type: notification
    integration: slackint
    pointer:
      recipients: ["#deploys", "@oncall"]
jobs:
  - name: ok
    type: runSh
    steps:
      - IN: hook
      - TASK:
          script:
            - shipctl notify hook --text="hello from $JOB_NAME" --color=#000000
    on_start:
      NOTIFY: hook
    on_success:
      NOTIFY: hook
    always:
      NOTIFY: chat
  - name: bad
    type: runSh
    steps:
      - TASK:
          script: [exit 3]
    on_failure:
      - NOTIFY: hook
    always:
      - NOTIFY: chat
  - name: slow
    type: runSh
    steps:
      - TASK:
          script: [sleep 30]
    on_cancel:
      NOTIFY: hook
`;
    const s = await server(
      { "causeway.yml": line },
      { hookint: { secret: "signing-key-1234" }, slackint: { webhookUrl: `${rx.url}/slack` } },
    );
    const ok = await s.run("ok");
    expect(ok.status).toBe("success");
    const bad = await s.run("bad");
    expect(bad.status).toBe("failure");
    const { body: slow } = await s.api<RunJson>("POST", "/jobs/slow/runs", {});
    await waitFor(
      "slow to start",
      async () => (await s.api<RunJson>("GET", `/runs/${slow.id}`)).body.status === "processing",
    );
    await s.api("POST", `/runs/${slow.id}/cancel`);
    expect((await s.finished(slow.id)).status).toBe("cancelled");

    const all = await settled(s);
    expect(all.map((n) => [n.job, n.event, n.resource, n.target, n.state])).toEqual([
      ["ok", "start", "hook", `${rx.url}/hook`, "delivered"],
      ["ok", "success", "hook", `${rx.url}/hook`, "delivered"],
      ["ok", "success", "chat", "#deploys", "delivered"],
      ["ok", "success", "chat", "@oncall", "delivered"],
      ["ok", "notify", "hook", `${rx.url}/hook`, "delivered"],
      ["bad", "failure", "hook", `${rx.url}/hook`, "delivered"],
      ["bad", "failure", "chat", "#deploys", "delivered"],
      ["bad", "failure", "chat", "@oncall", "delivered"],
      ["slow", "cancel", "hook", `${rx.url}/hook`, "delivered"],
    ]);
    expect(all.every((n) => n.attempts === 1)).toBe(true);

    // Exactly once each: one request per delivery, named by its id.
    expect(rx.requests).toHaveLength(all.length);
    const ids = rx.requests.map((r) => Number(r.headers["x-causeway-delivery"]));
    expect([...ids].sort((a, b) => a - b)).toEqual(all.map((n) => n.id).sort((a, b) => a - b));

    const hooks = rx.requests.filter((r) => r.path === "/hook");
    for (const r of hooks) {
      expect(r.headers["x-causeway-signature-256"]).toBe(
        `sha256=${createHmac("sha256", "signing-key-1234").update(r.body).digest("hex")}`,
      );
      expect(r.headers["content-type"]).toBe("application/json");
    }
    const byEvent = new Map(
      hooks.map((r) => [`${String(r.headers["x-causeway-event"])}${String(body(r).job)}`, body(r)]),
    );
    expect(byEvent.get("startok")).toMatchObject({ event: "start", job: "ok", runId: ok.id, status: "processing" });
    expect(byEvent.get("successok")).toMatchObject({
      event: "success",
      runNumber: ok.number,
      status: "success",
      flow: ok.flow,
      text: `ok #${ok.number} succeeded`,
      buildUrl: `${s.url}/api/v1/runs/${ok.id}`,
    });
    expect(byEvent.get("notifyok")).toMatchObject({ event: "notify", text: "hello from ok", color: "#000000" });
    expect(byEvent.get("failurebad")).toMatchObject({ event: "failure", status: "failure", runId: bad.id });
    expect(byEvent.get("cancelslow")).toMatchObject({ event: "cancel", status: "cancelled" });

    const slack = rx.requests.filter((r) => r.path === "/slack").map(body);
    expect(slack).toHaveLength(4);
    expect(slack.map((p) => p.channel)).toEqual(expect.arrayContaining(["#deploys", "@oncall"]));
    expect(slack.find((p) => (p.attachments as { color: string }[])[0]?.color === "#65cea7")).toMatchObject({
      username: "Causeway",
      attachments: [{ text: `<${s.url}/api/v1/runs/${ok.id}|ok #${ok.number}> succeeded` }],
    });
    expect(slack.filter((p) => (p.attachments as { color: string }[])[0]?.color === "#f15a4c")).toHaveLength(2);
  }, 60_000);
});

describe("email", () => {
  it("mails text and HTML with the failing console excerpt, and redacts every secret from every payload", async () => {
    const rx = await receiver();
    const smtp = await startSmtp("mailer", "mail-pass-9876");
    cleanups.push(() => smtp.stop());
    const token = 'tok"en-secret-42';
    const line = `
resources:
  - name: mail
    type: notification
    integration: smtp1
    versionTemplate:
      method: email
      recipients: [ops@example.com, dev@example.com]
  - name: hook2
    type: notification
    integration: hookint2
    versionTemplate:
      method: webhook
jobs:
  - name: leaky
    type: runSh
    params:
      TOKEN: {type: secret}
    steps:
      - IN: hook2
      - TASK:
          script:
            - shipctl notify hook2 --text="token $TOKEN b64 $(printf %s "$TOKEN" | base64) int int-token-5678"
            - echo "the token is $TOKEN"
            - echo "<b>html</b> & stuff"
            - echo "smtp password mail-pass-9876"
            - exit 4
    on_failure:
      NOTIFY:
        - name: mail
          sendFailingSnippet: true
        - hook2
`;
    const s = await server(
      { "causeway.yml": line },
      {
        smtp1: {
          host: "127.0.0.1",
          port: String(smtp.port),
          username: "mailer",
          password: "mail-pass-9876",
          from: "causeway@example.com",
        },
        hookint2: { webhookUrl: `${rx.url}/int`, apiToken: "int-token-5678" },
      },
    );
    const run = await s.run("leaky", { TOKEN: token });
    expect(run.status).toBe("failure");
    const all = await settled(s);
    expect(all.map((n) => [n.resource, n.event, n.target, n.state])).toEqual([
      ["mail", "failure", "ops@example.com", "delivered"],
      ["mail", "failure", "dev@example.com", "delivered"],
      ["hook2", "failure", "", "delivered"],
      ["hook2", "notify", "", "delivered"],
    ]);

    expect(smtp.mails.map((m) => m.to)).toEqual(expect.arrayContaining([["ops@example.com"], ["dev@example.com"]]));
    for (const mail of smtp.mails) {
      expect(mail.from).toBe("causeway@example.com");
      expect(mail.subject).toBe(`[Causeway] leaky #${run.number} failed: ${run.statusReason}`);
      expect(mail.text).toContain(`leaky #${run.number} failed`);
      expect(mail.text).toContain("The end of the run's console:");
      expect(mail.text).toContain("the token is ***");
      expect(mail.text).toContain("<b>html</b> & stuff");
      expect(mail.text).toContain("exit 4");
      expect(mail.html).toContain("the token is ***");
      expect(mail.html).toContain("&lt;b&gt;html&lt;/b&gt; &amp; stuff");
      expect(mail.html).toContain(`href="${s.url}/api/v1/runs/${run.id}"`);
      expect(mail.headers.get("x-causeway-delivery")).toMatch(/^\d+$/);
    }

    // The run's secret parameter in every form, and each integration's own values, in what it sent.
    const tokenForms = [token, JSON.stringify(token).slice(1, -1), Buffer.from(token).toString("base64")];
    for (const r of rx.requests)
      for (const secret of [...tokenForms, "int-token-5678"]) expect(r.body).not.toContain(secret);
    for (const m of smtp.mails)
      for (const text of [m.subject, m.text, m.html, m.raw])
        for (const secret of [...tokenForms, "mail-pass-9876"]) expect(text).not.toContain(secret);
    expect(smtp.mails[0]?.text).toContain("smtp password ***");
    const notify = rx.requests.map(body).find((p) => p.event === "notify");
    expect(notify?.text).toBe("token *** b64 *** int ***");
  }, 60_000);
});

describe("delivery faults", () => {
  const line = (url: string) => `
resources:
  - name: hook
    type: notification
    versionTemplate:
      recipients: ["${url}"]
jobs:
  - name: ping
    type: runSh
    steps:
      - TASK:
          script: [true]
    on_success:
      NOTIFY: hook
`;

  it("retries a receiver that is down for a while, with backoff, then delivers once", async () => {
    const rx = await receiver((i) => (i < 2 ? 503 : 200));
    const s = await server({ "causeway.yml": line(`${rx.url}/h`) });
    await s.run("ping");
    const [delivery] = await settled(s);
    expect(delivery).toMatchObject({ state: "delivered", attempts: 3, lastError: expect.stringContaining("HTTP 503") });
    expect(rx.requests.map((r) => r.answer)).toEqual([503, 503, 200]);
    expect(new Set(rx.requests.map((r) => r.headers["x-causeway-delivery"]))).toEqual(new Set([String(delivery?.id)]));
    expect(rx.accepted()).toHaveLength(1);
  }, 60_000);

  it("gives up on a receiver that never answers, shows it failed, and keeps scheduling runs meanwhile", async () => {
    const rx = await receiver(() => "hang");
    const s = await server({ "causeway.yml": line(`${rx.url}/h`) }, {}, { notifyTimeoutMs: 200, notifyMaxAttempts: 2 });
    // Runs go on while deliveries hang: each finishes, each adds a delivery.
    for (let i = 0; i < 3; i++) expect((await s.run("ping")).status).toBe("success");
    const failed = await waitFor("three failed deliveries", async () => {
      const f = await s.deliveries("failed");
      return f.length === 3 ? f : undefined;
    });
    for (const n of failed) {
      expect(n).toMatchObject({ attempts: 2, nextAttemptAt: null });
      expect(n.lastError).toMatch(/no answer from 127\.0\.0\.1:\d+ within 200 ms/);
    }
    expect(
      s.logger.lines.some((l) =>
        l.includes(`notification ${failed[0]?.id} (hook, success of ping) failed after 2 attempts`),
      ),
    ).toBe(true);

    // Back again: a failed delivery retried by hand is sent.
    rx.answer = () => 200;
    const id = failed[0]?.id ?? 0;
    const retried = await s.api<{ state: string; attempts: number }>("POST", `/notifications/${id}/retry`);
    expect(retried).toMatchObject({ status: 200, body: { state: "pending", attempts: 0 } });
    await waitFor("the retried delivery", async () => (await s.deliveries("delivered")).some((n) => n.id === id));
    expect((await s.api<{ error: { code: string } }>("POST", `/notifications/${id}/retry`)).body.error.code).toBe(
      "NOTIFICATION_NOT_FAILED",
    );
    expect((await s.api<{ error: { code: string } }>("POST", "/notifications/9999/retry")).body.error.code).toBe(
      "NOTIFICATION_NOT_FOUND",
    );
    expect((await s.api("GET", "/notifications?state=lost")).status).toBe(400);
  }, 60_000);

  it("fails a delivery fetch never sends (a blocked port) at once, and retries a refused connection", async () => {
    // A port that was just free: nothing listens there.
    const spare = createNetServer();
    await new Promise<void>((resolve) => spare.listen(0, "127.0.0.1", resolve));
    const address = spare.address();
    const closed = typeof address === "object" && address !== null ? address.port : 0;
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    const s = await server(
      {
        "causeway.yml": `
resources:
  - name: blocked
    type: notification
    versionTemplate:
      recipients: ["http://127.0.0.1:6000/h"]
  - name: refused
    type: notification
    versionTemplate:
      recipients: ["http://127.0.0.1:${closed}/h"]
jobs:
  - name: ping
    type: runSh
    steps:
      - TASK:
          script: [true]
    on_success:
      NOTIFY: [blocked, refused]
`,
      },
      {},
      { notifyMaxAttempts: 3 },
    );
    await s.run("ping");
    const byResource = new Map((await settled(s)).map((n) => [n.resource, n]));
    expect(byResource.get("blocked")).toMatchObject({
      state: "failed",
      attempts: 1,
      lastError: "127.0.0.1:6000: bad port (fetch never sends to this URL)",
    });
    expect(byResource.get("refused")).toMatchObject({
      state: "failed",
      attempts: 3,
      lastError: `127.0.0.1:${closed}: ECONNREFUSED`,
    });
    const id = byResource.get("blocked")?.id;
    expect(
      s.logger.lines.some((l) =>
        l.includes(`notification ${id} (blocked, success of ping) failed after 1 attempt: 127.0.0.1:6000: bad port`),
      ),
    ).toBe(true);
  }, 60_000);

  it("sends at the next start what was put into the outbox while the server stopped", async () => {
    const rx = await receiver();
    const root = await tempDir("notify-restart");
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const files = {
      "causeway.yml": `
resources:
  - name: hook
    type: notification
    versionTemplate:
      recipients: ["${rx.url}/h"]
jobs:
  - name: slow
    type: runSh
    steps:
      - TASK:
          script: [sleep 30]
    on_cancel:
      NOTIFY: hook
`,
    };
    const first = await startNotifyServer(files, {}, {}, root);
    const { body: run } = await first.api<RunJson>("POST", "/jobs/slow/runs", {});
    await waitFor(
      "slow to start",
      async () => (await first.api<RunJson>("GET", `/runs/${run.id}`)).body.status === "processing",
    );
    // The stop cancels the run after the outbox stopped: its on_cancel delivery waits in the store.
    await first.stop();
    expect(rx.requests).toHaveLength(0);
    const second = await startNotifyServer(files, {}, {}, root);
    cleanups.push(() => second.stop());
    const [delivery] = await settled(second);
    expect(delivery).toMatchObject({ event: "cancel", state: "delivered", attempts: 1, runId: run.id });
    expect(rx.requests.map(body)).toMatchObject([
      { event: "cancel", status: "cancelled", reason: "the server is stopping" },
    ]);
  }, 60_000);
});

describe("approval gates", () => {
  //   gated (requiresApproval: alice; on_failure NOTIFY hook) -- the gate's events go to hook
  const line = (url: string) => `
resources:
  - name: hook
    type: notification
    versionTemplate:
      recipients: ["${url}/gate"]
jobs:
  - name: gated
    type: runSh
    requiresApproval: { approvers: [alice, bob], minApprovals: 2 }
    steps:
      - TASK:
          script: [true]
    on_failure:
      NOTIFY: hook
`;

  const decide = (s: NotifyServer, id: number, verdict: "approve" | "reject", by: string, comment?: string) =>
    fetch(`${s.url}/api/v1/runs/${id}/${verdict}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${s.token}`,
        "content-type": "application/json",
        "x-causeway-user": by,
      },
      body: JSON.stringify(comment === undefined ? {} : { comment }),
    });

  it("tells the job's notification resources when a gate waits and when it is decided, once each", async () => {
    const rx = await receiver();
    const s = await server({ "causeway.yml": line(rx.url) });
    const approved = (await s.api<RunJson>("POST", "/jobs/gated/runs", {})).body;
    await waitFor("the request notification", () => (rx.accepted().length === 1 ? true : undefined));
    expect(body(rx.accepted()[0]!)).toMatchObject({
      event: "approval-requested",
      runId: approved.id,
      approvers: ["alice", "bob"],
      minApprovals: 2,
      text: "gated #1 waits for approval from alice, bob (2 needed)",
    });
    // One approval of two: recorded, nobody told yet.
    expect((await decide(s, approved.id, "approve", "alice")).status).toBe(200);
    expect((await decide(s, approved.id, "approve", "bob", "ship it")).status).toBe(200);
    expect((await s.finished(approved.id)).status).toBe("success");

    const rejected = (await s.api<RunJson>("POST", "/jobs/gated/runs", {})).body;
    await waitFor("the second request", () => (rx.accepted().length === 3 ? true : undefined));
    expect((await decide(s, rejected.id, "reject", "bob", "not today")).status).toBe(200);
    expect((await s.finished(rejected.id)).status).toBe("cancelled");

    await settled(s);
    // Deliveries of different runs may pass each other; within a run, the request comes first.
    const order = (event: unknown) => (event === "approval-requested" ? 0 : 1);
    const events = rx
      .accepted()
      .map((r) => body(r))
      .sort((a, b) => Number(a.runId) - Number(b.runId) || order(a.event) - order(b.event))
      .map((b) => [b.runId, b.event, b.outcome ?? null, b.text]);
    expect(events).toEqual([
      [approved.id, "approval-requested", null, "gated #1 waits for approval from alice, bob (2 needed)"],
      [approved.id, "approval-decided", "approved", "gated #1 was approved by bob: ship it"],
      [rejected.id, "approval-requested", null, "gated #2 waits for approval from alice, bob (2 needed)"],
      [rejected.id, "approval-decided", "rejected", "gated #2 was rejected by bob: not today"],
    ]);
    // Each delivery once: distinct delivery ids, as many as requests.
    expect(new Set(rx.requests.map((r) => r.headers["x-causeway-delivery"])).size).toBe(4);
  }, 60_000);
});
