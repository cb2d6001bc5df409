import type { RESOURCE_TYPES } from "../language/schema.js";
import { cliConfigKind } from "./cli-config.js";
import { ciRepoKind } from "./ci-repo.js";
import { clusterKind } from "./cluster.js";
import { dockerOptionsKind } from "./docker-options.js";
import { externalCIServerKind } from "./external-ci-server.js";
import { fileKind } from "./file.js";
import { gitRepoKind } from "./git-repo.js";
import { imageKind } from "./image.js";
import { integrationKind } from "./integration.js";
import { defineKind, type ResourceKind } from "./kind.js";
import { loadBalancerKind } from "./load-balancer.js";
import { notificationKind } from "./notification.js";
import { paramsKind } from "./params.js";
import { replicasKind } from "./replicas.js";
import { stateKind } from "./state.js";
import { syncRepoKind } from "./sync-repo.js";
import { timeKind } from "./time.js";
import { triggerKind } from "./trigger.js";
import { versionKind } from "./version.js";
import { webhookKind } from "./webhook.js";

export type { KindEnv, ResourceKind } from "./kind.js";
export { defineKind, DEFAULT_KIND_BEHAVIOUR } from "./kind.js";
export { REPO_ORIGIN_KEYS } from "./git-repo.js";
export {
  isHttpUrl,
  NOTIFICATION_METHODS,
  readNotification,
  recipientFits,
  UNDELIVERED_METHODS,
  type NotificationMethod,
  type NotificationProblem,
  type NotificationSetup,
} from "./notification.js";

/** Every type the language knows, with its kind: a type missing here does not compile. */
export const RESOURCE_KINDS: Readonly<Record<(typeof RESOURCE_TYPES)[number], ResourceKind>> = Object.freeze({
  gitRepo: gitRepoKind,
  params: paramsKind,
  integration: integrationKind,
  state: stateKind,
  trigger: triggerKind,
  time: timeKind,
  version: versionKind,
  webhook: webhookKind,
  notification: notificationKind,
  image: imageKind,
  file: fileKind,
  externalCIServer: externalCIServerKind,
  cluster: clusterKind,
  dockerOptions: dockerOptionsKind,
  replicas: replicasKind,
  loadBalancer: loadBalancerKind,
  cliConfig: cliConfigKind,
  syncRepo: syncRepoKind,
  ciRepo: ciRepoKind,
});

/**
 * The kind of an unknown type (kept as opaque configuration) and of a job used as a
 * dependency (its type is the job type): the default behaviour.
 */
export const DEFAULT_KIND: ResourceKind = defineKind({
  type: "",
  holds: "its definition data, as written",
  versionsFrom: "YAML edits (do not trigger); `OUT` from a job",
});

/** The kind of a resource type; the default kind for a type with no special behaviour. */
export function resourceKind(type: string): ResourceKind {
  return Object.hasOwn(RESOURCE_KINDS, type) ? RESOURCE_KINDS[type as keyof typeof RESOURCE_KINDS] : DEFAULT_KIND;
}

/**
 * A version posted from outside merges into the current one's bag. For a kind with a
 * `valuesKey` (params), keys other than it are values (as OUT processing puts them), so they
 * land under it.
 */
export function mergeBag(
  type: string,
  current: Readonly<Record<string, unknown>>,
  given: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const key = resourceKind(type).valuesKey;
  if (key === undefined) return { ...current, ...given };
  const { [key]: values, ...rest } = given;
  const base =
    current[key] !== null && typeof current[key] === "object" ? (current[key] as Record<string, unknown>) : {};
  const extra = values !== null && typeof values === "object" ? (values as Record<string, unknown>) : {};
  return { ...current, [key]: { ...base, ...extra, ...rest } };
}
