import { spawnSync } from "node:child_process";
import { accessSync, constants, lstatSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { delimiter, dirname, isAbsolute, resolve } from "node:path";
import { CausewayError } from "@causeway/core";

// The sandbox of task processes (docs/semantics.md "What a task can see"): tasks run in a
// bubblewrap (bwrap) sandbox, which shows them the system's programs and libraries read-only,
// their run's workspace (at its own path and at Shippable's /build), shipctl, a private /tmp,
// HOME and TMPDIR, and nothing else of the machine's files: not the data directory (the
// database, server.json with the admin token, logs, blobs), not the other runs' workspaces.
// It has its own PID, IPC, UTS and user namespaces (it sees no process of the server), and
// shares the network (jobs clone and download).
//
// One sandbox per runner slot (slots.ts): the slot's task worker is started once in it
// (`slotWorkerCommand`) and sources its tasks there, so a task costs 1–2 ms of CPU more than
// outside one, not a bwrap's start; the sandbox shows the slot's directory, where the run that
// holds the slot makes its workspace, and nothing else of the work directory. Without task workers (launcher: false)
// each task runs in a bwrap of its own (`sandboxedCommand`), about 15 ms more per task:
// test/measure-sandbox.sh, docs/performance.md "The sandbox's cost per task".

/** Whether tasks run in a sandbox: when one is available, never, or always (else no start). */
export type SandboxMode = "auto" | "off" | "required";

/** The sandbox modes, for option parsers. */
export const SANDBOX_MODES: readonly SandboxMode[] = ["auto", "off", "required"];

/** A usable bubblewrap and the arguments of every task's sandbox but its workspace. */
export interface Sandbox {
  /** The absolute path of bwrap. */
  readonly bwrap: string;
  /** What `bwrap --version` says ("bubblewrap 0.8.0"). */
  readonly version: string;
  /** The arguments common to every task, before the binds of its workspace. */
  readonly args: readonly string[];
}

/** What the runner decided: tasks run in `sandbox`, or without one, `reason` saying why. */
export type SandboxChoice =
  { readonly kind: "bwrap"; readonly sandbox: Sandbox } | { readonly kind: "none"; readonly reason: string };

/** Directories of the system shown read-only to tasks (when they exist), or their links. */
export const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt"] as const;

/** What `sandboxArgs` needs to know of the machine: lstat, readlink and realpath, by path. */
export interface SandboxHost {
  /** "dir", "link" (with its target), or undefined when there is nothing (or not a dir). */
  kind(path: string): { readonly type: "dir" } | { readonly type: "link"; readonly target: string } | undefined;
  /** The real path of `path`, or undefined when it does not resolve. */
  realpath(path: string): string | undefined;
}

/** The machine's file system, for `sandboxArgs`. */
export const LOCAL_HOST: SandboxHost = {
  kind(path) {
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink())
        return statSync(path).isDirectory() ? { type: "link", target: readlinkSync(path) } : undefined;
      return st.isDirectory() ? { type: "dir" } : undefined;
    } catch {
      return undefined;
    }
  },
  realpath(path) {
    try {
      return realpathSync(path);
    } catch {
      return undefined;
    }
  },
};

const DIE_WITH_PARENT = "--die-with-parent";

/** Whether `path` is `dir` or inside it. */
function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/**
 * The bwrap arguments shared by every task: namespaces, the system directories read-only
 * (a link such as merged /usr's `/bin -> usr/bin` as the same link), `/proc`, `/dev`, tmpfs on
 * `/tmp` and on the base environment's HOME and TMPDIR, the directories of its PATH read-only
 * (tools installed outside /usr), shipctl's directory read-only. A directory that is, holds
 * or is inside one of `hidden` (the data directory) is never shown. Pure but for `host`.
 */
export function sandboxArgs(
  env: Readonly<Record<string, string>>,
  shipctlDir: string,
  hidden: readonly string[],
  host: SandboxHost = LOCAL_HOST,
  shared: readonly string[] = [],
): string[] {
  const secret = hidden.map((h) => resolve(h));
  const shown = (dir: string): boolean => !secret.some((h) => within(dir, h) || within(h, dir));
  const args = ["--unshare-all", "--share-net", DIE_WITH_PARENT];
  const bound: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    const kind = host.kind(dir);
    if (kind === undefined || !shown(dir)) continue;
    if (kind.type === "link") args.push("--symlink", kind.target, dir);
    else {
      args.push("--ro-bind", dir, dir);
      bound.push(dir);
    }
  }
  // /etc/resolv.conf may be a link into /run (systemd-resolved): name resolution needs it.
  const resolver = host.realpath("/etc/resolv.conf");
  if (resolver !== undefined && !bound.some((d) => within(resolver, d)) && shown(dirname(resolver))) {
    args.push("--ro-bind", dirname(resolver), dirname(resolver));
  }
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
  for (const name of ["HOME", "TMPDIR"] as const) {
    const dir = env[name];
    if (dir === undefined || !isAbsolute(dir) || dir === "/" || bound.some((d) => within(dir, d))) continue;
    if (within(dir, "/tmp") || within(dir, "/proc") || within(dir, "/dev")) continue;
    args.push("--tmpfs", resolve(dir));
  }
  for (const entry of (env.PATH ?? "").split(delimiter)) {
    if (!isAbsolute(entry) || entry === "/") continue;
    const dir = host.realpath(entry);
    if (dir === undefined || dir === "/" || bound.some((d) => within(dir, d)) || !shown(dir)) continue;
    if (host.kind(dir)?.type !== "dir") continue;
    args.push("--ro-bind", dir, dir);
    bound.push(dir);
  }
  args.push("--ro-bind", shipctlDir, shipctlDir);
  // Last, so that a shared directory under /tmp or HOME shows through their tmpfs.
  for (const dir of shared) {
    if (isAbsolute(dir) && dir !== "/" && shown(dir) && host.kind(dir)?.type === "dir") args.push("--bind", dir, dir);
  }
  return args;
}

