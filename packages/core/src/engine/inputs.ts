import type { InStep, JobDef } from "../language/model.js";

/** How one IN of a new run is resolved to a version (design §3: frozen at creation). */
export type InputRule =
  | { readonly kind: "trigger"; readonly versionId: number }
  | { readonly kind: "pinNumber"; readonly versionNumber: number }
  | { readonly kind: "pinName"; readonly versionName: string }
  | { readonly kind: "latest" }
  | { readonly kind: "latestSuccess" };

/** The rule of each IN step of a job, in step order. */
export function inputRules(
  job: JobDef,
  isJob: (name: string) => boolean,
  pins: ReadonlyMap<string, number>,
  trigger: { readonly input: string; readonly versionId: number } | undefined,
): { step: InStep; rule: InputRule }[] {
  const out: { step: InStep; rule: InputRule }[] = [];
  for (const step of job.steps) {
    if (step.kind !== "IN") continue;
    out.push({ step, rule: ruleFor(step, isJob(step.name), pins.get(step.name), trigger) });
  }
  return out;
}

function ruleFor(
  step: InStep,
  isJob: boolean,
  runtimePin: number | undefined,
  trigger: { readonly input: string; readonly versionId: number } | undefined,
): InputRule {
  // A pin wins over the triggering version: a pinned input never moves (and never triggers).
  if (runtimePin !== undefined) return { kind: "pinNumber", versionNumber: runtimePin };
  if (step.versionNumber !== undefined) return { kind: "pinNumber", versionNumber: step.versionNumber };
  if (step.versionName !== undefined) return { kind: "pinName", versionName: step.versionName };
  if (trigger !== undefined && trigger.input === step.name) return { kind: "trigger", versionId: trigger.versionId };
  return isJob ? { kind: "latestSuccess" } : { kind: "latest" };
}
