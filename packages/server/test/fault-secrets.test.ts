import { execFile, execFileSync } from "node:child_process";
import { constants, createHash, generateKeyPairSync, publicEncrypt, randomBytes } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdir, open, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RunSchema, type RunJson, type ServerInfo } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../src/index.js";
import { workDirPrefix } from "@causeway/runner";
import { ensureBuilt, infoOf, killAll, killed, REPO, spawnServer, type ServerProcess } from "./built.js";
import { collectingLogger, lineAndData, tempDir, waitFor, yaml } from "./helpers.js";

// The fault suite of issue 8, "nothing leaks, nobody else gets in": one test per case, with
// real processes (the server, its tasks, the CLI), real files and real permissions. What each
// guarantees is written in docs/semantics.md ("Secrets, and other users of the machine").

const FINAL = ["success", "failure", "cancelled", "error", "timeout", "lost", "skipped"];
const SHM = "/dev/shm";

const sha256 = (text: string | Buffer): string => createHash("sha256").update(text).digest("hex");
const modeOf = (path: string): number => lstatSync(path).mode & 0o777;

/** Every regular file under `dir`, recursively (links are not followed). */
function filesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

/** The files of `files` whose bytes hold `secret`, as it is or in base64. */
function holding(files: readonly string[], secret: string): string[] {
  const forms = [secret, Buffer.from(secret).toString("base64")].map((f) => Buffer.from(f));
  return files.filter((file) => {
    const bytes = readFileSync(file);
    return forms.some((form) => bytes.includes(form));
  });
}

function api(target: { url: string; token: string }) {
  return async <T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${target.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // a log is text
    }
    return { status: res.status, body: parsed as T };
  };
}

async function finished(call: ReturnType<typeof api>, id: number): Promise<RunJson> {
  return waitFor(`run ${id} to finish`, async () => {
    const { body } = await call<RunJson>("GET", `/runs/${id}`);
    return FINAL.includes(body.status) ? body : undefined;
  });
}

async function trigger(
  call: ReturnType<typeof api>,
  job: string,
  params: Record<string, string> = {},
): Promise<RunJson> {
  const created = await call("POST", `/jobs/${job}/runs`, { params });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return RunSchema.parse(created.body);
}

const logOf = async (call: ReturnType<typeof api>, id: number): Promise<string> =>
  (await call<string>("GET", `/runs/${id}/logs`)).body;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A pipeline directory holding `line`, a data directory beside it, removed after the test. */
async function lineDir(name: string, line: string): Promise<{ root: string; dir: string; dataDir: string }> {
  const root = await tempDir(`fault-${name}`);
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  return { root, ...(await lineAndData(root, { "causeway.yml": line })) };
}

/** The server in this process (its tasks are real processes), stopped after the test. */
async function start(
  dir: string,
  dataDir: string,
): Promise<RunningServer & { logger: ReturnType<typeof collectingLogger> }> {
  const logger = collectingLogger();
  const server = await startServer({
    dir,
    dataDir,
    port: 0,
    watch: false,
    env: passthroughEnv(process.env),
    cancelGraceMs: 500,
    logger,
    // Tasks wait on gate files outside their workspaces: no sandbox (sandbox.test.ts has its own).
    sandbox: "off",
  });
  cleanups.push(() => server.stop());
  return Object.assign(server, { logger });
}

