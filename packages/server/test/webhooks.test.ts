import { execFile } from "node:child_process";
import { request } from "node:http";
import { promisify } from "node:util";
import { HookAnswerSchema, VersionSchema, WebhooksSchema, type RunJson } from "@causeway/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { basic, signature, startHookServer, type HookServer } from "./hook-server.js";
import { yaml } from "./helpers.js";

// `webhook` resources (docs/api.md "Webhooks", docs/semantics.md "Webhooks"): real HTTP
// deliveries to a real server, versions in real SQLite, jobs in real bash with real shipctl.

const LINE = yaml`
  resources:
    - name: deploy_hook
      type: webhook
      versionTemplate:
        webhookKey: s3cret
    - name: chat_hook
      type: webhook
      integration: chat_key
    - name: keyless_hook
      type: webhook
    - name: settings
      type: params
      versionTemplate:
        params:
          A: "1"
  jobs:
    - name: on_deploy
      type: runSh
      steps:
        - IN: deploy_hook
        - IN: settings
        - TASK:
            script:
              - echo "image=$(shipctl get_resource_version_key deploy_hook payload.image)"
              - echo "whole=$(shipctl get_resource_version_key deploy_hook payload | jq -c .)"
              - echo "delivery=$(shipctl get_resource_version_key deploy_hook headers.x-github-delivery)"
    - name: on_chat
      type: runSh
      steps:
        - IN: chat_hook
        - IN: keyless_hook
        - TASK:
            script:
              - echo chat
`;

const Versions = z.array(VersionSchema);

let server: HookServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(): Promise<HookServer> {
  server = await startHookServer({ "causeway.yml": LINE }, { chat_key: { webhookKey: "chat-key" } });
  return server;
}

async function versions(s: HookServer, name: string) {
  return Versions.parse((await s.api("GET", `/objects/${name}/versions`)).body).filter(
    (v) => v.createdBy === "webhook",
  );
}

