import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebhooksSchema } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { silentLogger, startServer, type RunningServer } from "@causeway/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCausewayCli } from "./fixtures.js";

// `causeway webhooks` against the real server on a free port (docs/cli.md): every endpoint with
// its curl line, and the deliveries the server refused.

process.env.TZ = "UTC";

const LINE = `resources:
  - name: deploy_hook
    type: webhook
    versionTemplate:
      webhookKey: s3cret
  - name: app_repo
    type: gitRepo
    integration: scm
    versionTemplate:
      sourceName: acme/app
  - name: local_repo
    type: gitRepo
    versionTemplate:
      sourceName: /nowhere/repo
  - name: keyless
    type: webhook
`;

let root = "";
let server: RunningServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "causeway-cli-webhooks-"));
  const dir = join(root, "line");
  await mkdir(dir);
  await writeFile(join(dir, "causeway.yml"), LINE);
  server = await startServer({
    dir,
    port: 0,
    dataDir: join(root, "data"),
    env: passthroughEnv(process.env),
    cancelGraceMs: 500,
    logger: silentLogger,
  });
}, 60_000);

afterAll(async () => {
  await server.stop();
  await rm(root, { recursive: true, force: true });
});

const cli = (argv: readonly string[]) => runCausewayCli([...argv, "--server", server.url, "--token", server.token], {});

describe("causeway webhooks", () => {
  it("lists every endpoint with where its key comes from and a curl line, then the refused deliveries", async () => {
    const empty = await cli(["webhooks"]);
    expect(empty.code).toBe(0);
    expect(empty.out).toBe(
      [
        `app_repo (gitRepo)  POST ${server.url}/hooks/app_repo`,
        "  key: integration scm (field webhookKey, webhookSecret, secret, token)",
        `  BODY='{"zen":"hello"}'; curl -X POST -H 'Content-Type: application/json' -H 'X-GitHub-Event: ping' -H "X-Hub-Signature-256: sha256=$(printf %s "$BODY" | openssl dgst -sha256 -hmac "$WEBHOOK_KEY" -r | cut -d' ' -f1)" -d "$BODY" '${server.url}/hooks/app_repo'`,
        `deploy_hook (webhook)  POST ${server.url}/hooks/deploy_hook`,
        "  key: versionTemplate.webhookKey",
        `  curl -X POST -u 'deploy_hook:'"$WEBHOOK_KEY" -H 'Content-Type: application/json' -d '{"hello":"world"}' '${server.url}/hooks/deploy_hook'`,
        `keyless (webhook)  POST ${server.url}/hooks/keyless`,
        "  key: none: every delivery is refused (set versionTemplate.webhookKey or an integration)",
        `  curl -X POST -u 'keyless:'"$WEBHOOK_KEY" -H 'Content-Type: application/json' -d '{"hello":"world"}' '${server.url}/hooks/keyless'`,
        "",
        "no refused deliveries",
        "",
      ].join("\n"),
    );

    const refused = await fetch(`${server.url}/hooks/deploy_hook`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from("deploy_hook:guess").toString("base64")}`,
        "x-github-delivery": "d-9",
      },
      body: "{}",
    });
    expect(refused.status).toBe(401);
    const listed = await cli(["webhooks"]);
    const table = listed.out.slice(listed.out.indexOf("refused deliveries"));
    expect(table).toMatch(/WHEN +RESOURCE +STATUS +FROM +DELIVERY +REASON\n/);
    expect(table).toMatch(/deploy_hook +401 WEBHOOK_UNAUTHORIZED +\S*127\.0\.0\.1 +d-9 +wrong credentials\n$/);

    const json = WebhooksSchema.parse(JSON.parse((await cli(["webhooks", "--json"])).out));
    expect(json.endpoints.map((e) => e.resource)).toEqual(["app_repo", "deploy_hook", "keyless"]);
    expect(json.refused).toMatchObject([{ resource: "deploy_hook", status: 401, delivery: "d-9" }]);
    expect((await cli(["webhooks", "--limit", "0"])).code).toBe(2);
  });
});
