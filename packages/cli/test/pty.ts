import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// The built `causeway` binary run as a person runs it: on a terminal (a pseudo-terminal made by
// util-linux `script`, in Debian's essential bsdutils: no native addon) or through a pipe.

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(REPO, "packages/cli/bin/causeway.js");

/** Builds the CLI (and what it imports) so the binary runs this checkout's code; a no-op when up to date. */
export function buildCli(): void {
  execFileSync(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-b", "packages/cli"], { cwd: REPO });
}

/** The environment of the binary: no colour or server settings inherited from the test's own. */
function childEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of ["NO_COLOR", "FORCE_COLOR", "CAUSEWAY_SERVER", "CAUSEWAY_TOKEN"]) delete env[name];
  return env;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** A `causeway` process on a pseudo-terminal, watched as it prints. */
export interface PtyProcess {
  /** What it printed so far (standard output and error, as a terminal shows both), "\r\n" as "\n". */
  output(): string;
  /** Its exit code. */
  readonly exited: Promise<number>;
  /** Waits until the output matches `pattern`; fails at the deadline with what was printed. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Stops it (a test that failed half way). */
  kill(): void;
}

/**
 * Starts `causeway ...argv` on a pseudo-terminal: `script -qfec CMD /dev/null` gives the
 * command a terminal as its standard streams and copies what it prints to our pipe.
 */
export function startInPty(argv: readonly string[], env: Readonly<Record<string, string>> = {}): PtyProcess {
  const command = [process.execPath, BIN, ...argv].map(shellQuote).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: childEnv(env),
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
  let closed = false;
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      closed = true;
      resolve(code ?? -1);
    });
  });
  // The terminal turns each "\n" into "\r\n"; a lone "\r" (a line redrawn in place) stays.
  const output = (): string => out.replace(/\r\n/g, "\n");
  return {
    output,
    exited,
    async waitFor(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (let delay = 5; !pattern.test(output()); delay = Math.min(delay * 2, 100)) {
        // Once closed, every byte it printed has been read: the output will not change.
        if (Date.now() > deadline || closed)
          throw new Error(`no ${String(pattern)} in the terminal's output:\n${output()}`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
      return output();
    },
    kill: () => void child.kill("SIGKILL"),
  };
}

/** What a finished process printed. */
export interface ProcessRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `causeway ...argv` on a pseudo-terminal to its end. */
export async function runInPty(argv: readonly string[]): Promise<Omit<ProcessRun, "err">> {
  const p = startInPty(argv);
  const code = await p.exited;
  return { code, out: p.output() };
}

/** Runs `causeway ...argv` with its standard output and error piped; `bytes` is the output as it came. */
export async function runPiped(argv: readonly string[]): Promise<ProcessRun & { readonly bytes: Buffer }> {
  const child = spawn(process.execPath, [BIN, ...argv], { stdio: ["ignore", "pipe", "pipe"], env: childEnv({}) });
  const out: Buffer[] = [];
  let err = "";
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c) => resolve(c ?? -1));
  });
  const bytes = Buffer.concat(out);
  return { code, out: bytes.toString("utf8"), err, bytes };
}