describe("webhook resources: POST /hooks/<resource>", () => {
  it("turns an authenticated POST into a version whose payload the job reads with shipctl", async () => {
    const s = await start();
    const body = JSON.stringify({ image: "acme/app:1.4", tags: ["a", "b"] });
    const res = await s.hook("deploy_hook", body, {
      authorization: basic("deploy_hook", "s3cret"),
      "content-type": "application/json",
      "x-github-delivery": "d-1",
    });
    expect(res.status).toBe(200);
    const answer = HookAnswerSchema.parse(res.body);
    expect(answer).toMatchObject({
      message: "Webhook processed",
      duplicate: false,
      versions: [{ versionName: "d-1" }],
    });
    expect(answer.runs).toHaveLength(1);
    const [version] = await versions(s, "deploy_hook");
    expect(version?.propertyBag.payload).toEqual({ image: "acme/app:1.4", tags: ["a", "b"] });
    const headers = version?.propertyBag.headers as Record<string, string>;
    expect(headers["x-github-delivery"]).toBe("d-1");
    expect(headers.authorization).toBeUndefined();
    const run = await s.finished(answer.runs[0] as number);
    expect(run.status).toBe("success");
    const log = String((await s.api("GET", `/runs/${run.id}/logs`)).body);
    expect(log).toContain("image=acme/app:1.4");
    expect(log).toContain('whole={"image":"acme/app:1.4","tags":["a","b"]}');
    expect(log).toContain("delivery=d-1\n");
  });

  it("creates one version for a delivery its sender retries, and a new one for each POST without a delivery id", async () => {
    const s = await start();
    const auth = { authorization: basic("deploy_hook", "s3cret") };
    const first = HookAnswerSchema.parse(
      (await s.hook("deploy_hook", "{}", { ...auth, "x-github-delivery": "same" })).body,
    );
    const retry = HookAnswerSchema.parse(
      (await s.hook("deploy_hook", "{}", { ...auth, "x-github-delivery": "same" })).body,
    );
    expect(retry).toEqual({ ...first, duplicate: true, runs: [] });
    expect(await versions(s, "deploy_hook")).toHaveLength(1);
    await s.hook("deploy_hook", "{}", auth);
    await s.hook("deploy_hook", "{}", auth);
    expect(await versions(s, "deploy_hook")).toHaveLength(3);
  });

  it("accepts an X-Hub-Signature-256 HMAC of the raw body, and a key kept in an integration", async () => {
    const s = await start();
    const body = '{"ok": true}';
    const signed = await s.hook("deploy_hook", body, { "x-hub-signature-256": signature("s3cret", body) });
    expect(signed.status).toBe(200);
    const chat = await s.hook("chat_hook", "text=deploy&user=ann", {
      authorization: basic("chat_hook", "chat-key"),
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(chat.status).toBe(200);
    const [version] = await versions(s, "chat_hook");
    expect(version?.propertyBag.payload).toEqual({ text: "deploy", user: "ann" });
  });

  it("refuses and records deliveries without credentials (401), with wrong ones (401), and to a webhook without a key (403)", async () => {
    const s = await start();
    const body = '{"a":1}';
    const cases: [string, Record<string, string>, number, string][] = [
      ["deploy_hook", {}, 401, "no credentials"],
      ["deploy_hook", { authorization: basic("deploy_hook", "guess") }, 401, "wrong credentials"],
      ["deploy_hook", { authorization: basic("chat_hook", "s3cret") }, 401, "wrong credentials"],
      ["deploy_hook", { "x-hub-signature-256": signature("guess", body) }, 401, "wrong credentials"],
      // A right basic auth does not save a wrong signature.
      [
        "deploy_hook",
        { authorization: basic("deploy_hook", "s3cret"), "x-hub-signature-256": signature("guess", body) },
        401,
        "wrong credentials",
      ],
      ["keyless_hook", { authorization: basic("keyless_hook", "") }, 403, "has no key"],
    ];
    for (const [name, headers, status, reason] of cases) {
      const res = await s.hook(name, body, { ...headers, "x-request-id": `r-${status}` });
      expect(res.status, `${name} ${JSON.stringify(headers)}`).toBe(status);
      expect(res.body).toMatchObject({
        error: {
          code: status === 401 ? "WEBHOOK_UNAUTHORIZED" : "WEBHOOK_FORBIDDEN",
          message: expect.stringContaining(reason),
        },
      });
      if (status === 401) expect(res.headers.get("www-authenticate")).toBe('Basic realm="causeway-hooks"');
    }
    expect(await versions(s, "deploy_hook")).toEqual([]);
    const listed = WebhooksSchema.parse((await s.api("GET", "/webhooks")).body);
    expect(listed.refused.map((r) => [r.resource, r.status])).toEqual(
      cases.map(([name, , status]) => [name, status]).reverse(),
    );
    expect(listed.refused[0]).toMatchObject({ delivery: "r-403", remote: expect.stringMatching(/127\.0\.0\.1/) });
    // A refused delivery never names the key.
    expect(JSON.stringify(listed.refused)).not.toContain("s3cret");
  });

  it("answers 413 to a body over the cap, declared or streamed, and 400 to a malformed payload", async () => {
    const s = await start();
    const auth = { authorization: basic("deploy_hook", "s3cret") };
    const big = "x".repeat(1024 * 1024 + 1);
    const declared = await s.hook("deploy_hook", big, auth);
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({ error: { code: "WEBHOOK_PAYLOAD_TOO_LARGE" } });
    // No Content-Length (chunked): the server counts what it reads, and answers before the end.
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(`${s.url}/hooks/deploy_hook`, { method: "POST", headers: auth }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      const chunk = Buffer.alloc(64 * 1024, 120);
      let sent = 0;
      const pump = (): void => {
        while (sent < 20) {
          sent++;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
    expect(streamed).toBe(413);
    const malformed = await s.hook("deploy_hook", '{"torn": ', { ...auth, "content-type": "application/json" });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({
      error: { code: "WEBHOOK_PAYLOAD_INVALID", message: expect.stringContaining("not valid JSON") },
    });
    expect(await versions(s, "deploy_hook")).toEqual([]);
  });

  it("answers an unknown name, or a resource without an endpoint, exactly as an unknown route", async () => {
    const s = await start();
    const strip = (body: unknown) => {
      const { error } = body as { error: { code: string; message: string } };
      return { code: error.code, message: error.message.replace(/\/hooks\/\S+/, "/hooks/X") };
    };
    const unknown = await s.hook("nope", "{}");
    const params = await s.hook("settings", "{}", { authorization: basic("settings", "x") });
    const job = await s.hook("on_deploy", "{}");
    const route = await fetch(`${s.url}/hooks/deploy_hook/extra`, { method: "POST", body: "{}" });
    const routeBody = strip(await route.json());
    for (const res of [unknown, params, job]) {
      expect(res.status).toBe(404);
      expect(strip(res.body)).toEqual(routeBody);
    }
    expect(routeBody).toEqual({ code: "NOT_FOUND", message: "no route POST /hooks/X" });
  });

  it("lists every endpoint with a curl line that works (GET /api/v1/webhooks)", async () => {
    const s = await start();
    const listed = WebhooksSchema.parse((await s.api("GET", "/webhooks")).body);
    expect(listed.endpoints.map((e) => [e.resource, e.keyFrom])).toEqual([
      ["chat_hook", expect.stringContaining("integration chat_key")],
      ["deploy_hook", "versionTemplate.webhookKey"],
      ["keyless_hook", null],
    ]);
    const deploy = listed.endpoints.find((e) => e.resource === "deploy_hook");
    expect(deploy?.url).toBe(`${s.url}/hooks/deploy_hook`);
    // The curl line, run by bash with the key in the environment, is a delivery.
    // Asynchronously: the server answers in this process.
    const { stdout: out } = await promisify(execFile)("bash", ["-c", `${deploy?.curl} -s`], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", WEBHOOK_KEY: "s3cret" },
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toMatchObject({ message: "Webhook processed" });
    const [version] = await versions(s, "deploy_hook");
    expect(version?.propertyBag.payload).toEqual({ hello: "world" });
    // The API token gives nothing on /hooks, and /hooks needs no API token.
    const withToken = await fetch(`${s.url}/hooks/deploy_hook`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.token}` },
      body: "{}",
    });
    expect(withToken.status).toBe(401);
    const runs = (await s.api<RunJson[]>("GET", "/runs?job=on_deploy")).body;
    expect(runs).toHaveLength(1);
  });
});
