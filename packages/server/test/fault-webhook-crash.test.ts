import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HookAnswerSchema, RunSchema, VersionSchema, type ServerInfo } from "@causeway/protocol";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ensureBuilt, infoOf, killAll, killed, spawnServer, type ServerProcess } from "./built.js";
import { basic } from "./hook-server.js";
import { tempDir, waitFor, yaml } from "./helpers.js";

// Exactly once across a crash (docs/semantics.md "Webhooks"): the built server process is
// SIGKILLed while a delivery is in flight, restarted, and the sender retries with the same
// delivery id. The version and its delivery key are committed in one transaction, so the crash
// falls on one side of that commit: before it (the body was not even read yet) or after it (the
// answer may or may not have left; the sender counts it as lost). Each side is made certain.

const LINE = yaml`
  resources:
    - name: hook
      type: webhook
      versionTemplate:
        webhookKey: k3y
  jobs:
    - name: on_hook
      type: runSh
      steps:
        - IN: hook
        - TASK:
            script:
              - echo got it
`;

const procs: ServerProcess[] = [];
let root = "";

beforeAll(() => {
  ensureBuilt();
}, 180_000);

afterEach(async () => {
  await killAll(procs.splice(0));
  await rm(root, { recursive: true, force: true });
});

async function start(dir: string, dataDir: string): Promise<ServerInfo> {
  const proc = spawnServer([dir, "--port", "0", "--data", dataDir]);
  procs.push(proc);
  return infoOf(proc, dataDir);
}

async function crash(): Promise<void> {
  const proc = procs[procs.length - 1] as ServerProcess;
  proc.child.kill("SIGKILL");
  await killed(proc);
}

async function api<T>(info: ServerInfo, path: string, schema: z.ZodType<T>): Promise<T> {
  const res = await fetch(`${info.url}/api/v1${path}`, { headers: { authorization: `Bearer ${info.token}` } });
  return schema.parse(await res.json());
}

const webhookVersions = async (info: ServerInfo) =>
  (await api(info, "/objects/hook/versions", z.array(VersionSchema))).filter((v) => v.createdBy === "webhook");

function deliver(info: ServerInfo, delivery: string, body: string) {
  return fetch(`${info.url}/hooks/hook`, {
    method: "POST",
    headers: { authorization: basic("hook", "k3y"), "content-type": "application/json", "x-github-delivery": delivery },
    body,
  });
}

async function setup(): Promise<{ dir: string; dataDir: string }> {
  root = await tempDir("hook-crash");
  const dir = join(root, "line");
  await mkdir(dir);
  await writeFile(join(dir, "causeway.yml"), LINE);
  return { dir, dataDir: join(root, "data") };
}

describe("a webhook delivery across a crash of the server (fault suite)", () => {
  it("killed after the version was recorded, before the sender saw an answer: the retry creates nothing", async () => {
    const { dir, dataDir } = await setup();
    const first = await start(dir, dataDir);
    const delivery = randomUUID();
    // The sender gives up on its request (a timeout, the connection torn by the crash).
    const sent = deliver(first, delivery, '{"n":1}').catch(() => undefined);
    await waitFor("the delivery's version", async () => (await webhookVersions(first)).length === 1);
    await crash();
    await sent;

    const second = await start(dir, dataDir);
    const retry = await deliver(second, delivery, '{"n":1}');
    expect(retry.status).toBe(200);
    expect(HookAnswerSchema.parse(await retry.json())).toMatchObject({ duplicate: true, runs: [] });
    const versions = await webhookVersions(second);
    expect(versions.map((v) => v.versionName)).toEqual([delivery]);
    // One run of the consumer for the one version: the retry triggered nothing.
    const runs = await api(second, "/runs?job=on_hook", z.array(RunSchema));
    expect(runs).toHaveLength(1);
  });

  it("killed while the body was still arriving: nothing was recorded, and the retry creates the one version", async () => {
    const { dir, dataDir } = await setup();
    const first = await start(dir, dataDir);
    const delivery = randomUUID();
    const body = '{"n":2}';
    const url = new URL(first.url);
    // Headers and half the body; the rest never comes before the crash.
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.on("error", () => undefined);
    socket.write(
      [
        "POST /hooks/hook HTTP/1.1",
        `Host: ${url.host}`,
        `Authorization: ${basic("hook", "k3y")}`,
        "Content-Type: application/json",
        `X-GitHub-Delivery: ${delivery}`,
        `Content-Length: ${body.length}`,
        "",
        body.slice(0, 3),
      ].join("\r\n"),
    );
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await crash();
    await closed;

    const second = await start(dir, dataDir);
    expect(await webhookVersions(second)).toEqual([]);
    const retry = await deliver(second, delivery, body);
    expect(HookAnswerSchema.parse(await retry.json())).toMatchObject({ duplicate: false });
    const again = await deliver(second, delivery, body);
    expect(HookAnswerSchema.parse(await again.json())).toMatchObject({ duplicate: true });
    expect((await webhookVersions(second)).map((v) => v.propertyBag.payload)).toEqual([{ n: 2 }]);
  });
});
