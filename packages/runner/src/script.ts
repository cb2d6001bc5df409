import { isEnvName } from "@causeway/core";
import { markerText } from "./console.js";

/**
 * Task script generation. Each TASK of a run is one bash script; every script line (a `|`
 * block is one line) is written literally, wrapped in `{ :` ... `}` so that it runs in the
 * task's shell (variables persist from line to line) and an empty or comment-only line is
 * still a command. After each line the script checks `$?` itself (no `set -e`, no `eval`); the
 * task stops at the first non-zero status. Command texts reach the console only as
 * single-quoted literals. Hooks (design §3, shippable.md §6.3):
 * - `on_start` lines open the first task, as task lines;
 * - a failing task runs `on_failure` then `always`, each in a subshell of the task's shell
 *   (they see its variables; their status and any `exit` cannot change the failure);
 * - after the last task, `on_success` then `always` run in the task's shell; a non-zero status
 *   fails the job (a failing `on_success` still runs `always`).
 * An `exit` in a task line ends the task with that status (hooks run as above); a SIGTERM
 * (cancel, timeout) ends the script without running any hook.
 *
 * The task's environment opens the script as one `export` of single-quoted literals (values are
 * never evaluated): a task worker's subshell sources the script, and this costs less than
 * reading an environment file into it (measured on the 1,000-job DAG). The values of secret
 * parameters are not in it: no file holds them (run-env.ts `splitSecrets`). A task without
 * LANG unsets it first: the worker holds the runner's LANG loaded (task-worker.sh).
 */

/** What one task script runs. */
export interface TaskScriptInput {
  /** 1-based position of the task in the job. */
  readonly index: number;
  readonly name: string;
  /** `on_start` lines followed by the task's lines (on_start only for the first task). */
  readonly lines: readonly string[];
  readonly onFailure: readonly string[];
  readonly always: readonly string[];
  /** Set for the last task only: its `on_success` lines (possibly none). */
  readonly onSuccess: readonly string[] | undefined;
  /** The task's environment (see `envExport`). */
  readonly env: Readonly<Record<string, string>>;
}

/** A bash single-quoted literal of `text` (no expansion of any kind). */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

// The fixed part of every script. __cw_p is the phase: task, success, always, hooks, done.
const PRELUDE = String.raw`exec 2>&1
__cw_now() { __cw_n=${"$"}{EPOCHREALTIME/[.,]/}; __cw_n=${"$"}{__cw_n%???}; }
__cw_s() { __cw_now; __cw_t=$__cw_n __cw_id=$1 __cw_c=$2; printf '__SH__CMD__START__|{"type":"cmd","sequenceNumber":%s,"id":"%s"}|%s\n' "$__cw_t" "$1" "$2"; }
__cw_e() { __cw_r=$1; __cw_now; printf '\n__SH__CMD__END__|{"type":"cmd","sequenceNumber":%s,"id":"%s","exitcode":"%s","durationMs":%s}|%s\n' "$__cw_t" "$__cw_id" "$1" "$((__cw_n - __cw_t))" "$__cw_c"; __cw_id=; return "$1"; }
__cw_end() { __cw_p=done; __cw_now; printf '__SH__GROUP__END__|{"type":"grp","sequenceNumber":%s,"id":"%s","is_shown":"false","exitcode":"%s","durationMs":%s}|%s\n' "$__cw_g" "$__cw_gid" "$1" "$((__cw_n - __cw_g))" "$__cw_gt"; if (( $1 )); then echo __SH__SCRIPT_END_FAILURE__; else echo __SH__SCRIPT_END_SUCCESS__; fi; exit "$1"; }
__cw_sub() { ( __cw_p=hooks; trap '__cw_x $?' EXIT; "$1" ); }
__cw_term() { [[ -z $__cw_id ]] || __cw_e 143; __cw_end 143; }
__cw_x() {
  [[ $__cw_p != done ]] || return
  [[ -z $__cw_id ]] || __cw_e "$1"
  case $__cw_p in
    task) if (( $1 )); then __cw_r=$1; __cw_fail; fi; __cw_ok __cw_sub ;;
    success) if (( $1 )); then __cw_sub __cw_ha; __cw_end "$1"; fi; __cw_sub __cw_ha; __cw_end $? ;;
    hooks) ;;
    *) __cw_end "$1" ;;
  esac
}
`;

