import {
  loadPipeline,
  type Diagnostic,
  type DiagnosticCode,
  type DirEntry,
  type JobDef,
  type LoadOptions,
  type LoadResult,
  type PipelineFs,
  type ResourceDef,
} from "../src/index.js";

/**
 * Strips the first line break and the common indentation of a template literal, so YAML can be
 * written indented in a test while line 1 is the line after the opening backtick.
 */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ""), "");
  const lines = raw
    .replace(/^\n/, "")
    .replace(/\n[ ]*$/, "\n")
    .split("\n");
  const indents = lines.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join("\n");
}

/** Loads one pipeline file (default name `shippable.yml`). */
export function loadOne(text: string, path = "shippable.yml", options: LoadOptions = {}): LoadResult {
  return loadPipeline([{ path, text }], options);
}

/** Loads several files given as `{path: text}`. */
export function loadFiles(files: Record<string, string>, options: LoadOptions = {}): LoadResult {
  return loadPipeline(
    Object.entries(files).map(([path, text]) => ({ path, text })),
    options,
  );
}

/** The stable part of a diagnostic: what a user relies on (never the message wording). */
export interface Brief {
  code: DiagnosticCode;
  severity: Diagnostic["severity"];
  file: string;
  line: number;
  col: number;
  path: string;
}

/** Projects a diagnostic to its code, severity, file, position and document path. */
export function brief(d: Diagnostic): Brief {
  return { code: d.code, severity: d.severity, file: d.file, line: d.line, col: d.col, path: d.path };
}

/** The diagnostics of a result with one code. */
export function withCode(result: LoadResult, code: DiagnosticCode): Diagnostic[] {
  return result.diagnostics.filter((d) => d.code === code);
}

/** The one diagnostic of a code; fails the test when there are none or several. */
export function only(result: LoadResult, code: DiagnosticCode): Diagnostic {
  const found = withCode(result, code);
  if (found.length !== 1) {
    throw new Error(
      `expected exactly one ${code}, got ${found.length}:\n${JSON.stringify(result.diagnostics.map(brief), null, 2)}`,
    );
  }
  return found[0] as Diagnostic;
}

/** The codes of a result, in order. */
export function codes(result: LoadResult): DiagnosticCode[] {
  return result.diagnostics.map((d) => d.code);
}

/** A job of a result by name; fails the test when it is missing. */
export function job(result: LoadResult, name: string): JobDef {
  const found = result.pipeline.jobs.find((j) => j.name === name);
  if (found === undefined) throw new Error(`no job ${name}`);
  return found;
}

/** A resource of a result by name; fails the test when it is missing. */
export function resource(result: LoadResult, name: string): ResourceDef {
  const found = result.pipeline.resources.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no resource ${name}`);
  return found;
}

/** An in-memory PipelineFs over `{path: text}` (paths `/`-separated). Sizes are UTF-8 bytes. */
export function memoryFs(files: Record<string, string>): PipelineFs {
  const encoder = new TextEncoder();
  return {
    list(dir: string): Promise<readonly DirEntry[]> {
      const prefix = dir === "" ? "" : `${dir}/`;
      const entries = new Map<string, DirEntry>();
      for (const [path, text] of Object.entries(files)) {
        if (!path.startsWith(prefix)) continue;
        const rest = path.slice(prefix.length);
        const slash = rest.indexOf("/");
        if (slash < 0) entries.set(rest, { name: rest, kind: "file", size: encoder.encode(text).length });
        else entries.set(rest.slice(0, slash), { name: rest.slice(0, slash), kind: "directory", size: 0 });
      }
      return Promise.resolve([...entries.values()]);
    },
    read(path: string): Promise<string> {
      const text = files[path];
      return text === undefined ? Promise.reject(new Error(`no file ${path}`)) : Promise.resolve(text);
    },
  };
}

/**
 * Rows of an `it.each` table as `[name, row]`, for `it.each(named(rows))("%s", (_, row) => ...)`:
 * a row's name is printed whole, where `$name` would cut it at 40 characters.
 */
export function named<T extends { readonly name: string }>(rows: readonly T[]): [string, T][] {
  return rows.map((row) => [row.name, row]);
}
