import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SHIPCTL_DIR } from "../src/index.js";
import { shellQuote } from "../src/script.js";
import { makeDep, makeSpec, scriptJob, tempDir, testRunner } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

const DUMP_ENV = 'env -0 > "$JOB_PATH/env.bin"';

async function envOf(root: string): Promise<Record<string, string>> {
  const raw = await readFile(`${root}/env.bin`, "utf8");
  // No prototype: a variable may be named __proto__.
  const env = Object.create(null) as Record<string, string>;
  for (const entry of raw.split("\0")) {
    const at = entry.indexOf("=");
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return env;
}

const cfg = makeDep("cfg", "params", {
  version: {
    id: 11,
    versionNumber: 3,
    versionName: "v3",
    propertyBag: { params: { FOO: "bar", "my-key": "dash", JOB_NAME: "user-loses", secure: "encrypted" } },
  },
});
const build = makeDep("build", "runSh", {
  kind: "job",
  objectId: "build-job",
  version: { id: 21, versionNumber: 7, versionName: "7", propertyBag: { image: "app:7" } },
});
const img = makeDep("web.img", "image", {
  operation: "OUT",
  pointer: { sourceName: "acme/web", nested: { deep: { key: 1 } }, list: ["p", "q"] },
  seed: { versionName: "latest" },
  version: { id: 31, versionNumber: 2, versionName: "1.0.0", propertyBag: {} },
});
const repo = makeDep("app-repo", "gitRepo", {
  operation: "OUT",
  pointer: { sourceName: "acme/app", branch: "main" },
  version: {
    id: 41,
    versionNumber: 5,
    versionName: "abc123",
    propertyBag: {
      shaData: {
        commitSha: "abc123",
        branchName: "feature",
        isGitTag: true,
        gitTagName: "v1",
        commitMessage: "fix it",
      },
    },
  },
});
const tf = makeDep("tf", "state", { operation: "OUT" });

describe("workspace", () => {
  it("lays out IN/, OUT/, state dirs, scripts and version.json files, then removes everything", async () => {
    const { run } = testRunner(dir, { keepWorkspaces: true });
    const job = scriptJob(["true"]);
    const spec = makeSpec(
      {
        ...job,
        params: [
          { name: "TOKEN", type: "secret", default: undefined, choices: [], required: false, description: undefined },
        ],
      },
      { dependencies: [cfg, build, img, tf], params: { TOKEN: "s3cret", MODE: "fast" } },
    );
    const { result } = await run(spec);
    expect(result.status).toBe("success");
    const root = `${dir}/${spec.run.id}-1`;
    for (const d of [
      "IN/cfg/params",
      "IN/build/runSh",
      "OUT/web.img/image",
      "OUT/tf/state",
      "state",
      "previousState",
      "shared",
    ]) {
      expect((await stat(`${root}/${d}`)).isDirectory(), d).toBe(true);
    }
    expect((await stat(`${root}/scripts/task-1.sh`)).isFile()).toBe(true);
    expect(JSON.parse(await readFile(`${root}/IN/build/version.json`, "utf8"))).toEqual({
      resourceName: "build",
      resourceType: "runSh",
      operation: "IN",
      resourceId: "build-job",
      versionId: 21,
      versionNumber: 7,
      versionName: "7",
      propertyBag: { image: "app:7", yml: { name: "build", type: "runSh", pointer: {}, seed: {} } },
      pointer: {},
      seed: {},
      name: "build",
      type: "runSh",
      version: { versionId: 21, versionNumber: 7, versionName: "7", propertyBag: { image: "app:7" } },
    });
    expect(JSON.parse(await readFile(`${root}/OUT/web.img/version.json`, "utf8"))).toMatchObject({
      resourceName: "web.img",
      operation: "OUT",
      pointer: img.pointer,
      seed: { versionName: "latest" },
    });
    expect(JSON.parse(await readFile(`${root}/OUT/tf/version.json`, "utf8"))).toMatchObject({
      versionId: null,
      versionNumber: null,
      versionName: null,
      propertyBag: { yml: { name: "tf", type: "state", pointer: {}, seed: {} } },
      version: null,
    });
    const message = await readFile(`${root}/message.json`, "utf8");
    expect(JSON.parse(message)).toMatchObject({ run: { id: spec.run.id }, params: { MODE: "fast" } });
    expect(message).not.toContain("s3cret");

    const { run: runAndRemove } = testRunner(dir);
    const other = makeSpec(job, { dependencies: [cfg] });
    expect((await runAndRemove(other)).result.status).toBe("success");
    await expect(stat(`${dir}/${other.run.id}-1`)).rejects.toThrow();
  });

  it("creates IN/, OUT/ and integrations/ only when the run has something to put there", async () => {
    const { run } = testRunner(dir, {
      keepWorkspaces: true,
      integrations: (name) => Promise.resolve(name === "aws_keys" ? { accessKey: "AK" } : undefined),
    });
    const bare = makeSpec(scriptJob(["true"]));
    await run(bare);
    for (const d of ["IN", "OUT", "integrations"]) await expect(stat(`${dir}/${bare.run.id}-1/${d}`)).rejects.toThrow();
    const job = scriptJob(["true"]);
    const full = makeSpec({ ...job, integrations: ["aws_keys"] }, { dependencies: [cfg, img] });
    await run(full);
    for (const d of ["IN", "OUT", "integrations"]) {
      expect((await stat(`${dir}/${full.run.id}-1/${d}`)).isDirectory()).toBe(true);
    }
  });

  it("gives git the credentials of a git credential integration, in the run only", async () => {
    const gitcred = { host: "git.example.com", username: "ci bot", password: "p@ss:w/rd" };
    const { run } = testRunner(dir, {
      integrations: (name) => Promise.resolve(name === "gitcred" ? gitcred : undefined),
    });
    const fill = (host: string): string =>
      `printf 'protocol=https\\nhost=${host}\\n\\n' | GIT_TERMINAL_PROMPT=0 git credential fill 2>/dev/null | grep -c '^password=p@ss:w/rd$' || true`;
    const job = scriptJob([
      fill("git.example.com"),
      fill("elsewhere.example.com"),
      `printf 'protocol=https\\nhost=git.example.com\\n\\n' | git credential fill | grep '^username='`,
      'stat -c %a "$JOB_INTEGRATIONS/gitcred/gitcred_git-credentials"',
    ]);
    const { result, rec } = await run(makeSpec({ ...job, integrations: ["gitcred"] }));
    expect(result.status).toBe("success");
    expect(rec.outputLines).toEqual(["1", "0", "username=ci bot", "600"]);
    // Without the integration, git knows no credential (nothing was written to a git config).
    const { run: plain } = testRunner(dir);
    const other = await plain(makeSpec(scriptJob([fill("git.example.com")])));
    expect(other.rec.outputLines).toEqual(["0"]);
  });

  it("ends a run whose job-level integration is not stored `error` before any task, naming it", async () => {
    const { run } = testRunner(dir, { integrations: () => Promise.resolve(undefined) });
    const { result } = await run(makeSpec({ ...scriptJob(["echo never"]), integrations: ["missing_one"] }));
    expect(result.status).toBe("error");
    expect(result.reason).toContain('integration "missing_one"');
    expect(result.reason).toContain("causeway secret set missing_one");
  });

  it("uses a fresh directory when the attempt's workspace already exists", async () => {
    // Workspaces in the work directory itself: without the sandbox (in it they are in slots).
    const { run } = testRunner(dir, { keepWorkspaces: true, sandbox: "off" });
    const spec = makeSpec(scriptJob(['echo "root=$JOB_PATH"']));
    const first = await run(spec);
    const second = await run(spec);
    const rootOf = (lines: string[]): string | undefined => lines.find((l) => l.startsWith("root="))?.slice(5);
    expect(rootOf(first.rec.outputLines)).toBe(`${dir}/${spec.run.id}-1`);
    expect(rootOf(second.rec.outputLines)).toMatch(new RegExp(`^${dir}/${spec.run.id}-1-[0-9a-f]{8}$`));
  });

  it("creates the work dir when it is missing", async () => {
    const { run } = testRunner(`${dir}/not/yet`);
    expect((await run(makeSpec(scriptJob(["true"])))).result.status).toBe("success");
  });

  it("rejects a dependency name that is not a directory name", async () => {
    const { run } = testRunner(dir);
    const { result } = await run(makeSpec(scriptJob(["true"]), { dependencies: [makeDep("../evil", "params")] }));
    expect(result.status).toBe("error");
    expect(result.reason).toContain("cannot be a directory name");
  });
});

describe("environment", () => {
  it("gives job, dependency, params and gitRepo variables; platform values win over params keys, job values over all", async () => {
    const { run } = testRunner(dir, {
      keepWorkspaces: true,
      env: { PATH: "/usr/bin:/bin", HOME: "/home/ci", LANG: "C.UTF-8" },
      sandbox: "off",
    });
    const spec = makeSpec(scriptJob([DUMP_ENV]), { dependencies: [cfg, build, img, repo] });
    const { result } = await run(spec);
    expect(result.status).toBe("success");
    const root = `${dir}/${spec.run.id}-1`;
    const env = await envOf(root);
    expect(env).toMatchObject({
      JOB_NAME: "job",
      JOB_TYPE: "runSh",
      BUILD_ID: String(spec.run.id),
      BUILD_NUMBER: String(spec.run.number),
      JOB_PATH: root,
      JOB_STATE: `${root}/state`,
      JOB_PREVIOUS_STATE: `${root}/previousState`,
      SHARED_DIR: `${root}/shared`,
      JOB_MESSAGE: `${root}/message.json`,
      JOB_TRIGGERED_BY_NAME: "alice",
      JOB_TRIGGERED_BY_USER: "alice",
      BUILD_URL: "http://127.0.0.1:7000/runs/1",
      TASK_NAME: "Task 1",
      HOME: "/home/ci",
      PATH: `${SHIPCTL_DIR}:/usr/bin:/bin`,
      // params: bare keys (user) and _PARAMS_ (platform); a platform name wins over a key.
      FOO: "bar",
      mykey: "dash",
      CFG_PARAMS_FOO: "bar",
      CFG_PARAMS_MYKEY: "dash",
      CFG_NAME: "cfg",
      CFG_TYPE: "params",
      CFG_OPERATION: "IN",
      CFG_PATH: `${root}/IN/cfg`,
      CFG_META: `${root}/IN/cfg`,
      CFG_STATE: `${root}/IN/cfg/params`,
      CFG_VERSIONNAME: "v3",
      CFG_VERSIONNUMBER: "3",
      CFG_VERSIONID: "11",
      // a job IN
      BUILD_STATE: `${root}/IN/build/runSh`,
      BUILD_TYPE: "runSh",
      BUILD_VERSIONNUMBER: "7",
      // pointer and seed flattening
      WEBIMG_OPERATION: "OUT",
      WEBIMG_PATH: `${root}/OUT/web.img`,
      WEBIMG_SOURCENAME: "acme/web",
      WEBIMG_POINTER_SOURCENAME: "acme/web",
      WEBIMG_POINTER_NESTED_DEEP_KEY: "1",
      WEBIMG_POINTER_LIST_0: "p",
      WEBIMG_POINTER_LIST_1: "q",
      WEBIMG_SEED_VERSIONNAME: "latest",
      // gitRepo
      APPREPO_COMMIT: "abc123",
      APPREPO_BRANCH: "feature",
      APPREPO_IS_GIT_TAG: "true",
      APPREPO_GIT_TAG_NAME: "v1",
      APPREPO_COMMIT_MESSAGE: "fix it",
      APPREPO_IS_PULL_REQUEST: "false",
      APPREPO_POINTER_BRANCH: "main",
    });
    expect(env.JOB_NAME).toBe("job");
    expect(env.secure).toBeUndefined();
    expect(env.VITEST).toBeUndefined();
  });

  it("passes only the given base environment", async () => {
    const { run } = testRunner(dir, { keepWorkspaces: true, env: { PATH: "/usr/bin:/bin", ONLY_THIS: "1" } });
    const spec = makeSpec(scriptJob([DUMP_ENV]));
    await run(spec);
    const env = await envOf(`${dir}/${spec.run.id}-1`);
    expect(env.ONLY_THIS).toBe("1");
    expect(env.HOME).toBeUndefined();
  });

  it("gives the task's shell exactly the given environment, nothing of the worker's", async () => {
    const base = { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" };
    const { run } = testRunner(dir, { keepWorkspaces: true, env: base, sandbox: "off" });
    const spec = makeSpec(
      scriptJob([
        DUMP_ENV,
        // Every shell variable and function, exported or not, and the script's name.
        'declare -p > "$JOB_PATH/vars.txt"; declare -F > "$JOB_PATH/funcs.txt"; echo "$0" > "$JOB_PATH/zero.txt"',
      ]),
    );
    const { result } = await run(spec);
    expect(result.status).toBe("success");
    const root = `${dir}/${spec.run.id}-1`;
    const env = await envOf(root);
    // What bash itself exports into any script's environment: PWD, SHLVL and `_`. No OLDPWD:
    // it would be the worker's directory, which is the server's.
    const own = new Set(["PWD", "SHLVL", "_"]);
    expect(env.OLDPWD).toBeUndefined();
    const given = Object.keys(env).filter((name) => !own.has(name));
    expect(given.every((name) => !name.toLowerCase().startsWith("__cw"))).toBe(true);
    expect(env.PATH).toBe(`${SHIPCTL_DIR}:/usr/bin:/bin`);
    expect(env.LANG).toBe("C.UTF-8");
    expect(env.PWD).toBe(root);
    // Only the task script's own variables and functions use the __cw_ prefix: the worker's
    // request variables (__cw_k, __cw_i, __cw_a, __cw_b, __cw_v...) are gone.
    const vars = await readFile(`${root}/vars.txt`, "utf8");
    for (const name of [
      "__cw_k",
      "__cw_i",
      "__cw_a",
      "__cw_b",
      "__cw_v",
      "__cw_s",
      "__cw_l",
      "__cw_ss",
      "__cw_sb",
      "__cw_se",
      // The LANG the worker was given to load (task-worker.sh).
      "__CW_LANG",
    ]) {
      expect(vars).not.toMatch(new RegExp(`^declare -\\S+ ${name}=`, "m"));
    }
    const funcs = (await readFile(`${root}/funcs.txt`, "utf8")).trim().split("\n");
    expect(funcs.every((f) => f.startsWith("declare -f __cw_"))).toBe(true);
    expect((await readFile(`${root}/zero.txt`, "utf8")).trim()).toBe(`${root}/scripts/task-1.sh`);
  });

  it("runs tasks in their own process, a child of a reused task worker", async () => {
    // PIDs as the worker sees them: without a sandbox (in one, each task's bash is PID 2 of
    // its own namespace, its parent bwrap's PID 1).
    const { run } = testRunner(dir, { keepWorkspaces: true, sandbox: "off" });
    const roots: string[] = [];
    for (let i = 0; i < 3; i++) {
      const spec = makeSpec(scriptJob(['echo "$BASHPID $PPID" > "$JOB_PATH/pids.txt"']));
      expect((await run(spec)).result.status).toBe("success");
      roots.push(`${dir}/${spec.run.id}-1`);
    }
    const pids = await Promise.all(roots.map(async (r) => (await readFile(`${r}/pids.txt`, "utf8")).trim().split(" ")));
    expect(new Set(pids.map(([own]) => own)).size).toBe(3);
    // The script mentions PPID, so it runs as a fresh bash: its parent is the worker.
    expect(new Set(pids.map(([, parent]) => parent)).size).toBe(1);
    expect(pids[0]?.[1]).not.toBe(String(process.pid));
  });

  it("puts shipctl first on PATH", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(makeSpec(scriptJob(["command -v shipctl"])));
    expect(result.status).toBe("success");
    expect(rec.outputLines).toContain(`${SHIPCTL_DIR}/shipctl`);
  });

  it("exports manual parameters verbatim, as quoted literals never evaluated; the task env comes last", async () => {
    const { run } = testRunner(dir, { keepWorkspaces: true });
    const job = scriptJob([DUMP_ENV], "");
    const tricky = `it's "$(touch pwned)" \`id\` $HOME\nline2`;
    const withEnv = {
      ...job,
      steps: job.steps.map((s) => (s.kind === "TASK" ? { ...s, env: { STAGE: "test", MODE: "task-wins" } } : s)),
    };
    const spec = makeSpec(withEnv, { params: { TRICKY: tricky, MODE: "param", JOB_NAME: "param-wins" } });
    const { result } = await run(spec);
    expect(result.status).toBe("success");
    const root = `${dir}/${spec.run.id}-1`;
    const env = await envOf(root);
    expect(env).toMatchObject({ TRICKY: tricky, STAGE: "test", MODE: "task-wins", JOB_NAME: "param-wins" });
    await expect(stat(`${root}/pwned`)).rejects.toThrow();
    // The value is in the script only as one single-quoted literal of its opening `export`.
    const script = await readFile(`${root}/scripts/task-1.sh`, "utf8");
    expect(script).toContain(`  TRICKY=${shellQuote(tricky)} \\\n`);
    expect(script.split("touch pwned")).toHaveLength(2);
    expect((await stat(`${root}/scripts/task-1.sh`)).mode & 0o777).toBe(0o600);
  });

  it("exports a manual parameter named like a property every object has (__proto__, constructor)", async () => {
    const { run } = testRunner(dir, { keepWorkspaces: true });
    // As a run's stored parameters are read back: JSON, where __proto__ is an own key.
    const params = JSON.parse(`{"__proto__": "p", "constructor": "c"}`) as Record<string, string>;
    const spec = makeSpec(scriptJob([DUMP_ENV], ""), { params });
    const { result } = await run(spec);
    expect(result.status).toBe("success");
    const env = await envOf(`${dir}/${spec.run.id}-1`);
    expect(env["__proto__"]).toBe("p");
    expect(env["constructor"]).toBe("c");
  });

  // Every byte that could upset a quoting, an escape or a line-based protocol.
  const SECRET = `s3cr3t 'q' "d" \\ \\x41 \\c %s %b $(id) \`id\`\ttab\nline2\r é ✓ end`;
  const SECRET_JOB = {
    ...scriptJob(['printf %s "$TOKEN" | sha256sum', 'printf %s "$PLAIN" | sha256sum']),
    params: [
      {
        name: "TOKEN",
        type: "secret" as const,
        default: undefined,
        choices: [],
        required: false,
        description: undefined,
      },
    ],
  };
  const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

  /** Every file under `root` whose bytes hold `needle`, as plain text or base64. */
  async function filesHolding(root: string, needle: string): Promise<string[]> {
    const forms = [needle, Buffer.from(needle).toString("base64")].map((f) => Buffer.from(f));
    const found: string[] = [];
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      const bytes = await readFile(path);
      if (forms.some((f) => bytes.includes(f))) found.push(path);
    }
    return found;
  }

  it.each([
    ["a task worker's subshell", { launcher: true }, []],
    ["a fresh bash (the script uses $$)", { launcher: true }, ["echo $$ > /dev/null"]],
    ["a direct spawn", { launcher: false }, []],
  ] as const)(
    "gives the value of a secret parameter to the task through %s, never through a file",
    async (_, options, extra) => {
      const { run } = testRunner(dir, { keepWorkspaces: true, ...options });
      const job = {
        ...SECRET_JOB,
        steps: SECRET_JOB.steps.map((s) => (s.kind === "TASK" ? { ...s, script: [...s.script, ...extra] } : s)),
      };
      const params = { TOKEN: SECRET, PLAIN: "visible" };
      const spec = makeSpec(job, { params, run: { ...makeSpec(job).run, params } });
      const { result, rec } = await run(spec);
      expect(result.status).toBe("success");
      expect(rec.outputLines).toEqual([`${sha(SECRET)}  -`, `${sha("visible")}  -`]);
      const root = `${dir}/${spec.run.id}-1`;
      expect(await filesHolding(root, SECRET)).toEqual([]);
      expect(await filesHolding(root, "s3cr3t")).toEqual([]);
      // The other parameter is in the script and in message.json, as before.
      expect(await readFile(`${root}/scripts/task-1.sh`, "utf8")).toContain("PLAIN='visible'");
      const message = JSON.parse(await readFile(`${root}/message.json`, "utf8")) as {
        params: object;
        run: { params: object };
      };
      expect(message.params).toEqual({ PLAIN: "visible" });
      expect(message.run.params).toEqual({ PLAIN: "visible" });
      expect((await stat(`${root}/message.json`)).mode & 0o777).toBe(0o600);
    },
  );

  it("keeps secret a parameter the run recorded as secret, though the job no longer declares it", async () => {
    const { run } = testRunner(dir, { keepWorkspaces: true });
    const job = { ...SECRET_JOB, params: [] };
    const params = { TOKEN: SECRET, PLAIN: "visible" };
    const spec = makeSpec(job, { params, run: { ...makeSpec(job).run, params, secretParams: ["TOKEN"] } });
    const { result, rec } = await run(spec);
    expect(result.status).toBe("success");
    expect(rec.outputLines[0]).toBe(`${sha(SECRET)}  -`);
    expect(await filesHolding(`${dir}/${spec.run.id}-1`, "s3cr3t")).toEqual([]);
  });

  it("sets a secret parameter whose value is empty, as empty", async () => {
    const { run } = testRunner(dir);
    const job = {
      ...SECRET_JOB,
      steps: SECRET_JOB.steps.map((s) =>
        s.kind === "TASK" ? { ...s, script: ['echo "set=${TOKEN+yes} len=${#TOKEN}"'] } : s,
      ),
    };
    const { result, rec } = await run(makeSpec(job, { params: { TOKEN: "" } }));
    expect(result.status).toBe("success");
    expect(rec.outputLines).toEqual(["set=yes len=0"]);
  });

  it("lets a task's own env replace a secret parameter, which is then no secret in that task", async () => {
    const { run } = testRunner(dir, { keepWorkspaces: true });
    const job = {
      ...SECRET_JOB,
      steps: SECRET_JOB.steps.map((s) => (s.kind === "TASK" ? { ...s, env: { TOKEN: "from-the-yaml" } } : s)),
    };
    const spec = makeSpec(job, { params: { TOKEN: SECRET, PLAIN: "visible" } });
    const { result, rec } = await run(spec);
    expect(result.status).toBe("success");
    expect(rec.outputLines[0]).toBe(`${sha("from-the-yaml")}  -`);
  });

  it.each([["bad-name"], ["1ST"], ["A B"], ["X=Y"], [""]])("rejects the manual parameter name %j", async (name) => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(makeSpec(scriptJob(["echo should-not-run"]), { params: { [name]: "v" } }));
    expect(result.status).toBe("error");
    expect(result.reason).toContain("invalid manual parameter name");
    expect(result.reason).toContain(JSON.stringify(name));
    expect(rec.outputLines).toEqual([]);
  });

  it("rejects a task env name that is not a variable name", async () => {
    const { run } = testRunner(dir);
    const job = scriptJob(["true"]);
    const bad = { ...job, steps: job.steps.map((s) => (s.kind === "TASK" ? { ...s, env: { "NOT-OK": "1" } } : s)) };
    const { result } = await run(makeSpec(bad));
    expect(result.status).toBe("error");
    expect(result.reason).toContain("invalid environment variable name");
  });
});