function commands(lines: readonly string[], nextId: () => string, onFail: string): string {
  let out = "";
  for (const line of lines) {
    out += `__cw_s ${nextId()} ${shellQuote(markerText(line))}\n{ :\n${line.replace(/\n+$/, "")}\n}\n__cw_e $? || ${onFail}\n`;
  }
  return out;
}

/**
 * Variables bash keeps for itself (readonly, or never taken from its environment): an export of
 * them would fail, as bash ignores them at startup.
 */
const SHELL_OWNED = new Set([
  "BASHOPTS",
  "BASHPID",
  "BASH_ARGC",
  "BASH_ARGV",
  "BASH_LINENO",
  "BASH_SOURCE",
  "BASH_VERSINFO",
  "EUID",
  "FUNCNAME",
  "GROUPS",
  "PPID",
  "SHELLOPTS",
  "UID",
]);

/** Whether a task's shell can take `name` from its environment (bash ignores the others). */
export function isShellVariable(name: string): boolean {
  return isEnvName(name) && !SHELL_OWNED.has(name);
}

/**
 * One `export` command setting `env` (single-quoted literals, one variable a line), or "" for
 * an empty environment. Names that cannot be shell variables are left out, as bash leaves
 * them out of its variables at startup. Throws for a value holding NUL (no environment can).
 */
export function envExport(env: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value.includes("\0")) throw new Error(`environment variable ${name} holds a NUL character`);
    if (isShellVariable(name)) parts.push(`${name}=${shellQuote(value)}`);
  }
  return parts.length === 0 ? "" : `export \\\n  ${parts.join(" \\\n  ")}\n`;
}

/** The bash script of one task (see the module comment for its semantics). */
export function taskScript(input: TaskScriptInput): string {
  let n = 0;
  const nextId = (): string => `t${input.index}-${++n}`;
  const main = commands(input.lines, nextId, "__cw_fail");
  let hooks = "";
  const fail: string[] = [];
  if (input.onFailure.length > 0) {
    hooks += `__cw_hf() {\n${commands(input.onFailure, nextId, "return")}}\n`;
    fail.push("__cw_sub __cw_hf");
  }
  const hasAlways = input.always.length > 0;
  hooks += `__cw_ha() {\n${hasAlways ? commands(input.always, nextId, "return") : ":\n"}}\n`;
  if (hasAlways) fail.push("__cw_sub __cw_ha");
  let ok = "__cw_ok() { __cw_end 0; }\n";
  if (input.onSuccess !== undefined && (input.onSuccess.length > 0 || hasAlways)) {
    hooks += `__cw_hs() {\n${input.onSuccess.length > 0 ? commands(input.onSuccess, nextId, "return") : ":\n"}}\n`;
    ok =
      "__cw_ok() { local r; __cw_p=success; $1 __cw_hs; r=$?; __cw_p=always; " +
      'if (( r )); then __cw_sub __cw_ha; else $1 __cw_ha; r=$?; fi; __cw_end "$r"; }\n';
  }
  return (
    `# Causeway task script (generated): task ${input.index}\n` +
    ("LANG" in input.env ? "" : "unset LANG\n") +
    envExport(input.env) +
    PRELUDE +
    `__cw_fail() { local r=$__cw_r; __cw_p=hooks; ${fail.map((c) => `${c}; `).join("")}__cw_end "$r"; }\n` +
    ok +
    hooks +
    "trap '__cw_x $?' EXIT\ntrap __cw_term TERM\n" +
    `__cw_p=task __cw_id= __cw_r=0 __cw_gid=t${input.index} __cw_gt=${shellQuote(markerText(`Executing task: ${input.name}`))}\n` +
    "__cw_now; __cw_g=$__cw_n\n" +
    `printf '__SH__GROUP__START__|{"type":"grp","sequenceNumber":%s,"id":"%s","is_shown":"true"}|%s\\n' "$__cw_g" "$__cw_gid" "$__cw_gt"\n` +
    main +
    "__cw_ok\n"
  );
}
