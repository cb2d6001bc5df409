import { afterEach, describe, expect, it } from "vitest";
import { eventually, makeHarness, type Harness } from "./harness.js";

// The engine's side of notifications (docs/semantics.md "Notifications"): outbox rows are put
// in the transaction of the event that causes them, and only for jobs that notify.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const LINE = `
resources:
  - name: hook
    type: notification
    versionTemplate:
      recipients: ["https://ci.example.com/hook"]
  - name: chat
    type: notification
    integration: slack
    pointer:
      recipients: ["#a", "#b"]
  - name: irc
    type: notification
    versionTemplate:
      method: irc
jobs:
  - name: quiet
    type: runSh
    steps:
      - TASK:
          script: [true]
  - name: loud
    type: runSh
    steps:
      - TASK:
          script: [true]
    on_start:
      NOTIFY: hook
    on_success:
      NOTIFY: [chat, irc]
    always:
      NOTIFY: chat
  - name: slow
    type: runSh
    steps:
      - TASK:
          script: [sleep 20]
    on_cancel:
      NOTIFY:
        - name: hook
          sendFailingSnippet: true
`;

describe("the outbox", () => {
  it("gets nothing from a job that notifies nothing, and is never woken for it", async () => {
    let wakes = 0;
    h = await makeHarness({ onOutbox: () => wakes++ });
    await h.apply(LINE);
    const run = await h.engine.trigger("quiet");
    expect((await h.engine.waitForRun(run.id)).status).toBe("success");
    expect(await h.stores.store.read.listNotifications()).toEqual([]);
    expect(wakes).toBe(0);
  });

  it("gets the start and end rows of a job with the run's data, one per target, and is woken after each commit", async () => {
    let wakes = 0;
    h = await makeHarness({ onOutbox: () => wakes++ });
    await h.apply(LINE);
    const run = await h.engine.trigger("loud");
    const done = await h.engine.waitForRun(run.id);
    const rows = (await h.stores.store.read.listNotifications()).reverse();
    expect(rows.map((n) => [n.event, n.resource, n.method, n.target, n.state, n.attempts])).toEqual([
      ["start", "hook", "webhook", "https://ci.example.com/hook", "pending", 0],
      ["success", "chat", "slack", "#a", "pending", 0],
      ["success", "chat", "slack", "#b", "pending", 0],
    ]);
    expect(rows[1]?.data).toMatchObject({
      event: "success",
      hook: "on_success",
      job: "loud",
      runId: run.id,
      runNumber: done.number,
      status: "success",
      flow: done.flow,
      finishedAt: done.finishedAt,
      integration: "slack",
      sendFailingSnippet: false,
    });
    expect(rows[0]?.data).toMatchObject({ event: "start", status: "processing", hook: "on_start", integration: null });
    expect(wakes).toBe(2);
  });

  it("gets the cancel row of a run cancelled while queued, and of one cancelled while processing", async () => {
    h = await makeHarness({ slots: 1 });
    await h.apply(LINE);
    const first = await h.engine.trigger("slow");
    const second = await h.engine.trigger("slow");
    await eventually(() => (h?.engine.model.active.get(first.id)?.status === "processing" ? true : undefined));
    expect((await h.engine.cancel(second.id)).status).toBe("cancelled");
    await h.engine.cancel(first.id);
    expect((await h.engine.waitForRun(first.id)).status).toBe("cancelled");
    const rows = (await h.stores.store.read.listNotifications()).reverse();
    expect(rows.map((n) => [n.runId, n.event, n.resource])).toEqual([
      [second.id, "cancel", "hook"],
      [first.id, "cancel", "hook"],
    ]);
    expect(rows[0]?.data).toMatchObject({ hook: "on_cancel", sendFailingSnippet: true, status: "cancelled" });
  });
});

describe("runs of a job removed from the line", () => {
  const line = (dir: string, withJob: boolean): string => `
resources:
  - name: hook
    type: notification
    versionTemplate:
      recipients: ["https://ci.example.com/hook"]
${
  withJob
    ? `  - name: chat
    type: notification
    integration: slack
    pointer:
      recipients: ["#a"]
jobs:
  - name: doomed
    type: runSh
    steps:
      - TASK:
          script: ["while [ ! -e ${dir}/go ]; do sleep 0.02; done"]
    on_cancel:
      NOTIFY: hook
    always:
      NOTIFY: chat
`
    : ""
}`;

  it("send on_cancel and always: a queued run's when the apply cancels it, a processing run's when it ends", async () => {
    let wakes = 0;
    h = await makeHarness({ slots: 1, onOutbox: () => wakes++ });
    await h.apply(line(h.dir, true));
    const first = await h.engine.trigger("doomed");
    const second = await h.engine.trigger("doomed");
    await eventually(() => (h?.engine.model.active.get(first.id)?.status === "processing" ? true : undefined));
    // The job and `chat` go in one apply: the queued run's cancel still reaches `chat`.
    await h.apply(line(h.dir, false));
    expect(await h.stores.store.read.getRun(second.id)).toMatchObject({
      status: "cancelled",
      statusReason: "the job was removed from the line",
    });
    const afterApply = (await h.stores.store.read.listNotifications()).reverse();
    expect(afterApply.map((n) => [n.runId, n.event, n.resource, n.target])).toEqual([
      [second.id, "cancel", "hook", "https://ci.example.com/hook"],
      [second.id, "cancel", "chat", "#a"],
    ]);
    expect(afterApply[0]?.data).toMatchObject({ hook: "on_cancel", status: "cancelled", job: "doomed" });
    expect(afterApply[1]?.data).toMatchObject({ hook: "always", integration: "slack" });
    expect(wakes).toBe(1);

    // The processing run goes on; cancelled, it notifies what is still in the line.
    await h.engine.cancel(first.id);
    expect((await h.engine.waitForRun(first.id)).status).toBe("cancelled");
    const rows = (await h.stores.store.read.listNotifications()).reverse();
    expect(rows.slice(2).map((n) => [n.runId, n.event, n.resource])).toEqual([[first.id, "cancel", "hook"]]);
    expect(wakes).toBe(2);
  });
});
