import { createHash, randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isCausewayError } from "@causeway/core";
import { RunSchema, type RunJson } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../src/index.js";
import { collectingLogger, lineAndData, tempDir, waitFor, yaml } from "./helpers.js";
import { startReceiver } from "./notify-harness.js";

// Issue 11, "secret leaks": secrets of the integration store and secret parameters reach the
// job (variables, owner-only files, shipctl) and leave by no way out: not the console (plain,
// base64, JSON-escaped, multi-line), not the API, not the database file.

const FINAL = ["success", "failure", "cancelled", "error", "timeout", "lost", "skipped"];
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

// Quotes and a backslash, so that the JSON-escaped form differs from the plain one.
const SECRET_KEY = `sk-${randomBytes(10).toString("hex")}"q"\\z`;
const PRIVATE_KEY = `-----BEGIN KEY-----\n${randomBytes(24).toString("base64")}\n${randomBytes(24).toString("base64")}\n-----END KEY-----`;
const HOOK_URL = `https://hooks.example/${randomBytes(8).toString("hex")}`;
const TOKEN = `tok-${randomBytes(10).toString("hex")}`;

const LINE = yaml`
  resources:
    - name: aws_creds
      type: integration
      integration: aws
  jobs:
    - name: deploy
      type: runSh
      integrations: [slackhook]
      params:
        TOKEN: { type: secret, required: true }
      steps:
        - IN: aws_creds
        - TASK:
            script:
              - echo "plain $AWS_CREDS_INTEGRATION_SECRETKEY"
              - printf 'b64 %s\\n' "$(printf %s "$AWS_CREDS_INTEGRATION_SECRETKEY" | base64 -w0)"
              - jq -cn --arg v "$AWS_CREDS_INTEGRATION_SECRETKEY" '{json:$v}'
              - echo "raw $secretKey"
              - cat "$AWS_CREDS_PRIVATE_KEY_PATH"
              - echo "token $TOKEN"
              - shipctl put_resource_state deploy LEAK "x $AWS_CREDS_INTEGRATION_SECRETKEY $TOKEN"
              - echo "sha-env $(printf %s "$AWS_CREDS_INTEGRATION_SECRETKEY" | sha256sum | cut -c1-64)"
              - echo "sha-field $(shipctl get_integration_resource_field aws_creds secretKey | tr -d '\\n' | sha256sum | cut -c1-64)"
              - echo "sha-job $(shipctl get_integration_field slackhook webhookUrl | tr -d '\\n' | sha256sum | cut -c1-64)"
              - echo "keys $(shipctl get_integration_keys slackhook | tr '\\n' ' ')"
              - echo "modes $(stat -c %a "$AWS_CREDS_PATH/integration.json" "$AWS_CREDS_PATH/integration.env" "$AWS_CREDS_PRIVATE_KEY_PATH" "$JOB_INTEGRATIONS/slackhook/integration.json" | tr '\\n' ' ')"
              - echo "sha-key $(head -c -1 "$AWS_CREDS_PRIVATE_KEY_PATH" | sha256sum | cut -c1-64)"
              - echo "in-files $(grep -rlF -- "$AWS_CREDS_INTEGRATION_SECRETKEY" "$JOB_PATH"/scripts/*.sh "$JOB_PATH/message.json" | wc -l)"
`;

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

/** Every form of the secrets a leak could take: as they are, JSON-escaped, base64. */
function leaks(text: string): string[] {
  const secrets = [SECRET_KEY, PRIVATE_KEY, HOOK_URL, TOKEN];
  const forms = secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1), Buffer.from(s).toString("base64")]);
  return forms.filter((f) => text.includes(f));
}

