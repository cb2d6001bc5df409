import { spawnSync } from "node:child_process";
import { constants, generateKeyPairSync, publicEncrypt } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { envPrefix } from "@causeway/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  SHIPCTL,
  addDependency,
  addJobIntegration,
  createWorkspace,
  removeWorkspace,
  sh,
  shipctl,
  type Workspace,
} from "./workspace.js";

let ws: Workspace;

beforeEach(() => {
  ws = createWorkspace();
});

afterEach(() => {
  removeWorkspace(ws);
});

function run(...args: string[]) {
  return shipctl(ws, args);
}

/** stdout of a call that must succeed. */
function out(...args: string[]): string {
  const result = shipctl(ws, args);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return result.stdout;
}

function read(path: string): string {
  return readFileSync(path, "utf8");
}

function stateEnv(name: string): string {
  return read(join(ws.state, `${name}.env`));
}

describe("dispatcher", () => {
  const COMMANDS = [
    "get_resource_name",
    "get_resource_id",
    "get_resource_type",
    "get_resource_operation",
    "get_resource_meta",
    "get_resource_state",
    "get_resource_path",
    "get_resource_env",
    "get_resource_version_name",
    "get_resource_version_number",
    "get_resource_version_id",
    "get_resource_version_key",
    "get_resource_pointer_key",
    "get_params_resource",
    "get_integration_resource",
    "get_integration_resource_keys",
    "get_integration_resource_field",
    "get_integration_keys",
    "get_integration_field",
    "post_resource_state",
    "put_resource_state",
    "post_resource_state_multi",
    "put_resource_state_multi",
    "copy_file_to_state",
    "refresh_file_to_state",
    "copy_file_from_prev_state",
    "copy_file_to_resource_state",
    "refresh_file_to_out_path",
    "copy_file_from_resource_state",
    "copy_resource_file_from_state",
    "replicate",
    "bump_version",
    "replace",
    "get_json_value",
    "get_git_changes",
    "retry",
    "decrypt",
    "sanitize_shippable_string",
    "to_uppercase",
    "split_tests",
    "notify",
    "jdk",
  ];

  it("--help lists every command on stdout", () => {
    const result = run("--help");
    expect(result.status).toBe(0);
    const listed = result.stdout
      .split("\n")
      .filter((line) => line.startsWith("  "))
      .map((line) => line.trim().split(" ")[0]);
    expect(listed).toEqual(COMMANDS);
  });

  it("is executable", () => {
    expect(statSync(SHIPCTL).mode & 0o111).toBe(0o111);
    const result = spawnSync(SHIPCTL, ["to_uppercase", "x"], { env: ws.env, encoding: "utf8" });
    expect(result.stdout).toBe("X\n");
  });

  it("exits 99 with the command list on stderr when called without a command", () => {
    const result = run();
    expect(result.status).toBe(99);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("get_resource_state");
  });

  it("exits 99 on an unknown command", () => {
    const result = run("get_resource_nope", "x");
    expect(result.status).toBe(99);
    expect(result.stderr).toContain("unknown command 'get_resource_nope'");
  });

  it.each([
    ["get_resource_name"],
    ["get_resource_id"],
    ["get_resource_type"],
    ["get_resource_operation"],
    ["get_resource_meta"],
    ["get_resource_state"],
    ["get_resource_path"],
    ["get_resource_env", "res"],
    ["get_resource_version_name"],
    ["get_resource_version_number"],
    ["get_resource_version_id"],
    ["get_resource_version_key", "res"],
    ["get_resource_pointer_key", "res"],
    ["get_params_resource", "res"],
    ["get_integration_resource"],
    ["get_integration_resource_keys"],
    ["get_integration_resource_field", "res"],
    ["get_integration_keys"],
    ["get_integration_field", "int"],
    ["post_resource_state", "res", "key"],
    ["put_resource_state", "res", "key"],
    ["post_resource_state_multi", "res"],
    ["put_resource_state_multi", "res"],
    ["copy_file_to_state"],
    ["refresh_file_to_state"],
    ["copy_file_from_prev_state", "file"],
    ["copy_file_to_resource_state", "file"],
    ["refresh_file_to_out_path", "file"],
    ["copy_file_from_resource_state", "res", "file"],
    ["copy_resource_file_from_state", "res", "file"],
    ["replicate", "res"],
    ["bump_version", "1.0.0"],
    ["replace"],
    ["get_json_value", "file.json"],
    ["get_git_changes"],
    ["retry"],
    ["decrypt", "file"],
    ["sanitize_shippable_string"],
    ["to_uppercase"],
    ["split_tests", "dir", "*.js"],
    ["notify"],
  ])("%s with missing arguments prints its usage and exits 99", (command, ...args) => {
    const result = run(command, ...args);
    expect(result.status).toBe(99);
    expect(result.stderr).toMatch(new RegExp(`^Usage: shipctl ${command} `));
  });

  it("names the missing tool and exits 99 when jq is not installed", () => {
    const bash = sh("bash", ["-c", "command -v bash"], ws.root).trim();
    const file = join(ws.root, "a.json");
    writeFileSync(file, '{"a":1}');
    const result = shipctl(ws, ["get_json_value", file, "a"], { bash, env: { PATH: join(ws.root, "empty-bin") } });
    expect(result.status).toBe(99);
    expect(result.stderr).toContain("'jq'");
    expect(result.stderr).toContain("not installed");
  });
});

