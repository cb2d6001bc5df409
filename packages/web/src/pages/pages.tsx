import type { ApprovalStateJson, AuditEventJson, NotificationJson, RunnerJson } from "@causeway/protocol";
import { call } from "../api.js";
import { can } from "../roles.js";
import { useSession } from "../session.js";
import { useSlice } from "../store.js";
import { when } from "../status.js";
import { ActionButton, Link, ProblemView, StateBadge, useFetched } from "../ui.js";
import { Table } from "./table.js";

// The list pages of the top nav: runners, approvals, audit, notifications, webhooks.

/** The runners. */
export function RunnersPage() {
  const session = useSession();
  const tick = useSlice((s) => Object.keys(s.runs).length);
  const runners = useFetched((signal) => call("runners", undefined, { signal }), String(tick));
  return (
    <section className="page" aria-label="runners">
      <h2>Runners</h2>
      {runners.problem !== null ? <ProblemView problem={runners.problem} /> : null}
      <Table<RunnerJson>
        label="runners"
        rows={runners.value?.runners}
        rowKey={(r) => r.name}
        empty="No runner is registered."
        columns={[
          { head: "Name", cell: (r) => r.name },
          { head: "Pool", cell: (r) => r.pool },
          { head: "State", cell: (r) => <span data-state={r.state}>{r.state}</span> },
          { head: "Labels", cell: (r) => r.labels.join(", ") },
          { head: "Capacity", cell: (r) => r.capacity },
          { head: "Runs", cell: (r) => r.runs.map((id) => <Link key={id} to={`/runs/${id}`}>{`${id} `}</Link>) },
          { head: "Last seen", cell: (r) => when(r.lastSeenAt) },
          {
            head: "",
            cell: (r) =>
              !can(session, "drainRunner") ? null : r.state === "draining" ? (
                <ActionButton
                  label="Activate"
                  action={() => call("activateRunner", { params: { name: r.name } })}
                  onDone={runners.reload}
                />
              ) : (
                <ActionButton
                  label="Drain"
                  action={() => call("drainRunner", { params: { name: r.name } })}
                  onDone={runners.reload}
                />
              ),
          },
        ]}
      />
    </section>
  );
}

/** The approval gates, open ones first. */
export function ApprovalsPage() {
  const tick = useSlice((s) => s.approvalsTick);
  const approvals = useFetched((signal) => call("approvals", { query: { limit: 100 } }, { signal }), String(tick));
  return (
    <section className="page" aria-label="approvals">
      <h2>Approvals</h2>
      {approvals.problem !== null ? <ProblemView problem={approvals.problem} /> : null}
      <Table<ApprovalStateJson>
        label="approvals"
        rows={approvals.value}
        rowKey={(a) => a.runId}
        empty="No approval gate yet."
        columns={[
          { head: "Run", cell: (a) => <Link to={`/runs/${a.runId}`}>{`${a.job} #${a.number}`}</Link> },
          { head: "Status", cell: (a) => <StateBadge state={a.status} /> },
          { head: "Outcome", cell: (a) => a.outcome },
          {
            head: "Approvals",
            cell: (a) => `${a.approvals.filter((d) => d.verdict === "approve").length} / ${a.needed}`,
          },
          { head: "Approvers", cell: (a) => a.approvers.join(", ") },
          { head: "Deadline", cell: (a) => when(a.deadline) },
          {
            head: "Decisions",
            cell: (a) =>
              a.approvals.map((d) => `${d.by}: ${d.verdict}${d.comment === null ? "" : ` (${d.comment})`}`).join("; "),
          },
        ]}
      />
    </section>
  );
}

/** The audit trail. */
export function AuditPage() {
  const tick = useSlice((s) => s.auditTick);
  const audit = useFetched((signal) => call("audit", { query: { limit: 200 } }, { signal }), String(tick));
  return (
    <section className="page" aria-label="audit">
      <h2>Audit</h2>
      {audit.problem !== null ? <ProblemView problem={audit.problem} /> : null}
      <Table<AuditEventJson>
        label="audit"
        rows={audit.value}
        rowKey={(a) => a.id}
        empty="Nothing audited yet."
        columns={[
          { head: "When", cell: (a) => when(a.at) },
          { head: "Actor", cell: (a) => a.actor },
          { head: "Action", cell: (a) => a.action },
          { head: "Subject", cell: (a) => a.subject },
          { head: "Detail", cell: (a) => <code className="small">{JSON.stringify(a.detail)}</code> },
        ]}
      />
    </section>
  );
}

/** The notification outbox. */
export function NotificationsPage() {
  const session = useSession();
  const notifications = useFetched((signal) => call("notifications", { query: { limit: 200 } }, { signal }), "n");
  return (
    <section className="page" aria-label="notifications">
      <h2>Notifications</h2>
      {notifications.problem !== null ? <ProblemView problem={notifications.problem} /> : null}
      <Table<NotificationJson>
        label="notifications"
        rows={notifications.value?.notifications}
        rowKey={(n) => n.id}
        empty="No notification was sent."
        columns={[
          { head: "When", cell: (n) => when(n.createdAt) },
          { head: "Job", cell: (n) => (n.runId === null ? n.job : <Link to={`/runs/${n.runId}`}>{n.job}</Link>) },
          { head: "Event", cell: (n) => n.event },
          { head: "Resource", cell: (n) => n.resource },
          { head: "Target", cell: (n) => n.target },
          { head: "State", cell: (n) => <span data-state={n.state}>{n.state}</span> },
          { head: "Attempts", cell: (n) => n.attempts },
          {
            head: "",
            cell: (n) =>
              n.state === "failed" && can(session, "retryNotification") ? (
                <ActionButton
                  label="Retry"
                  action={() => call("retryNotification", { params: { id: n.id } })}
                  onDone={notifications.reload}
                />
              ) : null,
          },
        ]}
      />
    </section>
  );
}

/** Webhook endpoints and refused deliveries (admin). */
export function WebhooksPage() {
  const webhooks = useFetched((signal) => call("webhooks", { query: { limit: 100 } }, { signal }), "w");
  return (
    <section className="page" aria-label="webhooks">
      <h2>Webhooks</h2>
      {webhooks.problem !== null ? <ProblemView problem={webhooks.problem} /> : null}
      <h3>Endpoints</h3>
      <Table
        label="webhook endpoints"
        rows={webhooks.value?.endpoints}
        rowKey={(e) => e.resource}
        empty="No webhook endpoint."
        columns={[
          { head: "Resource", cell: (e) => e.resource },
          { head: "Type", cell: (e) => e.type },
          { head: "URL", cell: (e) => <code>{e.url}</code> },
          { head: "Key from", cell: (e) => e.keyFrom ?? "none: every delivery is refused" },
        ]}
      />
      <h3>Refused deliveries</h3>
      <Table
        label="refused deliveries"
        rows={webhooks.value?.refused}
        rowKey={(r) => r.id}
        empty="None refused."
        columns={[
          { head: "When", cell: (r) => when(r.at) },
          { head: "Resource", cell: (r) => r.resource },
          { head: "Status", cell: (r) => r.status },
          { head: "Code", cell: (r) => <code>{r.code}</code> },
          { head: "Reason", cell: (r) => r.reason },
        ]}
      />
    </section>
  );
}
