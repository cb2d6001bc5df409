/**
 * The environment-variable prefix of a name: drop every character outside `[A-Za-z0-9_]`,
 * drop leading digits, upper-case (`my-app.repo` -> `MYAPPREPO`). May be empty.
 */
export function envPrefix(name: string): string {
  return name
    .replace(/[^A-Za-z0-9_]/g, "")
    .replace(/^[0-9]+/, "")
    .toUpperCase();
}