describe("names", () => {
  it.each([
    "my-app.repo",
    "my-key-1",
    "my_key_1",
    "1st-res.v2",
    "e2eshipdemo-img-ecs",
    "resource.gitRepo.retryerjs",
    "123",
  ])("get_resource_name %s prints the prefix Causeway computes", (name) => {
    expect(out("get_resource_name", name)).toBe(`${envPrefix(name)}\n`);
  });

  it("get_resource_name: my-app.repo -> MYAPPREPO, 1st-res -> STRES", () => {
    expect(out("get_resource_name", "my-app.repo")).toBe("MYAPPREPO\n");
    expect(out("get_resource_name", "1st-res")).toBe("STRES\n");
  });

  it("sanitize_shippable_string drops characters outside [A-Za-z0-9_] and keeps case and digits", () => {
    expect(out("sanitize_shippable_string", "1my-App.repo_x!")).toBe("1myApprepo_x\n");
  });

  it("to_uppercase upper-cases", () => {
    expect(out("to_uppercase", "my-app.repo v1")).toBe("MY-APP.REPO V1\n");
  });

  it("looks a dependency up through its sanitised prefix", () => {
    const data = addDependency(ws, "my-app.repo", { type: "gitRepo" });
    expect(out("get_resource_state", "my-app.repo")).toBe(`${data}\n`);
    expect(out("get_resource_state", "MY-APP.REPO")).toBe(`${data}\n`);
  });

  it("refuses a name that would leave the workspace", () => {
    const result = run("put_resource_state", "../evil", "k", "v");
    expect(result.status).toBe(99);
    expect(existsSync(join(ws.jobPath, "evil.env"))).toBe(false);
  });
});

describe("reading dependency data", () => {
  beforeEach(() => {
    addDependency(ws, "app-img", {
      type: "image",
      resourceId: 42,
      versionId: 4200,
      versionNumber: 9,
      versionName: "1.4.2",
      propertyBag: {
        sourceName: "registry.example.com/app",
        shaData: { commitSha: "c0ffee", beforeCommitSha: "bead" },
        "dotted.key": "literal",
        builds: [{ artifact_id: "us-east-1:ami-123" }],
        empty: null,
      },
      pointer: { sourceName: "registry.example.com/app", options: { isPull: true } },
    });
  });

  it.each([
    ["get_resource_id", "42"],
    ["get_resource_type", "image"],
    ["get_resource_operation", "IN"],
    ["get_resource_version_name", "1.4.2"],
    ["get_resource_version_number", "9"],
    ["get_resource_version_id", "4200"],
  ])("%s prints the dependency's variable", (command, expected) => {
    expect(out(command, "app-img")).toBe(`${expected}\n`);
  });

  it("get_resource_meta and get_resource_state print the dependency and data directories", () => {
    expect(out("get_resource_meta", "app-img")).toBe(`${join(ws.jobPath, "IN", "app-img")}\n`);
    expect(out("get_resource_state", "app-img")).toBe(`${join(ws.jobPath, "IN", "app-img", "image")}\n`);
  });

  it("get_resource_path is the deprecated alias of get_resource_state", () => {
    expect(out("get_resource_path", "app-img")).toBe(`${join(ws.jobPath, "IN", "app-img", "image")}\n`);
  });

  it("treats the job itself like a resource", () => {
    expect(out("get_resource_state", "build-app")).toBe(`${ws.state}\n`);
    expect(out("get_resource_type", "build-app")).toBe("runSh\n");
  });

  it("prints an empty line and warns for a name that is no dependency", () => {
    const result = run("get_resource_state", "nope");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("\n");
    expect(result.stderr).toContain("'nope' is not a dependency of this job");
  });

  it("get_resource_env prints $<N>_<SUFFIX>", () => {
    ws.env.APPIMG_COMMIT = "abc123";
    expect(out("get_resource_env", "app-img", "commit")).toBe("abc123\n");
  });

  it.each([
    ["versionName", "1.4.2"],
    ["versionNumber", "9"],
    ["versionId", "4200"],
    ["sourceName", "registry.example.com/app"],
    ["shaData.commitSha", "c0ffee"],
    ["dotted.key", "literal"],
    ["builds[0].artifact_id", "us-east-1:ami-123"],
  ])("get_resource_version_key %s", (key, expected) => {
    expect(out("get_resource_version_key", "app-img", key)).toBe(`${expected}\n`);
  });

  it("get_resource_version_key reads the three top-level keys from version.json when no variable is set", () => {
    delete ws.env.APPIMG_VERSIONNAME;
    delete ws.env.APPIMG_VERSIONNUMBER;
    expect(out("get_resource_version_key", "app-img", "versionName")).toBe("1.4.2\n");
    expect(out("get_resource_version_key", "app-img", "versionNumber")).toBe("9\n");
  });

  it("get_resource_version_key prints null for a missing or null key, as Shippable's jq -r did", () => {
    expect(out("get_resource_version_key", "app-img", "missing.deep")).toBe("null\n");
    expect(out("get_resource_version_key", "app-img", "empty")).toBe("null\n");
    expect(out("get_resource_version_key", "app-img", "shaData | .nope")).toBe("null\n");
  });

  it("get_resource_version_key reads Shippable's .version.propertyBag when version.json has it, not the yml beside it", () => {
    addDependency(ws, "nested", {
      type: "image",
      propertyBag: { tag: "flat", yml: { pointer: { a: 1 } } },
      version: { versionName: "v", propertyBag: { tag: "nested" } },
    });
    expect(out("get_resource_version_key", "nested", "tag")).toBe("nested\n");
    expect(out("get_resource_version_key", "nested", "yml")).toBe("null\n");
    addDependency(ws, "unversioned", { type: "image", propertyBag: { yml: {} }, version: null });
    expect(out("get_resource_version_key", "unversioned", "tag")).toBe("null\n");
    expect(out("get_resource_version_key", "unversioned", "yml")).toBe("null\n");
  });

  it("get_resource_version_key reads what replicate wrote to an OUT that had no version yet", () => {
    addDependency(ws, "src-img", {
      type: "image",
      versionName: "2.0",
      propertyBag: { tag: "2", yml: { pointer: { sourceName: "src" } } },
      version: { versionName: "2.0", propertyBag: { tag: "2" } },
    });
    addDependency(ws, "new-img", {
      type: "image",
      operation: "OUT",
      propertyBag: { yml: { pointer: { sourceName: "new" } } },
      version: null,
    });
    expect(run("replicate", "src-img", "new-img").status).toBe(0);
    expect(out("get_resource_version_key", "new-img", "tag")).toBe("2\n");
    expect(out("get_resource_version_key", "new-img", "yml")).toBe("null\n");
  });

  it("get_resource_version_key prints an object as JSON", () => {
    expect(JSON.parse(out("get_resource_version_key", "app-img", "shaData"))).toEqual({
      commitSha: "c0ffee",
      beforeCommitSha: "bead",
    });
  });

  it("get_resource_version_key reads the key/values an upstream job published", () => {
    addDependency(ws, "build-base", { type: "runSh", propertyBag: { IMG_TAG: "2.0.1", versionName: "x" } });
    expect(out("get_resource_version_key", "build-base", "IMG_TAG")).toBe("2.0.1\n");
  });

  it("get_resource_version_key exits 99 when the dependency has no version.json", () => {
    const result = run("get_resource_version_key", "nope", "sourceName");
    expect(result.status).toBe(99);
    expect(result.stderr).toContain("no version.json for 'nope'");
  });

  it("get_resource_pointer_key reads pointer keys, dotted paths included", () => {
    expect(out("get_resource_pointer_key", "app-img", "sourceName")).toBe("registry.example.com/app\n");
    expect(out("get_resource_pointer_key", "app-img", "options.isPull")).toBe("true\n");
  });

  it("get_params_resource prints $<N>_PARAMS_<KEY>", () => {
    addDependency(ws, "prod-env", { type: "params" });
    ws.env.PRODENV_PARAMS_NAMESPACE = "production";
    ws.env.PRODENV_PARAMS_MY_KEY = "v";
    expect(out("get_params_resource", "prod-env", "namespace")).toBe("production\n");
    expect(out("get_params_resource", "prod-env", "my-_key")).toBe("v\n");
  });
});

