import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { getConnInfo } from "@hono/node-server/conninfo";
import {
  CausewayError,
  deliveryKey,
  gitEventFilter,
  httpStatusOf,
  keptHeaders,
  parseGitPayload,
  repoPath,
  scmHostOf,
  type ErrorCode,
  type HookHeaders,
  type ResourceDef,
  type Run,
  type Version,
} from "@causeway/core";
import type { HookAnswer, WebhookEndpointJson, WebhooksJson } from "@causeway/protocol";
import type { Context, Hono } from "hono";
import type { AppDeps } from "./deps.js";
import { localRepository } from "./sources/local-git-source.js";
import type { AppEnv } from "./http-errors.js";
import type { Logger } from "./logger.js";
import { BODY_LIMITS, readBytes } from "./request.js";

/** The path of the webhook endpoints; they take no API token, only the webhook's own key. */
export const HOOKS_PREFIX = "/hooks";

/** How many refused deliveries are kept (the oldest go first). */
export const REFUSALS_KEPT = 200;

/** Who created a version from a webhook delivery (`Version.createdBy`). */
const CREATED_BY = "webhook";

/** A resource that has a webhook endpoint: a `webhook`, or a `gitRepo` of a hosted SCM. */
export function hasEndpoint(def: ResourceDef): boolean {
  if (def.type === "webhook") return true;
  if (def.type !== "gitRepo") return false;
  const source = dataOf(def).sourceName;
  return typeof source === "string" && source !== "" && localRepository(source) === undefined;
}

/** The definition data of a resource: `versionTemplate`, or the legacy `pointer` (Shippable read either). */
function dataOf(def: ResourceDef): Readonly<Record<string, unknown>> {
  return def.syntax === "versionTemplate" ? def.template : { ...def.template, ...def.pointer };
}

/** Fields of an integration that hold a webhook's key, in order. */
const KEY_FIELDS = ["webhookKey", "webhookSecret", "secret", "token"] as const;

/** Where a resource's key comes from, for `causeway webhooks` (never the key itself). */
function keySource(def: ResourceDef): string | null {
  if (typeof dataOf(def).webhookKey === "string") return "versionTemplate.webhookKey";
  if (def.integration !== undefined) return `integration ${def.integration} (field ${KEY_FIELDS.join(", ")})`;
  return null;
}

/**
 * Mounts `POST /hooks/:name` on the app (docs/api.md "Webhooks"). A delivery is authenticated by
 * the resource's key, as Shippable did: HTTP basic auth `<resource>:<key>`, an
 * `X-Hub-Signature-256` (or Bitbucket's `X-Hub-Signature`) HMAC-SHA256 of the raw body, or
 * GitLab's `X-Gitlab-Token`, each compared in constant time. A `webhook` resource gets a version
 * carrying the body as `payload` and the headers (without credentials) as `headers`; a hosted
 * `gitRepo` gets a version per push, tag or pull request its filters take, with `shaData`. The
 * sender's delivery id is the version's delivery key: a retry creates nothing again.
 */