/** The arguments that add a task's workspace `root` (read-write, also at /build) and its cwd. */
export function workspaceArgs(root: string): string[] {
  return ["--bind", root, root, "--bind", root, "/build", "--chdir", root];
}

/**
 * The signals a task's process group is sent (SIGTERM on cancel...) that bwrap ignores, so that
 * it outlives them; `SANDBOX_ENTRY` gives them back to the task (or the slot's worker). The one
 * list of them, for `slotWorkerCommand` and `sandboxedCommand`.
 */
export const SANDBOX_IGNORED_SIGNALS = ["TERM", "INT", "HUP", "QUIT"] as const;

/**
 * What runs a task's command inside the sandbox: it gives the signals bwrap ignores back to the
 * task, which then has its grace period as it would outside a sandbox.
 */
export const SANDBOX_ENTRY = ["/usr/bin/env", `--default-signal=${SANDBOX_IGNORED_SIGNALS.join(",")}`] as const;

/**
 * The link in a slot directory that the sandbox's `/build` points at (through `/build ->
 * <slot>/.build`): the runner points it at the workspace of the run the slot holds.
 */
export const BUILD_LINK = ".build";

/** The directories `args` (of `sandboxArgs`) mounts as tmpfs: the sandbox's private ones. */
export function privateDirs(args: readonly string[]): string[] {
  const dirs: string[] = [];
  args.forEach((arg, i) => {
    const dir = args[i + 1];
    if (arg === "--tmpfs" && dir !== undefined) dirs.push(dir);
  });
  return dirs;
}

/**
 * The command of the task worker of one runner slot, started once in its sandbox: `sandbox`'s
 * common arguments, the slot directory `slotDir` read-write at its own path (the workspace of
 * the run in the slot is made inside it; nothing else of the work directory is shown), the
 * worker's directory read-only, `/build` a link to `<slotDir>/.build`, then the worker (which
 * sources its tasks there, as outside a sandbox) with its private directories to empty
 * between runs. `env` execs bwrap ignoring `SANDBOX_IGNORED_SIGNALS`, so that bwrap outlives a
 * SIGTERM of the worker's session (endOrphanedTasks) while the worker, given them back by
 * `SANDBOX_ENTRY`, passes it on to its task. (Not a `bash -c`: with its stdin a socket, as
 * Node's pipes are, bash reads ~/.bashrc, whose exports would reach every task.)
 */
export function slotWorkerCommand(
  sandbox: Sandbox,
  slotDir: string,
  worker: string,
  graceMs: number,
): [string, string[]] {
  const libexec = dirname(worker);
  const binds = [
    "--bind",
    slotDir,
    slotDir,
    "--ro-bind",
    libexec,
    libexec,
    "--symlink",
    `${slotDir}/${BUILD_LINK}`,
    "/build",
  ];
  const scrubbed = privateDirs(sandbox.args);
  return [
    SANDBOX_ENTRY[0],
    [
      `--ignore-signal=${SANDBOX_IGNORED_SIGNALS.join(",")}`,
      sandbox.bwrap,
      // Not with its parent, this process: when it dies the worker gives its task the grace
      // (the lifeline) and then exits, which ends the sandbox; --die-with-parent would SIGKILL
      // the task at once.
      ...sandbox.args.filter((arg) => arg !== DIE_WITH_PARENT),
      ...binds,
      "--chdir",
      slotDir,
      "--",
      ...SANDBOX_ENTRY,
      "bash",
      worker,
      String(Math.ceil(graceMs)),
      "slot",
      String(scrubbed.length),
      ...scrubbed,
      ...scrubExceptions(scrubbed, [...sandbox.args, ...binds]),
    ],
  ];
}

/** The bwrap options that take a source and a destination. */
const TWO_PATHS = new Set(["--bind", "--ro-bind", "--dev-bind", "--symlink"]);

/**
 * What the slot worker's scrub of the private directories `dirs` must leave (task-worker.sh):
 * each destination of `args` (bwrap's) inside one of them, as it is (a mount: the slot
 * directory under /tmp, a PATH directory under HOME), and, marked `+`, each directory between
 * that private directory and the mount, which bwrap made to hold it: the scrub goes into those
 * and empties them but for the mounts' way. (Removing `~/.cargo` whole, for `~/.cargo/bin` on
 * the PATH, would fork an `rm` at every run's end that fails on the mount.) Pure.
 */