describe("integrations", () => {
  beforeEach(() => {
    addDependency(ws, "docker-hub", {
      type: "image",
      integration: { masterName: "dockerRegistryLogin", userName: "bot", password: "s3cret", JSON_key: "{}" },
    });
  });

  it("get_integration_resource prints integration.json, or one field", () => {
    expect(JSON.parse(out("get_integration_resource", "docker-hub"))).toMatchObject({ userName: "bot" });
    expect(out("get_integration_resource", "docker-hub", "masterName")).toBe("dockerRegistryLogin\n");
  });

  it("get_integration_resource exits 99 when the dependency has no integration", () => {
    addDependency(ws, "plain", { type: "params" });
    expect(run("get_integration_resource", "plain").status).toBe(99);
  });

  it("get_integration_resource_keys lists the fields of integration.env", () => {
    expect(out("get_integration_resource_keys", "docker-hub")).toBe("masterName\nuserName\npassword\nJSON_key\n");
  });

  it("get_integration_resource_field prints $<N>_INTEGRATION_<FIELD>", () => {
    expect(out("get_integration_resource_field", "docker-hub", "userName")).toBe("bot\n");
    expect(out("get_integration_resource_field", "docker-hub", "JSON_key")).toBe("{}\n");
  });

  it("get_integration_resource_field falls back to integration.json when no variable is set", () => {
    delete ws.env.DOCKERHUB_INTEGRATION_PASSWORD;
    expect(out("get_integration_resource_field", "docker-hub", "password")).toBe("s3cret\n");
    expect(out("get_integration_resource_field", "docker-hub", "PASSWORD")).toBe("s3cret\n");
  });

  it("get_integration_keys and get_integration_field read a job-level integration", () => {
    addJobIntegration(ws, "dr_aws", { accessKey: "AKIA", secretKey: "shh" });
    expect(out("get_integration_keys", "dr_aws")).toBe("accessKey\nsecretKey\n");
    expect(out("get_integration_field", "dr_aws", "secretKey")).toBe("shh\n");
    ws.env.DR_AWS_INTEGRATION_SECRETKEY = "from-env";
    expect(out("get_integration_field", "dr_aws", "secretKey")).toBe("from-env\n");
  });

  it("get_integration_field exits 99 for an integration the job does not list", () => {
    const result = run("get_integration_field", "nope", "key");
    expect(result.status).toBe(99);
    expect(result.stderr).toContain("not attached to this job");
  });
});