export function mountHooks(app: Hono<AppEnv>, deps: AppDeps, logger: Logger): void {
  app.post(`${HOOKS_PREFIX}/:name`, async (c) => {
    const name = c.req.param("name");
    const entry = deps.engine.view.object(name);
    // The same answer as any unknown route: a name that has no endpoint is not revealed.
    if (entry?.kind !== "resource" || !hasEndpoint(entry.def))
      throw new CausewayError("NOT_FOUND", `no route ${c.req.method} ${c.req.path}`);
    const def = entry.def;
    const headers = lowerHeaders(c.req.raw.headers);
    const refuse = async (code: ErrorCode, reason: string, hint?: string): Promise<never> => {
      const delivery = deliveryKey(headers);
      await deps.store
        .transaction((tx) =>
          tx.insertWebhookRefusal(
            {
              resource: name,
              status: httpStatusOf(code),
              code,
              reason,
              delivery: delivery !== undefined && "id" in delivery ? delivery.id : null,
              remote: remoteAddress(c),
            },
            REFUSALS_KEPT,
          ),
        )
        .catch((error: unknown) => logger.error(`cannot record a refused delivery to ${name}`, error));
      logger.warn(`webhook ${name}: refused a delivery: ${reason}`, { event: "webhook-refused", resource: name });
      throw new CausewayError(code, reason, hint === undefined ? {} : { hint });
    };

    const declared = Number(c.req.header("content-length"));
    const body =
      Number.isFinite(declared) && declared > BODY_LIMITS.hook
        ? undefined
        : await readBytes(c.req.raw, BODY_LIMITS.hook);
    if (body === undefined)
      return refuse("WEBHOOK_PAYLOAD_TOO_LARGE", `the body is larger than ${BODY_LIMITS.hook} bytes`);

    const key = await webhookKey(deps, def);
    if (key === undefined)
      return refuse(
        "WEBHOOK_FORBIDDEN",
        `the webhook ${name} has no key to check deliveries against`,
        def.integration === undefined
          ? "set versionTemplate.webhookKey, or an integration holding a webhookKey field"
          : `the integration ${def.integration} has no field ${KEY_FIELDS.join(", ")}`,
      );
    const auth = authenticate(name, key, headers, body);
    if (auth !== true) return refuse("WEBHOOK_UNAUTHORIZED", auth);

    const delivery = deliveryKey(headers);
    if (delivery !== undefined && "invalid" in delivery)
      throw new CausewayError("WEBHOOK_PAYLOAD_INVALID", delivery.invalid);
    const options = delivery === undefined ? {} : { key: delivery.key };
    const kept = keptHeaders(headers);
    const payload = parsePayload(headers["content-type"] ?? "", body, def.type === "gitRepo");

    if (def.type === "webhook") {
      const versionName = delivery?.id ?? new Date().toISOString();
      const made = await deps.engine.putVersion(
        name,
        { versionName, propertyBag: { payload, headers: kept } },
        CREATED_BY,
        options,
      );
      return c.json(answer("Webhook processed", [made]));
    }

    const host = scmHostOf(headers);
    if (host === undefined)
      throw new CausewayError(
        "WEBHOOK_PAYLOAD_INVALID",
        "no X-GitHub-Event, X-Gitlab-Event or X-Event-Key header: not a delivery of a hosted repository",
      );
    const parsed = parseGitPayload(host, headers, payload);
    if (parsed.kind === "invalid") throw new CausewayError("WEBHOOK_PAYLOAD_INVALID", parsed.reason);
    if (parsed.kind === "ignored") return c.json(answer(`Webhook ignored: ${parsed.reason}`, []));
    const expected = repoPath(String(dataOf(def).sourceName));
    const made: Made[] = [];
    const skipped: string[] = [];
    for (const [i, event] of parsed.events.entries()) {
      const repo = event.shaData.repoFullName.toLowerCase();
      if (repo !== expected) {
        skipped.push(`the delivery is for ${event.shaData.repoFullName}, not ${expected}`);
        continue;
      }
      const filter = gitEventFilter(dataOf(def), event);
      if (!filter.accept) {
        skipped.push(filter.reason);
        continue;
      }
      // A push of a branch has the pollers' key (`<branch>@<commit>`): one commit seen by a webhook
      // and a poll, or by two deliveries, is one version. Other events are keyed by delivery, one
      // key per change (a Bitbucket push of two branches is two versions, each once).
      const sha = event.shaData;
      const eventKey =
        !sha.isPullRequest && !sha.isGitTag && sha.branchName !== ""
          ? { key: `${sha.branchName}@${sha.commitSha}` }
          : options.key === undefined
            ? {}
            : { key: i === 0 ? options.key : `${options.key}#${i}` };
      logger.info(`${name}: ${event.kind} ${event.shaData.commitSha.slice(0, 7)} from a ${host} webhook`, {
        event: "commit",
        resource: name,
        commit: event.shaData.commitSha,
        branch: event.shaData.branchName,
      });
      made.push(
        await deps.engine.putVersion(
          name,
          {
            versionName: event.shaData.commitSha,
            propertyBag: { shaData: event.shaData, webhookRequestHeaders: kept, webhookRequestBody: payload },
          },
          CREATED_BY,
          eventKey,
        ),
      );
    }
    if (made.length === 0) return c.json(answer(`Webhook ignored: ${skipped.join("; ")}`, []));
    return c.json(answer("Webhook processed", made));
  });
}

interface Made {
  readonly version: Version;
  readonly runs: readonly Run[];
  readonly duplicate: boolean;
}

function answer(message: string, made: readonly Made[]): HookAnswer {
  return {
    message,
    versions: made.map((m) => ({ versionNumber: m.version.versionNumber, versionName: m.version.versionName })),
    duplicate: made.length > 0 && made.every((m) => m.duplicate),
    runs: made.flatMap((m) => m.runs.map((r) => r.id)),
  };
}

