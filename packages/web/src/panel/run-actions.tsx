import type { RunJson } from "@causeway/protocol";
import { useState } from "react";
import { call } from "../api.js";
import { can } from "../roles.js";
import { useSession } from "../session.js";
import { isActive } from "../status.js";
import { ActionButton } from "../ui.js";

/** A run's actions: rerun a finished run; cancel an active one; approve or reject at a gate. */
export function RunActions({ run }: { readonly run: RunJson }) {
  const session = useSession();
  const [comment, setComment] = useState("");
  const params = { id: run.id };
  const active = isActive(run.status);
  return (
    <div className="run-actions">
      {!active && can(session, "rerun") ? (
        <ActionButton label="Rerun" testId="rerun" done="rerun queued" action={() => call("rerun", { params })} />
      ) : null}
      {active && can(session, "cancel") ? (
        <ActionButton
          label="Cancel"
          testId="cancel"
          kind="danger"
          done="cancelled"
          action={() => call("cancel", { params })}
        />
      ) : null}
      {run.status === "waiting_approval" && can(session, "approve") ? (
        <div className="approval" data-testid="approval">
          <input
            type="text"
            aria-label="approval comment"
            data-testid="approval-comment"
            placeholder="comment (optional)"
            value={comment}
            onChange={(e) => setComment(e.target.value)}
          />
          <ActionButton
            label="Approve"
            testId="approve"
            kind="primary"
            done="approval recorded"
            action={() => call("approve", { params, body: comment === "" ? {} : { comment } })}
          />
          <ActionButton
            label="Reject"
            testId="reject"
            kind="danger"
            done="rejection recorded"
            action={() => call("reject", { params, body: comment === "" ? {} : { comment } })}
          />
        </div>
      ) : null}
    </div>
  );
}