describe("writing outputs", () => {
  beforeEach(() => {
    addDependency(ws, "app-img", { type: "image", operation: "OUT" });
  });

  it("put_resource_state appends and post_resource_state replaces", () => {
    out("put_resource_state", "app-img", "versionName", "1.0");
    out("put_resource_state", "app-img", "COMMIT", "abc");
    expect(stateEnv("app-img")).toBe("versionName=1.0\nCOMMIT=abc\n");
    out("post_resource_state", "app-img", "versionName", "2.0");
    expect(stateEnv("app-img")).toBe("versionName=2.0\n");
  });

  it("keeps values verbatim, '=' and spaces included", () => {
    out("put_resource_state", "app-img", "URL", "https://x/?a=b c");
    expect(stateEnv("app-img")).toBe("URL=https://x/?a=b c\n");
  });

  it("post_resource_state_multi replaces with pairs split on whitespace", () => {
    out("put_resource_state", "app-img", "OLD", "1");
    out("post_resource_state_multi", "app-img", "k1=v1 k2=v2", "k3=*");
    expect(stateEnv("app-img")).toBe("k1=v1\nk2=v2\nk3=*\n");
  });

  it("put_resource_state_multi appends one pair per argument, values may contain spaces", () => {
    out("put_resource_state", "app-img", "A", "1");
    out("put_resource_state_multi", "app-img", "versionName=v 1", "B=x=y");
    expect(stateEnv("app-img")).toBe("A=1\nversionName=v 1\nB=x=y\n");
  });

  // Deliberate differences from Shippable (docs/shipctl.md): its unquoted `for a in ${ARR[@]}`
  // split values on spaces and expanded `*` against the working directory.
  it("never expands a glob in a value, even where files match it", () => {
    const cwd = join(ws.root, "globbed");
    mkdirSync(cwd);
    writeFileSync(join(cwd, "a.txt"), "");
    writeFileSync(join(cwd, "b.txt"), "");
    expect(shipctl(ws, ["put_resource_state_multi", "app-img", "G=*.txt", "H=v 1"], { cwd }).status).toBe(0);
    expect(shipctl(ws, ["post_resource_state_multi", "app-img", "P=*.txt Q=2"], { cwd }).status).toBe(0);
    expect(stateEnv("app-img")).toBe("P=*.txt\nQ=2\n");
    expect(shipctl(ws, ["put_resource_state_multi", "app-img", "G=*.txt", "H=v 1"], { cwd }).status).toBe(0);
    expect(stateEnv("app-img")).toBe("P=*.txt\nQ=2\nG=*.txt\nH=v 1\n");
  });

  it("rejects a malformed pair or a multi-line value without touching the file", () => {
    out("put_resource_state", "app-img", "A", "1");
    expect(run("put_resource_state_multi", "app-img", "B=2", "oops").status).toBe(99);
    expect(run("post_resource_state_multi", "app-img", "B=2 =3").status).toBe(99);
    expect(run("put_resource_state", "app-img", "K", "line1\nline2").status).toBe(99);
    expect(stateEnv("app-img")).toBe("A=1\n");
  });

  it("writes the job's own version data to $JOB_STATE/$JOB_NAME.env", () => {
    out("put_resource_state_multi", "build-app", "versionName=1.2.3", "IMG=app:1.2.3");
    expect(stateEnv("build-app")).toBe("versionName=1.2.3\nIMG=app:1.2.3\n");
  });

  it("warns when the resource is no OUT of the job", () => {
    const result = run("put_resource_state", "not-an-out", "K", "V");
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("'not-an-out' is not an OUT of this job");
    expect(stateEnv("not-an-out")).toBe("K=V\n");
  });

  it("copy_file_to_state copies files and directories into $JOB_STATE", () => {
    writeFileSync(join(ws.root, "images.txt"), "app:1\n");
    mkdirSync(join(ws.root, "dir"));
    writeFileSync(join(ws.root, "dir", "f"), "f");
    out("copy_file_to_state", "images.txt", "dir");
    expect(read(join(ws.state, "images.txt"))).toBe("app:1\n");
    expect(read(join(ws.state, "dir", "f"))).toBe("f");
    expect(run("copy_file_to_state", "missing.txt").status).toBe(99);
  });

  it("refresh_file_to_state copies the file, else carries it over from the previous state", () => {
    writeFileSync(join(ws.previousState, "terraform.tfstate"), "old");
    out("refresh_file_to_state", "work/terraform.tfstate");
    expect(read(join(ws.state, "terraform.tfstate"))).toBe("old");
    writeFileSync(join(ws.root, "terraform.tfstate"), "new");
    out("refresh_file_to_state", "terraform.tfstate");
    expect(read(join(ws.state, "terraform.tfstate"))).toBe("new");
    expect(run("refresh_file_to_state", "never.txt").status).toBe(0);
    expect(existsSync(join(ws.state, "never.txt"))).toBe(false);
  });

  it("copy_file_from_prev_state restores a file when the previous state has it", () => {
    writeFileSync(join(ws.previousState, "terraform.tfstate"), "old");
    out("copy_file_from_prev_state", "terraform.tfstate", "restored.tfstate");
    expect(read(join(ws.root, "restored.tfstate"))).toBe("old");
    const missing = run("copy_file_from_prev_state", "none.tfstate", "x");
    expect(missing.status).toBe(0);
    expect(existsSync(join(ws.root, "x"))).toBe(false);
    expect(run("copy_file_from_prev_state", "../job/state", "x").status).toBe(99);
  });

  it("copy_file_to_resource_state copies into OUT/<name>/state, else carries over IN/<name>/state", () => {
    const inState = addDependency(ws, "tf-state", { type: "state" });
    addDependency(ws, "tf-state", { type: "state", operation: "OUT" });
    writeFileSync(join(inState, "terraform.tfstate"), "carried");
    out("copy_file_to_resource_state", "terraform.tfstate", "tf-state");
    expect(read(join(ws.jobPath, "OUT", "tf-state", "state", "terraform.tfstate"))).toBe("carried");
    writeFileSync(join(ws.root, "terraform.tfstate"), "fresh");
    out("copy_file_to_resource_state", "terraform.tfstate", "tf-state");
    expect(read(join(ws.jobPath, "OUT", "tf-state", "state", "terraform.tfstate"))).toBe("fresh");
  });

  it("refresh_file_to_out_path is the deprecated alias of copy_file_to_resource_state", () => {
    writeFileSync(join(ws.root, "out.txt"), "o");
    out("refresh_file_to_out_path", "out.txt", "tf-state");
    expect(read(join(ws.jobPath, "OUT", "tf-state", "state", "out.txt"))).toBe("o");
  });

  it("copy_file_from_resource_state copies from IN/<name>/<type>/ of a job or a state resource", () => {
    const jobState = addDependency(ws, "build-base", { type: "runSh" });
    writeFileSync(join(jobState, "images.txt"), "base:1\n");
    out("copy_file_from_resource_state", "build-base", "images.txt", ".");
    expect(read(join(ws.root, "images.txt"))).toBe("base:1\n");
    const state = addDependency(ws, "tf-state", { type: "state" });
    writeFileSync(join(state, "terraform.tfstate"), "s");
    out("copy_file_from_resource_state", "tf-state", "terraform.tfstate", "copy.tfstate");
    expect(read(join(ws.root, "copy.tfstate"))).toBe("s");
    expect(run("copy_file_from_resource_state", "tf-state", "none", "x").status).toBe(0);
  });

  it("copy_resource_file_from_state is the deprecated alias of copy_file_from_resource_state", () => {
    const state = addDependency(ws, "tf-state", { type: "state" });
    writeFileSync(join(state, "a"), "a");
    out("copy_resource_file_from_state", "tf-state", "a", "b");
    expect(read(join(ws.root, "b"))).toBe("a");
  });
});