/** The webhook's key: `versionTemplate.webhookKey`, else a key field of its integration. */
async function webhookKey(deps: AppDeps, def: ResourceDef): Promise<string | undefined> {
  const inline = dataOf(def).webhookKey;
  if (typeof inline === "string") return inline === "" ? undefined : inline;
  if (def.integration === undefined || deps.integrations === undefined) return undefined;
  const fields = await deps.integrations.get(def.integration);
  for (const field of KEY_FIELDS) {
    const value = fields?.[field];
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
}

/**
 * Checks a delivery's credentials against `key`: true, or why not. Any one method suffices; a
 * method present with a wrong value fails the delivery even when another is right.
 */
function authenticate(name: string, key: string, headers: HookHeaders, body: Uint8Array): true | string {
  const checks: boolean[] = [];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(headers.authorization ?? "")?.[1];
  if (basic !== undefined) {
    const text = Buffer.from(basic, "base64").toString("utf8");
    const colon = text.indexOf(":");
    const user = colon < 0 ? text : text.slice(0, colon);
    checks.push(same(user, name) && colon >= 0 && same(text.slice(colon + 1), key));
  }
  for (const header of ["x-hub-signature-256", "x-hub-signature"]) {
    const value = headers[header];
    // GitHub sends a SHA-1 X-Hub-Signature beside X-Hub-Signature-256: only SHA-256 counts.
    if (value === undefined || /^sha1=/i.test(value.trim())) continue;
    const hex = /^sha256=([0-9a-f]{64})$/i.exec(value.trim())?.[1];
    const expected = createHmac("sha256", key).update(body).digest();
    checks.push(hex !== undefined && timingSafeEqual(Buffer.from(hex, "hex"), expected));
  }
  const token = headers["x-gitlab-token"];
  if (token !== undefined) checks.push(same(token, key));
  if (checks.length === 0)
    return "no credentials: send HTTP basic auth <resource>:<key>, an X-Hub-Signature-256 HMAC of the body, or X-Gitlab-Token";
  return checks.every(Boolean) ? true : "wrong credentials";
}

/** Constant-time equality of two strings, as digests of equal length. */
function same(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * The payload of a delivery: JSON (`application/json`, `+json`, or no content type), a form's
 * fields (`application/x-www-form-urlencoded`; GitHub's form deliveries carry the JSON in
 * `payload`), or else the text. A body that says it is JSON and is not is WEBHOOK_PAYLOAD_INVALID.
 */
function parsePayload(contentType: string, body: Uint8Array, gitRepo: boolean): unknown {
  const text = new TextDecoder().decode(body);
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "application/x-www-form-urlencoded") {
    const fields = Object.fromEntries(new URLSearchParams(text));
    if (!gitRepo || fields.payload === undefined) return fields;
    return parseJson(fields.payload, "the form field payload");
  }
  if (type === "" || type === "application/json" || type.endsWith("+json") || gitRepo) {
    if (text.trim() === "" && !gitRepo) return {};
    return parseJson(text, "the body");
  }
  return text;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CausewayError("WEBHOOK_PAYLOAD_INVALID", `${what} is not valid JSON: ${(error as Error).message}`);
  }
}

function lowerHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name.toLowerCase()] = value;
  });
  return out;
}

function remoteAddress(c: Context<AppEnv>): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null; // an in-process request (tests) has no socket
  }
}

/** Every webhook endpoint of the line, and the latest refused deliveries (`GET /api/v1/webhooks`). */
export async function listWebhooks(deps: AppDeps, origin: string, limit: number): Promise<WebhooksJson> {
  const endpoints: WebhookEndpointJson[] = [];
  for (const entry of deps.engine.view.objects()) {
    if (entry.kind !== "resource" || !hasEndpoint(entry.def)) continue;
    const name = entry.name;
    const url = `${origin}${HOOKS_PREFIX}/${encodeURIComponent(name)}`;
    const curl =
      entry.def.type === "webhook"
        ? `curl -X POST -u '${name}:'"$WEBHOOK_KEY" -H 'Content-Type: application/json' -d '{"hello":"world"}' '${url}'`
        : // A hosted repository signs its deliveries: this is GitHub's ping, signed the same way.
          `BODY='{"zen":"hello"}'; curl -X POST -H 'Content-Type: application/json' -H 'X-GitHub-Event: ping' ` +
          `-H "X-Hub-Signature-256: sha256=$(printf %s "$BODY" | openssl dgst -sha256 -hmac "$WEBHOOK_KEY" -r | cut -d' ' -f1)" ` +
          `-d "$BODY" '${url}'`;
    endpoints.push({ resource: name, type: entry.def.type, url, keyFrom: keySource(entry.def), curl });
  }
  endpoints.sort((a, b) => a.resource.localeCompare(b.resource));
  const refused = await deps.store.read.listWebhookRefusals(limit);
  return { endpoints, refused: refused.map((r) => ({ ...r })) };
}