describe("secrets never reach a file", () => {
  it("while a run with a secret parameter runs, no file of its workspace, the work directory or the data directory holds the value (nor its base64); the task has it", async () => {
    const secret = `s3cr3t-${randomBytes(12).toString("hex")} 'q' "d" \\ $(id)`;
    const { root, dir, dataDir } = await lineDir("secret-files", "");
    // The task waits on a FIFO until the test has looked at every file.
    const gate = join(root, "gate");
    execFileSync("mkfifo", [gate]);
    await writeFile(
      join(dir, "causeway.yml"),
      yaml`
        jobs:
          - name: deploy
            type: runSh
            params:
              TOKEN: { type: secret, required: true }
              TARGET: { type: string, default: staging }
            steps:
              - TASK:
                  script:
                    - printf 'seen %s\\n' "$(printf %s "$TOKEN" | sha256sum | cut -c1-64)"
                    - echo "running for $TARGET"
                    - read -r go < ${gate}
      `,
    );
    const server = await start(dir, dataDir);
    const call = api(server);
    const run = await trigger(call, "deploy", { TOKEN: secret });
    expect(run.params.TOKEN).toBe("********");
    await waitFor("the task to run", async () => (await logOf(call, run.id)).includes("running for staging"));

    const workspace = join(server.workDir, `${run.id}-1`);
    expect(statSync(workspace).isDirectory()).toBe(true);
    const database = new Set(["causeway.db", "causeway.db-wal", "causeway.db-shm"].map((f) => join(dataDir, f)));
    const files = [...filesUnder(server.workDir), ...filesUnder(dataDir).filter((f) => !database.has(f))];
    expect(files).toEqual(
      expect.arrayContaining([join(workspace, "message.json"), join(workspace, "scripts/task-1.sh")]),
    );
    expect(files.some((f) => f.startsWith(join(dataDir, "logs")))).toBe(true);
    expect(holding(files, secret)).toEqual([]);
    expect(holding(files, secret.slice(0, 31))).toEqual([]);
    // What holds the other parameters is owner-only.
    for (const file of ["message.json", "scripts/task-1.sh"])
      expect([file, modeOf(join(workspace, file))]).toEqual([file, 0o600]);
    expect(modeOf(server.workDir)).toBe(0o700);

    const writer = await open(gate, "w");
    await writer.write("go\n");
    await writer.close();
    const done = await finished(call, run.id);
    expect(done.status).toBe("success");
    expect(done.params).toEqual({ TOKEN: "********", TARGET: "staging" });
    // The task saw the value: the hash it printed is the hash of the secret.
    expect(await logOf(call, run.id)).toContain(`seen ${sha256(secret)}\n`);
    expect(
      holding(
        filesUnder(dataDir).filter((f) => !database.has(f)),
        secret,
      ),
    ).toEqual([]);
  });

  it("shipctl decrypt writes FILE.decrypted and prints only status lines: the plaintext is in no log", async () => {
    const plain = `DB_PASSWORD=${randomBytes(12).toString("hex")}`;
    const { root, dir, dataDir } = await lineDir("decrypt", "");
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const keyFile = join(root, "key.pem");
    const encFile = join(root, "secrets.enc");
    await writeFile(keyFile, keys.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await writeFile(
      encFile,
      publicEncrypt({ key: keys.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, Buffer.from(plain)).toString(
        "base64",
      ),
    );
    await writeFile(
      join(dir, "causeway.yml"),
      yaml`
        jobs:
          - name: unlock
            type: runSh
            steps:
              - TASK:
                  script:
                    - cp ${encFile} "$SHARED_DIR/secrets.enc"
                    - shipctl decrypt "$SHARED_DIR/secrets.enc" ${keyFile}
                    - echo "mode $(stat -c %a "$SHARED_DIR/secrets.enc.decrypted")"
                    - echo "sha $(sha256sum < "$SHARED_DIR/secrets.enc.decrypted" | cut -c1-64)"
      `,
    );
    const server = await start(dir, dataDir);
    const call = api(server);
    const done = await finished(call, (await trigger(call, "unlock")).id);
    expect(done.status).toBe("success");
    const log = await logOf(call, done.id);
    expect(log).toContain(
      `shipctl: decrypting ${server.workDir}/${done.id}-1/shared/secrets.enc with the key ${keyFile}\n`,
    );
    expect(log).toContain(`shipctl: decrypted ${server.workDir}/${done.id}-1/shared/secrets.enc to `);
    expect(log).toContain("mode 600\n");
    expect(log).toContain(`sha ${sha256(plain)}\n`);
    expect(log).not.toContain(plain);
    expect(
      holding(
        filesUnder(dataDir).filter((f) => !f.includes("causeway.db")),
        plain,
      ),
    ).toEqual([]);
  });
});

describe("secrets stay redacted", () => {
  const LINE = yaml`
    jobs:
      - name: deploy
        type: runSh
        params:
          TOKEN: { type: secret, required: true }
        steps:
          - TASK: { script: [ 'test -n "$TOKEN"' ] }
  `;

  it.each([
    ["the parameter is removed from the job", LINE.replace(/ {4}params:\n.*\n/, "")],
    ["the parameter is retyped as string", LINE.replace("type: secret", "type: string")],
    ["the job's file breaks (a YAML error)", `${LINE}  - name: [broken\n`],
  ])("an old run keeps its secret ******** after %s; a rerun of it too", async (_, changed) => {
    const { dir, dataDir } = await lineDir("redaction", LINE);
    const server = await start(dir, dataDir);
    const call = api(server);
    const run = await finished(call, (await trigger(call, "deploy", { TOKEN: "hunter2-old" })).id);
    expect(run.status).toBe("success");

    const applied = await call<{ applied: boolean }>("POST", "/apply", {
      files: [{ path: "causeway.yml", text: changed }],
    });
    expect(applied.status).toBe(200);
    const views = async (): Promise<string[]> => [
      JSON.stringify((await call("GET", `/runs/${run.id}`)).body),
      JSON.stringify((await call("GET", "/runs?job=deploy")).body),
      JSON.stringify((await call("GET", "/runs")).body),
    ];
    for (const view of await views()) {
      expect(view).toContain('"TOKEN":"********"');
      expect(view).not.toContain("hunter2");
    }
    const rerun = await call<RunJson>("POST", `/runs/${run.id}/rerun`);
    if (rerun.status === 201) {
      expect(rerun.body.params).toEqual({ TOKEN: "********" });
      expect((await finished(call, rerun.body.id)).params).toEqual({ TOKEN: "********" });
    } else {
      // A job that the broken file made inconsistent, or removed, cannot be rerun.
      expect(JSON.stringify(rerun.body)).not.toContain("hunter2");
    }
    for (const view of await views()) expect(view).not.toContain("hunter2");
  });
});

describe("other users of the machine", () => {
  const HELLO = yaml`
    jobs:
      - name: hello
        type: runSh
        steps:
          - TASK: { script: [ 'echo hello' ] }
  `;
  const procs: ServerProcess[] = [];
  beforeAll(ensureBuilt, 180_000);
  afterAll(() => killAll(procs));

  /** The built server on `dataDir`, up and listening. */
  async function serve(
    dir: string,
    dataDir: string,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<{ proc: ServerProcess; info: ServerInfo }> {
    const proc = spawnServer([dir, "--port", "0", "--data", dataDir, "--no-watch"], env);
    procs.push(proc);
    const info = await infoOf(proc, dataDir);
    cleanups.push(async () => {
      proc.child.kill("SIGTERM");
      await killed(proc);
    });
    return { proc, info };
  }

  async function stop(proc: ServerProcess): Promise<void> {
    proc.child.kill("SIGTERM");
    await killed(proc);
  }

  it("keeps the data directory and everything in it owner-only, and warns at start about a looser one, naming the chmod", async () => {
    const { dir, dataDir } = await lineDir("modes", HELLO);
    const first = await serve(dir, dataDir);
    const call = api(first.info);
    expect((await finished(call, (await trigger(call, "hello")).id)).status).toBe("success");
    const entries = readdirSync(dataDir, { recursive: true, withFileTypes: true }).map((e) =>
      join(e.parentPath, e.name),
    );
    expect(entries.map((p) => p.slice(dataDir.length + 1))).toEqual(
      expect.arrayContaining([
        "causeway.db",
        "causeway.db-wal",
        "causeway.db-shm",
        "server.lock",
        "server.json",
        "logs",
        "logs/1.log",
      ]),
    );
    for (const path of [dataDir, ...entries]) {
      expect([path, modeOf(path)]).toEqual([path, statSync(path).isDirectory() ? 0o700 : 0o600]);
    }
    expect(first.proc.output).not.toContain("open to other users");
    await stop(first.proc);

    await chmod(dataDir, 0o755);
    const second = await serve(dir, dataDir);
    await waitFor("the warning", () => second.proc.output.includes("chmod 700"));
    expect(second.proc.output).toContain(
      `the data directory ${dataDir} is open to other users of this machine (mode 0755): it holds the database, ` +
        `the run logs and the API token; make it private with: chmod 700 ${dataDir}\n`,
    );
  });

  it("never follows a link planted at the default work directory: what it points to survives, runs use a directory of their own", async () => {
    const { root, dir, dataDir } = await lineDir("planted", HELLO);
    const victim = join(root, "victim");
    await mkdir(victim);
    await writeFile(join(victim, "canary"), "alive");
    const prefix = workDirPrefix(dataDir);
    const planted = [join(SHM, prefix), join(SHM, `${prefix}-AAAAAA`)];
    for (const link of planted) {
      await symlink(victim, link);
      cleanups.push(() => rm(link, { force: true }));
    }
    const { proc, info } = await serve(dir, dataDir);
    const call = api(info);
    const run = await finished(call, (await trigger(call, "hello")).id);
    expect(run.status).toBe("success");
    const workspace = /^workspace: (.*)$/m.exec(await logOf(call, run.id))?.[1] ?? "";
    // In the sandbox (where bwrap works) the workspace is in a slot of the work directory.
    const workDir = workspace.slice(0, workspace.lastIndexOf("/")).replace(/\/slot-\d+$/, "");
    expect(workDir).toMatch(new RegExp(`^${SHM}/${prefix}-[A-Za-z0-9]{6}$`));
    expect(planted).not.toContain(workDir);
    expect(lstatSync(workDir).isDirectory()).toBe(true);
    expect(modeOf(workDir)).toBe(0o700);
    expect(readdirSync(victim)).toEqual(["canary"]);
    for (const link of planted) {
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(proc.output).toContain(`${link} was left alone: it is a symbolic link`);
    }
    await stop(proc);
    expect(readdirSync(victim)).toEqual(["canary"]);
    expect(existsSync(workDir)).toBe(false);
  });

  it("refuses a token that holds a newline as TOKEN_INVALID, naming CAUSEWAY_TOKEN, never printing it", async () => {
    const { dir, dataDir } = await lineDir("token", HELLO);
    await serve(dir, dataDir);
    ensureCliBuilt();
    const token = `leaked-${randomBytes(6).toString("hex")}\nsecond-line`;
    const run = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(REPO, "packages/cli/bin/causeway.js"), "runs", "--data", dataDir],
        { env: { ...process.env, CAUSEWAY_TOKEN: token, NO_COLOR: "1" } },
        (error, out, err) => resolve({ code: error === null ? 0 : Number(error.code), out, err }),
      );
    });
    expect(run.code).toBe(2);
    expect(run.err).toMatch(
      /^error TOKEN_INVALID: the API token of CAUSEWAY_TOKEN cannot be sent: it holds a line break\n/,
    );
    expect(run.err).not.toContain("SERVER_UNREACHABLE");
    expect(`${run.out}${run.err}`).not.toContain("leaked-");
    expect(`${run.out}${run.err}`).not.toContain("second-line");
  });

  it("gives a task the documented environment only: nothing of the server's (no OLDPWD, CAUSEWAY_*, data directory)", async () => {
    const { root, dir, dataDir } = await lineDir(
      "env",
      yaml`
        jobs:
          - name: show
            type: runSh
            steps:
              - TASK: { script: [ 'env | sort' ] }
      `,
    );
    const { info } = await serve(dir, dataDir, {
      ...process.env,
      CAUSEWAY_TOKEN: "server-side-token",
      CAUSEWAY_DATA: dataDir,
      OLDPWD: root,
      SERVER_ONLY: "1",
    });
    const call = api(info);
    const run = await finished(call, (await trigger(call, "show")).id);
    expect(run.status).toBe("success");
    const log = await logOf(call, run.id);
    const env = new Map(
      log
        .split("\n")
        .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
    );
    const names = [...env.keys()];
    // design §4: the job variables, plus the base environment and what bash sets itself.
    const allowed =
      /^(JOB_[A-Z_]+|BUILD_[A-Z_]+|SHOW_[A-Z_]+|TASK_[A-Z_]+|SHARED_DIR|RESOURCE_ID|SUBSCRIPTION_ID|PATH|HOME|LANG|TMPDIR|PWD|SHLVL|_)$/;
    expect(names.filter((n) => !allowed.test(n))).toEqual([]);
    for (const name of ["OLDPWD", "CAUSEWAY_TOKEN", "CAUSEWAY_DATA", "SERVER_ONLY"]) expect(env.has(name)).toBe(false);
    expect(env.get("PWD")).toBe(env.get("JOB_PATH"));
    expect([...env.values()].filter((v) => v.includes(dataDir) || v === root || v === REPO)).toEqual([]);
    expect(log).not.toContain(info.token);
  });
});

/** Builds the CLI (`tsc -b packages/cli`) when its build is missing or older than a source of it. */
function ensureCliBuilt(): void {
  const main = join(REPO, "packages/cli/dist/main.js");
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith(".ts"))
        .map((e) => statSync(join(e.parentPath, e.name)).mtimeMs),
    );
  const sources = Math.max(...["core", "protocol", "cli"].map((p) => newest(join(REPO, "packages", p, "src"))));
  if (!existsSync(main) || statSync(main).mtimeMs < sources) {
    execFileSync(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-b", "packages/cli"], {
      cwd: REPO,
    });
  }
}