// What Shippable-era scripts read from the workspace directly (shippable.md §3.1; docs/shipctl.md
// "version.json"): `.version.propertyBag.<KEY>`, `.version.versionName`, `.propertyBag.yml.pointer.<KEY>`.
describe("version.json in Shippable's shape", () => {
  const api = makeDep("api-cfg", "params", {
    pointer: { region: "eu-1" },
    version: { id: 5, versionNumber: 4, versionName: "v4", propertyBag: { params: { API_URL: "https://api.test" } } },
  });
  const image = makeDep("img", "image", {
    operation: "OUT",
    pointer: { sourceName: "acme/web" },
    version: { id: 6, versionNumber: 2, versionName: "1.2.3", propertyBag: { IMG_REPO_COMMIT_SHA: "c0ffee" } },
  });

  it("a real job script reads the nested version and the pointer with jq, in IN/<res>/ and in a meta dir", async () => {
    const { run } = testRunner(dir, { keepWorkspaces: true });
    const job = scriptJob([
      "cd IN/api-cfg",
      `echo "url=$(jq -r '.version.propertyBag.params.API_URL' version.json)" >> "$JOB_PATH/seen.txt"`,
      `echo "number=$(jq -r '.version.versionNumber' version.json)" >> "$JOB_PATH/seen.txt"`,
      `echo "region=$(jq -r '.propertyBag.yml.pointer.region' version.json)" >> "$JOB_PATH/seen.txt"`,
      'cd "$(shipctl get_resource_meta img)"',
      `echo "sha=$(jq -r '.version.propertyBag.IMG_REPO_COMMIT_SHA' version.json)" >> "$JOB_PATH/seen.txt"`,
      `echo "name=$(jq -r '.version.versionName' version.json)" >> "$JOB_PATH/seen.txt"`,
      `echo "source=$(jq -r '.propertyBag.yml.pointer.sourceName' version.json)" >> "$JOB_PATH/seen.txt"`,
      `echo "flat=$(jq -r '.propertyBag.IMG_REPO_COMMIT_SHA' version.json)" >> "$JOB_PATH/seen.txt"`,
    ]);
    const spec = makeSpec(job, { dependencies: [api, image] });
    const { result } = await run(spec);
    expect(result.status).toBe("success");
    expect(await readFile(`${dir}/${spec.run.id}-1/seen.txt`, "utf8")).toBe(
      [
        "url=https://api.test",
        "number=4",
        "region=eu-1",
        "sha=c0ffee",
        "name=1.2.3",
        "source=acme/web",
        "flat=c0ffee",
        "",
      ].join("\n"),
    );
    // The yml the runner added is not part of the OUT's next version.
    expect(result.outVersions.img).toEqual({ versionName: "1.2.3", propertyBag: { IMG_REPO_COMMIT_SHA: "c0ffee" } });
  });

  it("a version whose bag has a yml of its own keeps it, in the file and when read back", async () => {
    const { run } = testRunner(dir, { keepWorkspaces: true });
    const own = makeDep("own", "image", {
      operation: "OUT",
      version: { id: 7, versionNumber: 1, versionName: "x", propertyBag: { yml: "mine" } },
    });
    const spec = makeSpec(scriptJob([`jq -r '.propertyBag.yml' OUT/own/version.json > "$JOB_PATH/yml.txt"`]), {
      dependencies: [own],
    });
    const { result } = await run(spec);
    expect(result.status).toBe("success");
    expect(await readFile(`${dir}/${spec.run.id}-1/yml.txt`, "utf8")).toBe("mine\n");
    expect(result.outVersions.own).toEqual({ versionName: "x", propertyBag: { yml: "mine" } });
  });

  it("shipctl replicate copies the IN's version, not its yml: the OUT keeps its own, and .version follows", async () => {
    const { run } = testRunner(dir, { keepWorkspaces: true });
    const from = makeDep("img-in", "image", {
      pointer: { sourceName: "acme/in" },
      version: { id: 8, versionNumber: 3, versionName: "9.0.0", propertyBag: { tag: "9" } },
    });
    const to = makeDep("img-out", "image", {
      operation: "OUT",
      pointer: { sourceName: "acme/out" },
      version: { id: 9, versionNumber: 1, versionName: "1.0.0", propertyBag: { tag: "1" } },
    });
    const spec = makeSpec(
      scriptJob([
        "shipctl replicate img-in img-out",
        `jq -c '[.propertyBag.yml.pointer.sourceName, .version.versionName, .version.propertyBag]' OUT/img-out/version.json > "$JOB_PATH/out.txt"`,
      ]),
      { dependencies: [from, to] },
    );
    const { result } = await run(spec);
    expect(result.status).toBe("success");
    expect(await readFile(`${dir}/${spec.run.id}-1/out.txt`, "utf8")).toBe('["acme/out","9.0.0",{"tag":"9"}]\n');
    expect(result.outVersions["img-out"]).toEqual({ versionName: "9.0.0", propertyBag: { tag: "9" } });
  });
});