describe("secrets of the integration store", () => {
  let root: string;
  let dataDir: string;
  let server: RunningServer;
  let call: ReturnType<typeof api>;
  let run: RunJson;
  let log: string;

  beforeAll(async () => {
    root = await tempDir("secret-leaks");
    const line = await lineAndData(root, { "causeway.yml": LINE });
    dataDir = line.dataDir;
    server = await startServer({
      dir: line.dir,
      dataDir,
      port: 0,
      watch: false,
      env: passthroughEnv(process.env),
      cancelGraceMs: 500,
      logger: collectingLogger(),
    });
    call = api(server);
    const set = await call("PUT", "/secrets/aws", {
      fields: { accessKey: "AKIAEXAMPLE", secretKey: SECRET_KEY, privateKey: PRIVATE_KEY },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect((await call("PUT", "/secrets/slackhook", { fields: { webhookUrl: HOOK_URL } })).status).toBe(200);
    const created = await call("POST", "/jobs/deploy/runs", { params: { TOKEN } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = RunSchema.parse(created.body).id;
    run = await waitFor(`run ${id} to finish`, async () => {
      const { body } = await call<RunJson>("GET", `/runs/${id}`);
      return FINAL.includes(body.status) ? body : undefined;
    });
    log = (await call<string>("GET", `/runs/${id}/logs`)).body;
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("reach the job: variables, shipctl on the files, key files, all owner-only", () => {
    expect(run.status, log).toBe("success");
    expect(log).toContain(`sha-env ${sha256(SECRET_KEY)}\n`);
    expect(log).toContain(`sha-field ${sha256(SECRET_KEY)}\n`);
    expect(log).toContain(`sha-job ${sha256(HOOK_URL)}\n`);
    expect(log).toContain(`sha-key ${sha256(PRIVATE_KEY)}\n`);
    expect(log).toContain("keys webhookUrl \n");
    expect(log).toContain("modes 600 600 600 600 \n");
    // No generated script and not message.json: values travel in the process environment only.
    expect(log).toContain("in-files 0\n");
  });

  it("leave the console redacted: plain, base64, JSON-escaped, multi-line, raw key-value names, secret parameters", () => {
    expect(leaks(log)).toEqual([]);
    expect(log).toContain("plain ***\n");
    expect(log).toContain("b64 ***\n");
    expect(log).toContain('{"json":"***"}\n');
    expect(log).toContain("raw ***\n");
    expect(log).toContain("token ***\n");
    // The non-secret field of a short value is still shown: only values are redacted.
    expect(log).not.toContain("BEGIN KEY");
  });

  it("leave the API with names only: the list, the PUT's answer, the run, the audit trail", async () => {
    const list = await call<{ secrets: { name: string; fields: string[] }[] }>("GET", "/secrets");
    expect(list.body.secrets.map((s) => [s.name, s.fields])).toEqual([
      ["aws", ["accessKey", "privateKey", "secretKey"]],
      ["slackhook", ["webhookUrl"]],
    ]);
    const answers = [
      list.body,
      (await call("GET", `/runs/${run.id}`)).body,
      (await call("GET", "/runs?job=deploy")).body,
      (await call("GET", "/objects/deploy/versions")).body,
      (await call("GET", "/jobs/deploy/why")).body,
      (await call("GET", "/audit")).body,
    ];
    expect(leaks(JSON.stringify(answers))).toEqual([]);
    // What the job wrote to its version is redacted before it is stored.
    const versions = await call<{ propertyBag: Record<string, unknown> }[]>("GET", "/objects/deploy/versions");
    expect(versions.body[0]?.propertyBag.LEAK).toBe("x *** ***");
    const audit = await call<{ action: string; subject: string; detail: unknown }[]>("GET", "/audit?action=secret-set");
    expect(audit.body.map((e) => [e.action, e.subject])).toEqual([
      ["secret-set", "secret:slackhook"],
      ["secret-set", "secret:aws"],
    ]);
  });

  it("are encrypted at rest: the database files hold no value and no secret parameter", () => {
    const bytes = Buffer.concat(
      ["causeway.db", "causeway.db-wal"].map((f) => {
        try {
          return readFileSync(join(dataDir, f));
        } catch {
          return Buffer.alloc(0);
        }
      }),
    );
    expect(bytes.length).toBeGreaterThan(0);
    for (const secret of [SECRET_KEY, PRIVATE_KEY.split("\n")[1]!, HOOK_URL, TOKEN]) {
      expect(bytes.includes(Buffer.from(secret))).toBe(false);
    }
    expect(statSync(join(dataDir, "secret.key")).mode & 0o777).toBe(0o600);
  });

  it("a rotation re-encrypts everything under a new key that alone decrypts, and is audited", async () => {
    const before = readFileSync(join(dataDir, "secret.key"), "utf8");
    const rotated = await call<{ keyId: string; previousKeyId: string; resealed: number }>(
      "POST",
      "/secrets/rotate-key",
    );
    expect(rotated.status).toBe(200);
    // Four fields and the run's secret parameter.
    expect(rotated.body.resealed).toBe(5);
    const after = readFileSync(join(dataDir, "secret.key"), "utf8");
    expect(after).not.toBe(before);
    expect(after.trim().split("\n")).toHaveLength(1);
    expect(statSync(join(dataDir, "secret.key")).mode & 0o777).toBe(0o600);
    // The run's secret parameter still decrypts (the API redacts it; the store opened it).
    expect((await call<RunJson>("GET", `/runs/${run.id}`)).body.params.TOKEN).toBe("********");
    const audit = await call<{ detail: { keyId: string } }[]>("GET", "/audit?action=secret-rotate-key");
    expect(audit.body[0]?.detail.keyId).toBe(rotated.body.keyId);
    expect((await call("DELETE", "/secrets/slackhook")).status).toBe(204);
    const again = await call<{ error: { code: string } }>("DELETE", "/secrets/slackhook");
    expect([again.status, again.body.error.code]).toEqual([404, "SECRET_NOT_FOUND"]);
  });

  it("a server started with another key refuses to start, naming the key id it lacks", async () => {
    await server.stop();
    const other = join(root, "other.key");
    await writeFile(other, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
    const error = await startServer({
      dir: join(root, "line"),
      dataDir,
      port: 0,
      watch: false,
      secretKeyFile: other,
      logger: collectingLogger(),
    }).then(
      (s) => s.stop().then(() => undefined),
      (e: unknown) => e,
    );
    expect(isCausewayError(error, "SECRET_KEY_INVALID")).toBe(true);
    const keyId = createHash("sha256")
      .update(Buffer.from(readFileSync(join(dataDir, "secret.key"), "utf8").trim(), "base64"))
      .digest("hex")
      .slice(0, 12);
    expect((error as Error).message).toContain(keyId);
    // With its own key it starts again.
    server = await startServer({ dir: join(root, "line"), dataDir, port: 0, watch: false, logger: collectingLogger() });
  });
});

describe("notifications through the integration store", () => {
  it("find their webhook URL and signing key in the store, and carry no secret in any payload", async () => {
    const rx = await startReceiver();
    const root = await tempDir("secret-notify");
    const { dir, dataDir } = await lineAndData(root, {
      "causeway.yml": yaml`
        resources:
          - name: ops
            type: notification
            integration: ops_hook
            versionTemplate:
              method: webhook
        jobs:
          - name: deploy
            type: runSh
            params:
              TOKEN: { type: secret, required: true }
            steps:
              - IN: ops
              - TASK:
                  script:
                    - shipctl notify ops --text="deploying with $TOKEN"
            on_success:
              NOTIFY: ops
      `,
    });
    const server = await startServer({
      dir,
      dataDir,
      port: 0,
      watch: false,
      env: passthroughEnv(process.env),
      cancelGraceMs: 500,
      logger: collectingLogger(),
    });
    try {
      const call = api(server);
      const signingKey = `sign-${randomBytes(8).toString("hex")}`;
      const url = `${rx.url}/ops-${randomBytes(6).toString("hex")}`;
      expect((await call("PUT", "/secrets/ops_hook", { fields: { webhookUrl: url, secret: signingKey } })).status).toBe(
        200,
      );
      const created = await call("POST", "/jobs/deploy/runs", { params: { TOKEN } });
      const id = RunSchema.parse(created.body).id;
      await waitFor("two deliveries", () => rx.accepted().length >= 2);
      const received = rx.accepted();
      expect(received.map((r) => r.path)).toEqual([new URL(url).pathname, new URL(url).pathname]);
      const bodies = received.map((r) => r.body).join("\n");
      expect(bodies).toContain("deploying with ***");
      expect(leaks(bodies)).toEqual([]);
      expect(bodies).not.toContain(signingKey);
      expect(received.every((r) => String(r.headers["x-causeway-signature-256"]).startsWith("sha256="))).toBe(true);
      expect((await call<RunJson>("GET", `/runs/${id}`)).body.status).toBe("success");
    } finally {
      await server.stop();
      await rx.stop();
      await rm(root, { recursive: true, force: true });
    }
  }, 60_000);
});
