import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ServerInfoSchema } from "@causeway/protocol";
import { chromium, type Browser, type Page } from "playwright-core";

// The end-to-end harness of the web UI: the built server process (`packages/server/dist/main.js`)
// serving the built UI (`packages/web/dist`) on a real SQLite store with its embedded runner,
// driven by Debian's Chromium through playwright-core. Nothing is mocked.

export const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const SERVER_MAIN = join(REPO, "packages/server/dist/main.js");
const WEB_DIST = join(REPO, "packages/web/dist");
/** Where the tests leave screenshots of the main views (the README shows them). */
export const SCREENSHOTS = join(REPO, "docs/images");

/** The Chromium the tests drive: CAUSEWAY_CHROMIUM, else Debian's. */
export const CHROMIUM = process.env.CAUSEWAY_CHROMIUM ?? "/usr/bin/chromium";

function isCi(value: string | undefined): boolean {
  return value !== undefined && !["", "0", "false"].includes(value.trim().toLowerCase());
}

/**
 * Why the browser tests cannot run here, in one line, or undefined when they can. Where CI is
 * set they are mandatory: a missing Chromium fails them (`.ci/run` installs it).
 */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CAUSEWAY_CHROMIUM)`;
  if (isCi(process.env.CI)) throw new Error(`browser tests are mandatory in CI: ${reason}`);
  return reason;
}

function newest(dir: string, ext: RegExp): number {
  let time = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) time = Math.max(time, newest(path, ext));
    else if (ext.test(entry.name)) time = Math.max(time, statSync(path).mtimeMs);
  }
  return time;
}

/** Builds the server and the UI when a build is missing or older than its sources. */
export function ensureBuilt(): void {
  const serverSources = ["core", "protocol", "store", "engine", "runner", "server"].map((p) =>
    newest(join(REPO, "packages", p, "src"), /\.ts$/),
  );
  if (!existsSync(SERVER_MAIN) || statSync(SERVER_MAIN).mtimeMs < Math.max(...serverSources)) {
    execFileSync(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-b", "packages/server"], {
      cwd: REPO,
    });
  }
  const index = join(WEB_DIST, "index.html");
  const webSources = Math.max(
    newest(join(REPO, "packages/web/src"), /\.(ts|tsx|css)$/),
    newest(join(REPO, "packages/protocol/src"), /\.ts$/),
  );
  if (!existsSync(index) || statSync(index).mtimeMs < webSources) {
    execFileSync("npm", ["run", "build", "-w", "@causeway/web"], { cwd: REPO, stdio: "ignore" });
  }
}

/** A running server process with its address and admin token. */
export interface UiServer {
  readonly child: ChildProcess;
  readonly url: string;
  readonly token: string;
  readonly port: number;
  output: string;
}

/** Starts the built server on `lineDirs` with its data in `dataDir` (on `port`, 0: any). */
export async function startUiServer(lineDirs: readonly string[], dataDir: string, port = 0): Promise<UiServer> {
  const child = spawn(
    process.execPath,
    [SERVER_MAIN, ...lineDirs, "--port", String(port), "--data", dataDir, "--sandbox", "off", "--web-dir", WEB_DIST],
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CAUSEWAY_LOG_FORMAT: "text" } },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited ${child.exitCode}: ${output}`);
    const text = await readFile(join(dataDir, "server.json"), "utf8").catch(() => undefined);
    const info = text === undefined ? undefined : ServerInfoSchema.safeParse(JSON.parse(text)).data;
    if (info !== undefined && info.pid === child.pid && output.includes("Causeway is running")) {
      const { url, token } = info;
      const server: UiServer = {
        child,
        url,
        token,
        port: Number(new URL(url).port),
        get output() {
          return output;
        },
      };
      return server;
    }
    if (Date.now() > deadline) throw new Error(`the server did not start in 30 s: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops a server (SIGTERM, then SIGKILL after 10 s) and waits for it to exit. */
export async function stopUiServer(server: UiServer | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  const child = server?.child;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Chromium, headless, with the flags this machine's closed network needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A temp directory for a test's line and data. */
export async function tempRoot(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "causeway-ui-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes a line's files under `dir`. */
export async function writeLine(dir: string, files: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/** Saves a screenshot of the page under docs/images. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}
