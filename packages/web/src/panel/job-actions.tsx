import type { RunJson } from "@causeway/protocol";
import { useMemo, useState, type FormEvent } from "react";
import { call, problemOf } from "../api.js";
import { useSlice } from "../store.js";
import { ActionButton, Link, ProblemView } from "../ui.js";
import { PinIcon } from "../icons.js";
import { filledValues, initialValues, mustAsk, ParamFields } from "./param-fields.js";

type Problem = ReturnType<typeof problemOf>;

/** The job's IN edges (a stable slice: the edges array changes only when the graph does). */
function useInputs(job: string) {
  const edges = useSlice((s) => s.graph?.edges);
  return useMemo(() => edges?.filter((e) => e.to === job && e.step === "IN"), [edges, job]);
}

/** Parses `KEY=value` lines into params. */
function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) params[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  return params;
}

/** Runs the job, with params and input pins when given. */
export function RunForm({ job, latest }: { readonly job: string; readonly latest: RunJson | undefined }) {
  const inputs = useInputs(job);
  const specs = useSlice((s) => s.graph?.nodes[job]?.params);
  // A parameter that must be given opens the options at once.
  const [open, setOpen] = useState(() => (specs ?? []).some(mustAsk));
  const [params, setParams] = useState("");
  const [typed, setTyped] = useState<Record<string, string>>(() => initialValues(specs ?? []));
  const [pins, setPins] = useState<Record<string, string>>({});
  const [result, setResult] = useState<{ run: RunJson } | { problem: Problem } | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setBusy(true);
    const pinned = Object.fromEntries(
      Object.entries(pins)
        .filter(([, v]) => v.trim() !== "")
        .map(([k, v]) => [k, Number(v)]),
    );
    const p = specs === undefined ? parseParams(params) : filledValues(typed);
    call("trigger", {
      params: { job },
      body: {
        ...(Object.keys(p).length > 0 ? { params: p } : {}),
        ...(Object.keys(pinned).length > 0 ? { pins: pinned } : {}),
      },
    })
      .then(
        (run) => setResult({ run }),
        (error: unknown) => setResult({ problem: problemOf(error) }),
      )
      .finally(() => setBusy(false));
  };
  const known = Object.keys(latest?.params ?? {});
  return (
    <form className="run-form" onSubmit={submit} aria-label={`run ${job}`}>
      <button type="submit" className="btn btn-primary" data-testid="run" disabled={busy}>
        ▶ Run
      </button>
      <button type="button" className="btn btn-plain" aria-expanded={open} onClick={() => setOpen(!open)}>
        options
      </button>
      {open ? (
        <div className="run-options">
          {specs === undefined ? (
            <label className="field column">
              <span>Params (KEY=value per line){known.length > 0 ? `; last run had ${known.join(", ")}` : ""}</span>
              <textarea data-testid="run-params" rows={3} value={params} onChange={(e) => setParams(e.target.value)} />
            </label>
          ) : (
            <ParamFields specs={specs} values={typed} onChange={setTyped} />
          )}
          {(inputs ?? []).map((e) => (
            <label key={e.from} className="field">
              <span>Pin {e.from} to version</span>
              <input
                type="number"
                min={1}
                data-testid={`run-pin-${e.from}`}
                value={pins[e.from] ?? ""}
                onChange={(ev) => setPins({ ...pins, [e.from]: ev.target.value })}
              />
            </label>
          ))}
        </div>
      ) : null}
      {result !== null && "run" in result ? (
        <span className="ok" role="status" data-testid="run-result">
          started <Link to={`/runs/${result.run.id}`}>#{result.run.number}</Link>
        </span>
      ) : null}
      {result !== null && "problem" in result ? <ProblemView problem={result.problem} /> : null}
    </form>
  );
}

/** The job's inputs: pinned ones with their version, and pin or unpin for operators. */
export function InputsSection({ job, canPin }: { readonly job: string; readonly canPin: boolean }) {
  const inputs = useInputs(job);
  const [versions, setVersions] = useState<Record<string, string>>({});
  if (inputs === undefined || inputs.length === 0) return null;
  return (
    <section aria-label="inputs">
      <h3>Inputs</h3>
      <ul className="inputs">
        {inputs.map((e) => (
          <li key={e.from} data-input={e.from}>
            <strong>{e.from}</strong>
            {e.switchOff ? <span className="muted"> · switch off</span> : null}
            {e.pinned !== null ? (
              <span className="pin">
                · <PinIcon /> pinned to v{e.pinned}
              </span>
            ) : null}
            {e.newer ? <span className="newer"> newer</span> : null}
            {canPin ? (
              <span className="pin-actions">
                {e.pinned !== null ? (
                  <ActionButton
                    label="Unpin"
                    testId={`unpin-${e.from}`}
                    action={() => call("unpin", { params: { job, input: e.from } })}
                  />
                ) : (
                  <>
                    <input
                      type="number"
                      min={1}
                      aria-label={`version to pin ${e.from} to`}
                      value={versions[e.from] ?? ""}
                      onChange={(ev) => setVersions({ ...versions, [e.from]: ev.target.value })}
                    />
                    <ActionButton
                      label="Pin"
                      testId={`pin-${e.from}`}
                      disabled={(versions[e.from] ?? "") === ""}
                      action={() =>
                        call("pin", {
                          params: { job, input: e.from },
                          body: { versionNumber: Number(versions[e.from]) },
                        })
                      }
                    />
                  </>
                )}
              </span>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