describe("replicate", () => {
  interface VersionFile {
    resourceName: string;
    versionName?: string;
    propertyBag: { [key: string]: unknown; shaData?: { commitSha?: string } };
  }

  function versionOf(path: string): VersionFile {
    return JSON.parse(read(path)) as VersionFile;
  }

  it("copies files and version data between resources of one type", () => {
    const from = addDependency(ws, "img-in", { type: "file", versionName: "1.1", propertyBag: { url: "u1" } });
    const to = addDependency(ws, "img-out", {
      type: "file",
      operation: "OUT",
      versionName: "0.9",
      propertyBag: { url: "old", stale: true },
    });
    writeFileSync(join(from, "artifact.zip"), "zip");
    writeFileSync(join(to, "stale.txt"), "stale");
    out("replicate", "img-in", "img-out");
    expect(readdirSync(to)).toEqual(["artifact.zip"]);
    const version = versionOf(join(ws.jobPath, "OUT", "img-out", "version.json"));
    expect(version).toMatchObject({ resourceName: "img-out", versionName: "1.1", propertyBag: { url: "u1" } });
    expect(version.propertyBag.stale).toBeUndefined();
  });

  it("--files-only and --metadata-only copy one half", () => {
    const from = addDependency(ws, "a", { type: "file", propertyBag: { k: "new" } });
    const to = addDependency(ws, "b", { type: "file", operation: "OUT", propertyBag: { k: "old" } });
    writeFileSync(join(from, "f"), "f");
    out("replicate", "a", "b", "--files-only");
    expect(readdirSync(to)).toEqual(["f"]);
    expect(versionOf(join(ws.jobPath, "OUT", "b", "version.json")).propertyBag).toEqual({ k: "old" });
    writeFileSync(join(from, "g"), "g");
    out("replicate", "--metadata-only", "a", "b");
    expect(readdirSync(to)).toEqual(["f"]);
    expect(versionOf(join(ws.jobPath, "OUT", "b", "version.json")).propertyBag).toEqual({ k: "new" });
  });

  it("refuses resources of different types", () => {
    addDependency(ws, "a", { type: "file" });
    addDependency(ws, "b", { type: "image", operation: "OUT" });
    const result = run("replicate", "a", "b");
    expect(result.status).toBe(99);
    expect(result.stderr).toContain("same type");
  });

  it("replicates only the webhook data (no files) between repositories", () => {
    const from = addDependency(ws, "repo-in", {
      type: "gitRepo",
      propertyBag: { shaData: { commitSha: "abc", branchName: "main" }, path: "org/in" },
    });
    const to = addDependency(ws, "repo-out", { type: "gitRepo", operation: "OUT", propertyBag: { path: "org/out" } });
    writeFileSync(join(from, "README.md"), "checkout");
    out("replicate", "repo-in", "repo-out");
    expect(readdirSync(to)).toEqual([]);
    expect(versionOf(join(ws.jobPath, "OUT", "repo-out", "version.json")).propertyBag).toEqual({
      path: "org/out",
      shaData: { commitSha: "abc", branchName: "main" },
    });
  });

  it("--match-settings skips a commit whose branch the OUT repository does not take", () => {
    addDependency(ws, "repo-in", {
      type: "gitRepo",
      propertyBag: { shaData: { commitSha: "abc", branchName: "dev" } },
    });
    addDependency(ws, "repo-out", {
      type: "gitRepo",
      operation: "OUT",
      pointer: { branches: { only: ["main", "rel-*"] } },
    });
    const skipped = run("replicate", "repo-in", "repo-out", "--match-settings");
    expect(skipped.status).toBe(0);
    expect(skipped.stdout).toContain("skipped");
    expect(versionOf(join(ws.jobPath, "OUT", "repo-out", "version.json")).propertyBag).toEqual({});

    addDependency(ws, "repo-in", {
      type: "gitRepo",
      propertyBag: { shaData: { commitSha: "def", branchName: "rel-2" } },
    });
    out("replicate", "repo-in", "repo-out", "--match-settings");
    expect(versionOf(join(ws.jobPath, "OUT", "repo-out", "version.json")).propertyBag.shaData?.commitSha).toBe("def");
  });

  it("replicates to the current job through $JOB_STATE/outputVersion.json", () => {
    const from = addDependency(ws, "img-in", { type: "image", versionName: "3.0", propertyBag: { tag: "3.0" } });
    writeFileSync(join(from, "digest"), "sha256:1");
    out("replicate", "img-in", "build-app");
    expect(versionOf(join(ws.state, "outputVersion.json"))).toEqual({
      versionName: "3.0",
      propertyBag: { tag: "3.0" },
    });
    expect(read(join(ws.state, "digest"))).toBe("sha256:1");
  });

  it("refuses the current job as the source", () => {
    expect(run("replicate", "build-app", "x").status).toBe(99);
  });
});

describe("bump_version", () => {
  it.each([
    ["1.2.3", "patch", "1.2.4"],
    ["v1.2.3", "patch", "v1.2.4"],
    ["1.2.3", "minor", "1.3.0"],
    ["1.2.3", "major", "2.0.0"],
    ["v0.9.9", "major", "v1.0.0"],
    ["1.0.0", "rc", "1.0.0-rc"],
    ["1.0.0-rc", "rc", "1.0.0-rc.1"],
    ["1.0.0-rc.1", "rc", "1.0.0-rc.2"],
    ["1.0.0-rc", "alpha", "1.0.0-alpha"],
    ["1.0.0-alpha.3", "beta", "1.0.0-beta"],
    ["1.0.0-beta.1", "beta", "1.0.0-beta.2"],
    ["1.0.0-rc.1", "final", "1.0.0"],
    ["v2.0.0-rc.4+build.7", "final", "v2.0.0"],
    ["1.0.0-rc.1", "patch", "1.0.1"],
    ["1.2.3", "final", "1.2.3"],
  ])("%s %s -> %s", (version, action, expected) => {
    expect(out("bump_version", version, action)).toBe(`${expected}\n`);
  });

  it.each([
    ["1.2", "patch"],
    ["1.2.x", "patch"],
    ["version", "major"],
    ["1.2.3.4", "patch"],
    ["1.2.3", "huge"],
  ])("%s %s is invalid: exit 99", (version, action) => {
    const result = run("bump_version", version, action);
    expect(result.status).toBe(99);
    expect(result.stdout).toBe("");
  });
});

