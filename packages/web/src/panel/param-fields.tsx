import type { ParamSpecJson } from "@causeway/protocol";

// The typed parameters of a job's manual run (the language's `params`), one field each: a text
// box, a number, a checkbox, a choice, or a hidden secret. Values are strings, as the API takes
// them; an empty field is left out, so the job's default applies.

/** The values a form starts with: each parameter's default, as text (a secret's is never known). */
export function initialValues(specs: readonly ParamSpecJson[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const spec of specs) if (spec.default !== null) values[spec.name] = String(spec.default);
  return values;
}

/** The values to send: the fields that hold something. */
export function filledValues(values: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
}

/** Whether a parameter must be given in the form: required, with no default. */
export function mustAsk(spec: ParamSpecJson): boolean {
  return spec.required && spec.default === null;
}

/** One field per parameter. */
export function ParamFields(props: {
  readonly specs: readonly ParamSpecJson[];
  readonly values: Readonly<Record<string, string>>;
  readonly onChange: (values: Record<string, string>) => void;
}) {
  const set = (name: string, value: string): void => props.onChange({ ...props.values, [name]: value });
  return (
    <>
      {props.specs.map((spec) => {
        const value = props.values[spec.name] ?? "";
        const id = `param-${spec.name}`;
        const common = { id, name: spec.name, "data-testid": id, required: mustAsk(spec) };
        return (
          <div key={spec.name} className="field column">
            <label htmlFor={id}>
              {spec.name}
              {mustAsk(spec) ? " (required)" : ""}
              {spec.description !== null ? <span className="muted"> · {spec.description}</span> : null}
            </label>
            {spec.type === "boolean" ? (
              <input
                {...common}
                type="checkbox"
                checked={value === "true"}
                onChange={(e) => set(spec.name, e.target.checked ? "true" : "false")}
              />
            ) : spec.type === "choice" ? (
              <select {...common} value={value} onChange={(e) => set(spec.name, e.target.value)}>
                {mustAsk(spec) ? <option value="">choose…</option> : null}
                {spec.choices.map((c) => (
                  <option key={String(c)} value={String(c)}>
                    {String(c)}
                  </option>
                ))}
              </select>
            ) : (
              <input
                {...common}
                type={spec.type === "number" ? "number" : spec.type === "secret" ? "password" : "text"}
                autoComplete="off"
                value={value}
                onChange={(e) => set(spec.name, e.target.value)}
              />
            )}
          </div>
        );
      })}
    </>
  );
}
