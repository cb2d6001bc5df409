import {
  consoleFailed,
  type ConsoleCommand,
  type ConsoleGroup,
  type ConsoleLine,
  type ConsoleModel,
} from "@causeway/core/console";
import { duration } from "../status.js";

// A run's console: groups (tasks) folded or not as the runner said, each command with its exit
// code and duration; a failing command is open and marked.

function Exit({ item }: { readonly item: Pick<ConsoleCommand, "status" | "exitCode" | "durationMs"> }) {
  if (item.status === "open") return <span className="running">running…</span>;
  if (item.status === "unfinished") return <span className="exit failed">unfinished</span>;
  const failed = item.exitCode !== 0;
  return (
    <span className={`exit${failed ? " failed" : ""}`}>
      {failed ? "✖" : "✔"} exit {item.exitCode ?? "?"}{" "}
      {item.durationMs === null ? null : <span className="muted">{duration(item.durationMs)}</span>}
    </span>
  );
}

function Command({ command }: { readonly command: ConsoleCommand }) {
  const failed = consoleFailed(command);
  return (
    <details
      className={`console-command${failed ? " failed" : ""}`}
      open={failed || command.status === "open"}
      data-testid="console-command"
      data-failed={failed ? "true" : undefined}
      data-exit-code={command.exitCode ?? undefined}
    >
      <summary>
        <code className="cmd">$ {command.text}</code> <Exit item={command} />
      </summary>
      {command.output.length > 0 ? <pre className="output">{command.output.join("\n")}</pre> : null}
    </details>
  );
}

function Line({ line }: { readonly line: ConsoleLine }) {
  return <pre className="console-line">{line.text}</pre>;
}

function Group({ group }: { readonly group: ConsoleGroup }) {
  const failed = consoleFailed(group) || group.scriptEnd === "failure";
  return (
    <details
      className={`console-group${failed ? " failed" : ""}`}
      open={group.shown || failed || group.status === "open"}
      data-testid="console-group"
      data-group={group.id}
      data-failed={failed ? "true" : undefined}
    >
      <summary>
        <strong>{group.title}</strong> <Exit item={group} />
      </summary>
      {group.entries.map((entry, i) =>
        entry.kind === "command" ? <Command key={entry.id} command={entry} /> : <Line key={i} line={entry} />,
      )}
    </details>
  );
}

/** The console model, drawn. */
export function ConsoleView({ model, partial }: { readonly model: ConsoleModel; readonly partial: string }) {
  return (
    <div className="console" data-testid="console">
      {model.entries.map((entry, i) =>
        entry.kind === "group" ? (
          <Group key={entry.id} group={entry} />
        ) : entry.kind === "command" ? (
          <Command key={entry.id} command={entry} />
        ) : (
          <Line key={i} line={entry} />
        ),
      )}
      {partial === "" ? null : <pre className="console-line partial">{partial}</pre>}
    </div>
  );
}