describe("replace", () => {
  it("substitutes $VAR and ${VAR} in place; unknown variables become empty", () => {
    const file = join(ws.root, "vars.json");
    writeFileSync(
      file,
      '{"region": "$REGION", "ami": "${AMI_ID}x", "none": "$UNSET", "cost": "$5", "tf": "${var.x}"}\n',
    );
    const result = shipctl(ws, ["replace", file], { env: { REGION: "us-east-1", AMI_ID: "ami-&\\1" } });
    expect(result.status).toBe(0);
    expect(read(file)).toBe(
      '{"region": "us-east-1", "ami": "ami-&\\1x", "none": "", "cost": "$5", "tf": "${var.x}"}\n',
    );
  });

  it("never executes command substitutions or backticks from the file", () => {
    const file = join(ws.root, "evil.txt");
    const marker = join(ws.root, "pwned");
    const text = `a $(touch ${marker}) b \`touch ${marker}\` c $(echo $HOME) \${X:-$(touch ${marker})}`;
    writeFileSync(file, text);
    const result = shipctl(ws, ["replace", file], { env: { HOME: "/home/u", X: "x" } });
    expect(result.status).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(read(file)).toBe(`a $(touch ${marker}) b \`touch ${marker}\` c $(echo /home/u) \${X:-$(touch ${marker})}`);
  });

  it("handles several files, keeps a missing final newline, the file mode and symlinks", () => {
    const a = join(ws.root, "a.txt");
    const b = join(ws.root, "b.sh");
    const link = join(ws.root, "link.txt");
    writeFileSync(a, "$A\n\n$A");
    writeFileSync(b, "echo $A\n");
    chmodSync(b, 0o750);
    symlinkSync(a, link);
    expect(shipctl(ws, ["replace", link, b], { env: { A: "1" } }).status).toBe(0);
    expect(read(a)).toBe("1\n\n1");
    expect(read(b)).toBe("echo 1\n");
    expect(statSync(b).mode & 0o777).toBe(0o750);
    expect(readdirSync(ws.root).filter((f) => f.includes("shipctl-tmp"))).toEqual([]);
  });

  it("exits 99 for a missing file", () => {
    expect(run("replace", join(ws.root, "missing")).status).toBe(99);
  });
});