export function scrubExceptions(dirs: readonly string[], args: readonly string[]): string[] {
  const mounts = new Set<string>();
  const ways = new Set<string>();
  args.forEach((arg, i) => {
    const dest = TWO_PATHS.has(arg) ? args[i + 2] : arg === "--tmpfs" ? args[i + 1] : undefined;
    if (dest === undefined) return;
    const under = dirs.find((dir) => dest !== dir && within(dest, dir));
    if (under === undefined) return;
    mounts.add(dest);
    for (let way = dirname(dest); way !== under && within(way, under); way = dirname(way)) ways.add(way);
  });
  return [...mounts, ...[...ways].filter((way) => !mounts.has(way)).map((way) => `+${way}`)];
}

/**
 * The command of a task run in `sandbox` by a direct spawn (no task worker): a bash that
 * ignores the signals of `SANDBOX_IGNORED_SIGNALS` and execs bwrap, which runs `shell script`.
 */
export function sandboxedCommand(sandbox: Sandbox, root: string, shell: string, script: string): [string, string[]] {
  return [
    "bash",
    [
      "-c",
      `trap '' ${SANDBOX_IGNORED_SIGNALS.join(" ")}; exec "$@"`,
      "bash",
      sandbox.bwrap,
      ...sandbox.args,
      ...workspaceArgs(root),
      "--",
      ...SANDBOX_ENTRY,
      shell,
      script,
    ],
  ];
}

/** The log line that says how tasks run. */
export function sandboxNotice(choice: SandboxChoice): string {
  return choice.kind === "bwrap"
    ? `tasks run in a bubblewrap sandbox (${choice.sandbox.bwrap}, ${choice.sandbox.version})`
    : `tasks run WITHOUT a sandbox: ${choice.reason}`;
}

/** Where bwrap is: the first executable `bwrap` on `path`, or undefined. */
function findBwrap(path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const file = resolve(dir, "bwrap");
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** What the runner needs to choose: mode, base environment, shipctl's directory, hidden paths. */
export interface SandboxRequest {
  readonly mode: SandboxMode;
  readonly env: Readonly<Record<string, string>>;
  readonly shipctlDir: string;
  readonly hidden: readonly string[];
  /** Directories tasks may read and write (`sandboxShared`). */
  readonly shared?: readonly string[];
}

const probes = new Map<string, SandboxChoice>();

/**
 * Decides how tasks run: `off` never sandboxes; `auto` sandboxes when bwrap is on the base
 * environment's PATH and a sandboxed `true` runs (user namespaces may be
 * disabled), else runs tasks without one and says why; `required` throws
 * `RUNNER_SANDBOX_UNAVAILABLE` instead. Runs bwrap twice, once per process and arguments (at
 * the runner's creation, never per run).
 */
export function chooseSandbox(request: SandboxRequest): SandboxChoice {
  if (request.mode === "off") return { kind: "none", reason: "the sandbox is off (--sandbox off)" };
  const choice = probe(request);
  if (choice.kind === "none" && request.mode === "required") {
    throw new CausewayError("RUNNER_SANDBOX_UNAVAILABLE", `tasks cannot run in a sandbox: ${choice.reason}`, {
      hint: "install bubblewrap (apt-get install bubblewrap) where user namespaces are allowed, or start with --sandbox auto",
    });
  }
  return choice;
}

function probe(request: SandboxRequest): SandboxChoice {
  const bwrap = findBwrap(request.env.PATH ?? "");
  if (bwrap === undefined) return { kind: "none", reason: "bwrap not found (apt-get install bubblewrap)" };
  const args = sandboxArgs(request.env, request.shipctlDir, request.hidden, LOCAL_HOST, request.shared ?? []);
  const key = JSON.stringify([bwrap, args]);
  const known = probes.get(key);
  if (known !== undefined) return known;
  const version = spawnSync(bwrap, ["--version"], { encoding: "utf8", env: {}, timeout: 10_000 });
  let choice: SandboxChoice;
  if (version.status !== 0) {
    choice = { kind: "none", reason: `${bwrap} --version failed: ${firstLine(version.stderr, version.error)}` };
  } else {
    const tried = spawnSync(bwrap, [...args, "--", ...SANDBOX_ENTRY, "true"], {
      encoding: "utf8",
      env: {},
      timeout: 10_000,
    });
    choice =
      tried.status === 0
        ? { kind: "bwrap", sandbox: { bwrap, version: version.stdout.trim(), args } }
        : {
            kind: "none",
            reason: `${bwrap} cannot make a sandbox here (user namespaces disabled?): ${firstLine(tried.stderr, tried.error)}`,
          };
  }
  probes.set(key, choice);
  return choice;
}

function firstLine(stderr: string | null, error: Error | undefined): string {
  return (stderr ?? "").trim().split("\n")[0] || (error?.message ?? "no message");
}