describe("get_json_value", () => {
  let file: string;
  beforeEach(() => {
    file = join(ws.root, "manifest.json");
    writeFileSync(
      file,
      JSON.stringify({ builds: [{ artifact_id: "us-east-1:ami-1", "my-key": "k" }], privateKey: "PK", n: null }),
    );
  });

  it.each([
    ["privateKey", "PK"],
    ["builds[0].artifact_id", "us-east-1:ami-1"],
    [".builds[0].my-key", "k"],
    ["builds | length", "1"],
  ])("%s", (path, expected) => {
    expect(out("get_json_value", file, path)).toBe(`${expected}\n`);
  });

  it("prints null for a missing or null value, as Shippable did", () => {
    expect(out("get_json_value", file, "nope.deeper")).toBe("null\n");
    expect(out("get_json_value", file, "n")).toBe("null\n");
    expect(out("get_json_value", file, "builds[5]")).toBe("null\n");
  });

  it("says so on standard output and succeeds for a missing file, as Shippable did", () => {
    const missing = join(ws.root, "missing.json");
    const result = run("get_json_value", missing, "a");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${missing}: No such file present in this directory\n`);
  });
});

describe("get_git_changes", () => {
  let repo: string;
  let commits: string[];

  function git(...args: string[]): string {
    return sh("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...args], repo).trim();
  }

  function commit(files: Record<string, string>): string {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(repo, path, ".."), { recursive: true });
      writeFileSync(join(repo, path), text);
    }
    git("add", "-A");
    git("commit", "-q", "-m", Object.keys(files).join(" "));
    return git("rev-parse", "HEAD");
  }

  beforeEach(() => {
    repo = addDependency(ws, "mono-repo", { type: "gitRepo" });
    git("init", "-q");
    commits = [
      commit({ "README.md": "r", "svc-a/src/index.js": "1", "svc-b/main.go": "1" }),
      commit({ "svc-a/src/index.js": "2", "svc-a/test/x.test.js": "t" }),
      commit({ "svc-b/main.go": "2", "docs/guide.md": "g" }),
    ];
  });

  it("--path: changes of the last commit by default", () => {
    expect(out("get_git_changes", `--path=${repo}`)).toBe("docs/guide.md\nsvc-b/main.go\n");
  });

  it("--resource: the range beforeCommitSha..commitSha of the gitRepo's version", () => {
    addDependency(ws, "mono-repo", {
      type: "gitRepo",
      propertyBag: { shaData: { beforeCommitSha: commits[0], commitSha: commits[1] } },
    });
    expect(out("get_git_changes", "--resource=mono-repo")).toBe("svc-a/src/index.js\nsvc-a/test/x.test.js\n");
    expect(out("get_git_changes", "--resource", "mono-repo", "--directories-only")).toBe("svc-a/src\nsvc-a/test\n");
    expect(out("get_git_changes", "--resource=mono-repo", "--directories-only", "--depth=1")).toBe("svc-a\n");
  });

  it("--resource without shaData, or without beforeCommitSha: HEAD~1..HEAD", () => {
    expect(out("get_git_changes", "--resource=mono-repo")).toBe("docs/guide.md\nsvc-b/main.go\n");
    addDependency(ws, "mono-repo", { type: "gitRepo", propertyBag: { shaData: { commitSha: commits[1] } } });
    expect(out("get_git_changes", "--resource=mono-repo")).toBe("docs/guide.md\nsvc-b/main.go\n");
  });

  it("--resource of a pull request: origin/<base>...<commitSha>", () => {
    git("update-ref", "refs/remotes/origin/main", commits[0] ?? "");
    addDependency(ws, "mono-repo", {
      type: "gitRepo",
      propertyBag: { shaData: { commitSha: commits[2], isPullRequest: true, pullRequestBaseBranch: "main" } },
    });
    expect(out("get_git_changes", "--resource=mono-repo", "--depth=1")).toBe("docs\nsvc-a\nsvc-b\n");
  });

  it("--commit-range and --depth", () => {
    expect(out("get_git_changes", `--path=${repo}`, `--commit-range=${commits[0]}..${commits[2]}`, "--depth=1")).toBe(
      "docs\nsvc-a\nsvc-b\n",
    );
    expect(
      out("get_git_changes", `--path=${repo}`, `--commit-range=${commits[0]}..${commits[2]}`, "--directories-only"),
    ).toBe("docs\nsvc-a/src\nsvc-a/test\nsvc-b\n");
  });

  it("a first commit compares with the empty tree", () => {
    const single = join(ws.root, "single");
    mkdirSync(single);
    sh("git", ["init", "-q"], single);
    writeFileSync(join(single, "a.txt"), "a");
    sh("git", ["add", "a.txt"], single);
    sh("git", ["-c", "user.name=T", "-c", "user.email=t@e", "commit", "-q", "-m", "one"], single);
    expect(out("get_git_changes", `--path=${single}`)).toBe("a.txt\n");
  });

  it("exits 99 outside a git repository and on an unknown option", () => {
    expect(run("get_git_changes", `--path=${ws.state}`).status).toBe(99);
    expect(run("get_git_changes", `--path=${repo}`, "--bogus").status).toBe(99);
  });
});

describe("retry", () => {
  it("runs the command until it succeeds, up to 3 attempts", () => {
    const counter = join(ws.root, "count");
    const script = `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; [ $n -ge 3 ]`;
    const result = shipctl(ws, ["retry", "bash", "-c", script], { env: { SHIPCTL_RETRY_DELAY: "0" } });
    expect(result.status).toBe(0);
    expect(read(counter).trim()).toBe("3");
    // Shippable's lines after each failed attempt: the attempt, then the command.
    expect(result.stdout).toBe(
      `retrying 1 of 3 times...\nbash -c ${script}\nretrying 2 of 3 times...\nbash -c ${script}\n`,
    );
  });

  it("exits with the last status after 3 failures", () => {
    const counter = join(ws.root, "count");
    const script = `echo x >> ${counter}; exit 7`;
    const result = shipctl(ws, ["retry", "bash", "-c", script], { env: { SHIPCTL_RETRY_DELAY: "0" } });
    expect(result.status).toBe(7);
    expect(read(counter)).toBe("x\nx\nx\n");
    expect(result.stdout.match(/^retrying \d of 3 times\.\.\.$/gm)).toEqual([
      "retrying 1 of 3 times...",
      "retrying 2 of 3 times...",
      "retrying 3 of 3 times...",
    ]);
    expect(result.stderr).toContain("failed 3 times, last exit status 7");
  });
});

describe("decrypt", () => {
  const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const encrypt = (plain: Buffer, key = keys.publicKey): Buffer =>
    publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING }, plain);
  let keyFile: string;
  let file: string;
  beforeEach(() => {
    keyFile = join(ws.root, "key.pem");
    writeFileSync(keyFile, keys.privateKey.export({ type: "pkcs8", format: "pem" }));
    file = join(ws.root, "secret.enc");
  });

  it("writes the plaintext to FILE.decrypted (owner-only) and prints only status lines, never the secret", () => {
    const secret = "K1=v1 K2=hunter2";
    writeFileSync(
      file,
      `${encrypt(Buffer.from(secret))
        .toString("base64")
        .replace(/(.{64})/g, "$1\n")}\n`,
    );
    const result = run("decrypt", file, keyFile);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      `shipctl: decrypting ${file} with the key ${keyFile}\nshipctl: decrypted ${file} to ${file}.decrypted\n`,
    );
    expect(result.stderr).toBe("");
    expect(read(`${file}.decrypted`)).toBe(secret);
    expect(statSync(`${file}.decrypted`).mode & 0o777).toBe(0o600);
    // Nothing else was left behind beside it.
    expect(readdirSync(ws.root).filter((f) => f.startsWith("secret.enc"))).toEqual([
      "secret.enc",
      "secret.enc.decrypted",
    ]);
  });

  it("decrypts a blob of several RSA blocks of the key's size, in order, and replaces an older result", () => {
    const plain = Buffer.from("a".repeat(200) + "b".repeat(200) + "c".repeat(50));
    const blocks = [plain.subarray(0, 200), plain.subarray(200, 400), plain.subarray(400)].map((p) => encrypt(p));
    writeFileSync(file, Buffer.concat(blocks).toString("base64"));
    writeFileSync(`${file}.decrypted`, "stale");
    const result = run("decrypt", file, keyFile);
    expect(result.status).toBe(0);
    expect(read(`${file}.decrypted`)).toBe(plain.toString());
    expect(result.stdout).not.toContain("aaaa");
  });

  it("fails with the key of someone else, and leaves no FILE.decrypted", () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(file, encrypt(Buffer.from("x"), other.publicKey).toString("base64"));
    const result = run("decrypt", file, keyFile);
    expect(result.status).not.toBe(0);
    expect(result.status).not.toBe(99);
    expect(result.stderr).toContain(`shipctl: decrypt: cannot decrypt ${file} with the key ${keyFile}`);
    expect(existsSync(`${file}.decrypted`)).toBe(false);
    expect(readdirSync(ws.root).filter((f) => f.startsWith("secret.enc"))).toEqual(["secret.enc"]);
  });

  it.each([
    ["an empty file", () => writeFileSync(file, "\n"), "holds no encrypted data"],
    ["a key that is no key", () => writeFileSync(keyFile, "not a key"), "is not an RSA private key in PEM"],
  ])("refuses %s with 99", (_, arrange, message) => {
    writeFileSync(file, encrypt(Buffer.from("x")).toString("base64"));
    arrange();
    const result = run("decrypt", file, keyFile);
    expect(result.status).toBe(99);
    expect(result.stderr).toContain(message);
    expect(existsSync(`${file}.decrypted`)).toBe(false);
  });
});

describe("split_tests", () => {
  let tests: string;
  let reports: string;

  beforeEach(() => {
    tests = join(ws.root, "tests");
    reports = join(ws.root, "reports");
    mkdirSync(join(tests, "sub"), { recursive: true });
    mkdirSync(reports);
    for (const f of ["a.test.js", "b.test.js", "c.test.js", "sub/d.test.js", "e.test.js", "helper.js"]) {
      writeFileSync(join(tests, f), "");
    }
    // Durations: a 10, b 8 (suites); c 1+2, d 2 (cases); e unknown -> mean 5.75.
    writeFileSync(
      join(reports, "one.xml"),
      `<?xml version="1.0"?>\n<testsuites>\n<testsuite name="a" file="tests/a.test.js" time="10">\n` +
        `<testcase name="x" file="tests/a.test.js" time="4"/></testsuite>\n` +
        `<testsuite name="b" filepath="./tests/b.test.js"\n  time="8"></testsuite></testsuites>\n`,
    );
    writeFileSync(
      join(reports, "two.xml"),
      `<testsuites><testsuite name="c"><testcase name="1" file="tests/c.test.js" time="1"/>` +
        `<testcase name='2' file='tests/c.test.js' time='2'/><testcase file="tests/sub/d.test.js" time="2"/>` +
        `</testsuite></testsuites>`,
    );
  });

  function split(env: Record<string, string>): string[] {
    const result = shipctl(ws, ["split_tests", tests, "*.test.js", reports], { env });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    return result.stdout.split("\n").filter(Boolean);
  }

  it("balances the files over the nodes by their reported durations", () => {
    const p = (f: string) => join(tests, f);
    expect(split({ SHIPPABLE_NODE_INDEX: "0", SHIPPABLE_NODE_COUNT: "2" })).toEqual([
      p("a.test.js"),
      p("c.test.js"),
      p("sub/d.test.js"),
    ]);
    expect(split({ SHIPPABLE_NODE_INDEX: "1", SHIPPABLE_NODE_COUNT: "2" })).toEqual([p("b.test.js"), p("e.test.js")]);
    expect(split({ SHIPPABLE_JOB_NUMBER: "2", SHIPPABLE_JOB_COUNT: "2" })).toEqual([p("b.test.js"), p("e.test.js")]);
  });

  it("prints every test file on a single node, and splits without reports", () => {
    expect(split({})).toHaveLength(5);
    const noReports = (index: string) =>
      shipctl(ws, ["split_tests", tests, "*.test.js", join(ws.root, "none")], {
        env: { SHIPPABLE_NODE_INDEX: index, SHIPPABLE_NODE_COUNT: "3" },
      }).stdout;
    const parts = ["0", "1", "2"].map(noReports);
    expect(parts.map((p) => p.split("\n").filter(Boolean).length)).toEqual([2, 2, 1]);
    expect(parts.join("").split("\n").filter(Boolean).sort()).toEqual(split({}).sort());
  });

  it("exits 99 when the node index is outside the node count", () => {
    const result = shipctl(ws, ["split_tests", tests, "*.test.js", reports], {
      env: { SHIPPABLE_NODE_INDEX: "2", SHIPPABLE_NODE_COUNT: "2" },
    });
    expect(result.status).toBe(99);
  });
});

describe("jdk", () => {
  it("is not available: exits 99 with a message", () => {
    const result = run("jdk", "set", "11");
    expect(result.status).toBe(99);
    expect(result.stderr).toContain("not available");
  });

  it("returns 99 when sourced, without ending or changing the caller's shell", () => {
    const result = spawnSync(
      "bash",
      ["-c", `source "$0" jdk set 11; echo "rc=$? opts=$-"; type cmd_replace >/dev/null 2>&1 || echo clean`, SHIPCTL],
      { env: ws.env, encoding: "utf8" },
    );
    expect(result.stdout).toMatch(/^rc=99 opts=[^u]*\nclean\n$/);
    expect(result.stderr).toContain("not available");
  });
});

describe("notify", () => {
  beforeEach(() => {
    addDependency(ws, "team-slack", { type: "notification" });
  });

  function requests(): { name: string; body: Record<string, unknown> }[] {
    const dir = join(ws.state, "notify");
    return readdirSync(dir)
      .sort()
      .map((name) => ({ name, body: JSON.parse(read(join(dir, name))) }));
  }

  it("queues the request with its options in $JOB_STATE/notify; flags win over NOTIFY_* variables", () => {
    const result = shipctl(ws, ["notify", "team-slack", "--text=deployed", "--recipient=#ops", "--icon_url=i"], {
      env: { NOTIFY_TEXT: "from env", NOTIFY_COLOR: "#ff0000" },
    });
    expect(result.status).toBe(0);
    out("notify", "team-slack", "--pretext=second");
    const queued = requests();
    expect(queued).toHaveLength(2);
    expect(queued[0]?.name).toMatch(/^\d+-1\.json$/);
    expect(queued[0]?.body).toMatchObject({
      resource: "team-slack",
      options: { text: "deployed", recipient: "#ops", color: "#ff0000", "icon-url": "i" },
    });
    expect(queued[1]?.body.options).toEqual({ pretext: "second" });
  });

  it("embeds a --payload file", () => {
    writeFileSync(join(ws.root, "payload.json"), '{"text":"custom"}');
    out("notify", "team-slack", "--payload=payload.json");
    expect(requests()[0]?.body).toMatchObject({ options: { payload: "payload.json" }, payload: { text: "custom" } });
    writeFileSync(join(ws.root, "bad.json"), "{");
    expect(run("notify", "team-slack", "--payload=bad.json").status).toBe(99);
  });

  it("exits 99 for a resource that is no notification dependency", () => {
    addDependency(ws, "app-img", { type: "image" });
    expect(run("notify", "app-img").status).toBe(99);
    expect(run("notify", "unknown").status).toBe(99);
  });
});
