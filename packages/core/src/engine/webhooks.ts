import { fileRole } from "../language/files.js";
import type { Mapping } from "../language/model.js";

/**
 * The pure decisions of the webhook endpoints (`POST /hooks/<resource>`): which header names a
 * delivery, which headers a version may keep, what a hosted SCM's payload says (push, tag, pull
 * request) and whether a `gitRepo`'s filters let it through. No I/O: the server reads the
 * request, checks the credentials (HMAC needs node:crypto) and records the versions.
 */

/** Request headers, names in lower case. */
export type HookHeaders = Readonly<Record<string, string>>;

/**
 * The headers that carry a sender's delivery id, first match wins: the same id on a retry is what
 * makes a retried delivery create one version. `Idempotency-Key` (GitLab 17.4+, and any sender
 * that follows the IETF draft) stays the same across retries, where GitLab's event UUID may not.
 */
export const DELIVERY_HEADERS = [
  "idempotency-key",
  "x-github-delivery",
  "x-gitlab-event-uuid",
  "x-request-uuid",
  "x-request-id",
  "x-delivery-id",
] as const;

/** A delivery id longer than this, or with control characters, is not one. */
const MAX_DELIVERY_ID = 200;

/**
 * The delivery key of a request (`<header>:<id>`), or undefined when it carries no delivery id:
 * then every POST is a new delivery. `invalid` when a delivery header holds something no sender
 * sends (too long, control characters), which the endpoint refuses as a malformed request.
 */
export function deliveryKey(headers: HookHeaders): { key: string; id: string } | { invalid: string } | undefined {
  for (const name of DELIVERY_HEADERS) {
    const value = headers[name]?.trim();
    if (value === undefined || value === "") continue;
    // eslint-disable-next-line no-control-regex -- a delivery id is printable text
    if (value.length > MAX_DELIVERY_ID || /[\x00-\x1f\x7f]/.test(value))
      return { invalid: `the ${name} header is not a delivery id (at most ${MAX_DELIVERY_ID} printable characters)` };
    return { key: `${name}:${value}`, id: value };
  }
  return undefined;
}

/** Headers that carry credentials: never kept in a version. */
const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "x-hub-signature",
  "x-hub-signature-256",
  "x-gitlab-token",
]);

/** The headers a version keeps: every header but those carrying credentials, names in lower case. */
export function keptHeaders(headers: HookHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!SECRET_HEADERS.has(name)) kept[name] = value;
  return kept;
}

/** The hosted SCMs whose webhook payloads a `gitRepo` understands. */
export type ScmHost = "github" | "gitlab" | "bitbucket";

/** Which host sent a delivery, from its event header; undefined when none says. */
export function scmHostOf(headers: HookHeaders): ScmHost | undefined {
  if (headers["x-github-event"] !== undefined) return "github";
  if (headers["x-gitlab-event"] !== undefined) return "gitlab";
  if (headers["x-event-key"] !== undefined) return "bitbucket";
  return undefined;
}

/**
 * The commit data of a `gitRepo` version, as Shippable's `shaData` (shippable.md §4.1) and as the
 * git poller writes it: the poller's keys (`commitSha`, `beforeCommitSha`, `branchName`,
 * `commitMessage`, `committer`, `isPullRequest`, `isGitTag`, `isRelease`) plus what a webhook
 * knows besides.
 */
export interface ShaData {
  readonly commitSha: string;
  readonly beforeCommitSha: string;
  /**
   * The branch pushed to; for a pull request, its base (target) branch. Absent for a tag push
   * (no branch is pushed): a job's `<N>_BRANCH` then falls back to the resource's `branch`.
   */
  readonly branchName?: string;
  readonly commitMessage: string;
  readonly committer: string;
  readonly commitUrl: string;
  readonly isPullRequest: boolean;
  readonly isPullRequestClose: boolean;
  readonly isGitTag: boolean;
  readonly gitTagName: string;
  readonly isRelease: boolean;
  /** Pull requests: number (0 otherwise). */
  readonly pullRequestNumber: number;
  /**
   * Pull requests only: the base and head branches, and the head's repository. Absent for a push,
   * so that a job's `<N>_BASE_BRANCH` and `<N>_HEAD_BRANCH` are the branch pushed to.
   */
  readonly baseCommitRef?: string;
  readonly headCommitRef?: string;
  readonly pullRequestRepoFullName?: string;
  /** `org/repo` of the repository the event happened in. */
  readonly repoFullName: string;
}

/** What a delivery is, for a `gitRepo`. */
export type GitEventKind = "commit" | "tag" | "pullRequest" | "pullRequestClose";

/** One change a delivery reports (a Bitbucket push may report several). */
export interface GitEvent {
  readonly kind: GitEventKind;
  readonly shaData: ShaData;
  /** Every file the pushed commits touch, when the payload lists them (GitHub, GitLab). */
  readonly files: readonly string[] | undefined;
}

/** What a payload says: changes, nothing to build on (with why), or a payload that is not one. */
export type GitPayload =
  | { readonly kind: "events"; readonly events: readonly GitEvent[] }
  | { readonly kind: "ignored"; readonly reason: string }
  | { readonly kind: "invalid"; readonly reason: string };

const ZERO_SHA = /^0+$/;
const SHA = /^[0-9a-f]{7,64}$/i;

/**
 * Reads a hosted SCM's webhook payload: GitHub (`X-GitHub-Event`: push, pull_request), GitLab
 * (`X-Gitlab-Event`: Push Hook, Tag Push Hook, Merge Request Hook) and Bitbucket Cloud
 * (`X-Event-Key`: repo:push, pullrequest:*). Other events (ping, issues, comments, releases),
 * deletions of branches and tags, and pull-request actions that bring no new code are `ignored`
 * with the reason; a payload of a known event that lacks what it must hold is `invalid`.
 */
export function parseGitPayload(host: ScmHost, headers: HookHeaders, body: unknown): GitPayload {
  if (!isObject(body)) return invalid("the payload is not a JSON object");
  try {
    if (host === "github") return github(headers["x-github-event"] ?? "", body);
    if (host === "gitlab") return gitlab(headers["x-gitlab-event"] ?? "", body);
    return bitbucket(headers["x-event-key"] ?? "", body);
  } catch (error) {
    if (error instanceof PayloadError) return invalid(error.message);
    throw error;
  }
}

class PayloadError extends Error {}

function invalid(reason: string): GitPayload {
  return { kind: "invalid", reason };
}

function ignored(reason: string): GitPayload {
  return { kind: "ignored", reason };
}

function isObject(value: unknown): value is Mapping {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// Readers of a payload's fields: a missing required field is a PayloadError naming its path.
function obj(value: Mapping, path: string): Mapping {
  const found = at(value, path);
  if (!isObject(found)) throw new PayloadError(`the payload has no object ${path}`);
  return found;
}

function str(value: Mapping, path: string): string {
  const found = at(value, path);
  if (typeof found !== "string") throw new PayloadError(`the payload has no string ${path}`);
  return found;
}

function optStr(value: Mapping, path: string): string {
  const found = at(value, path);
  return typeof found === "string" ? found : "";
}

function sha(value: Mapping, path: string): string {
  const found = str(value, path);
  if (!SHA.test(found)) throw new PayloadError(`${path} is not a commit id: ${JSON.stringify(found.slice(0, 80))}`);
  return found;
}

function at(value: Mapping, path: string): unknown {
  let cur: unknown = value;
  for (const part of path.split(".")) {
    if (!isObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function base(repoFullName: string): Omit<ShaData, "commitSha" | "branchName"> {
  return {
    beforeCommitSha: "",
    commitMessage: "",
    committer: "",
    commitUrl: "",
    isPullRequest: false,
    isPullRequestClose: false,
    isGitTag: false,
    gitTagName: "",
    isRelease: false,
    pullRequestNumber: 0,
    repoFullName,
  };
}

/** A push of `ref` (refs/heads/X or refs/tags/X) to `after`. */
function pushed(
  ref: string,
  after: string,
  data: Omit<ShaData, "commitSha" | "branchName" | "isGitTag" | "gitTagName">,
  files: readonly string[] | undefined,
): GitPayload {
  if (ZERO_SHA.test(after)) return ignored(`${ref} was deleted`);
  if (!SHA.test(after)) throw new PayloadError(`the pushed commit is not a commit id: ${JSON.stringify(after)}`);
  const tag = /^refs\/tags\/(.+)$/.exec(ref)?.[1];
  const branch = /^refs\/heads\/(.+)$/.exec(ref)?.[1];
  if (tag === undefined && branch === undefined) return ignored(`${ref} is neither a branch nor a tag`);
  const shaData: ShaData = {
    ...data,
    commitSha: after,
    ...(branch === undefined ? {} : { branchName: branch }),
    isGitTag: tag !== undefined,
    gitTagName: tag ?? "",
  };
  return { kind: "events", events: [{ kind: tag === undefined ? "commit" : "tag", shaData, files }] };
}

function filesOf(commits: unknown): string[] | undefined {
  if (!Array.isArray(commits)) return undefined;
  const files: string[] = [];
  for (const commit of commits) {
    if (!isObject(commit)) continue;
    for (const key of ["added", "modified", "removed"]) {
      const list = commit[key];
      if (Array.isArray(list)) for (const f of list) if (typeof f === "string") files.push(f);
    }
  }
  return files;
}

function person(name: string, email: string): string {
  return email === "" ? name : `${name} <${email}>`;
}

function github(event: string, body: Mapping): GitPayload {
  if (event === "push") {
    const repo = str(body, "repository.full_name");
    const head = isObject(body.head_commit) ? body.head_commit : {};
    return pushed(
      str(body, "ref"),
      str(body, "after"),
      {
        ...base(repo),
        beforeCommitSha: optStr(body, "before"),
        commitMessage: optStr(head, "message"),
        committer: person(optStr(head, "committer.name"), optStr(head, "committer.email")),
        commitUrl: optStr(head, "url"),
      },
      filesOf(body.commits),
    );
  }
  if (event === "pull_request") {
    const action = str(body, "action");
    const close = action === "closed";
    if (!close && !["opened", "reopened", "synchronize"].includes(action))
      return ignored(`pull request action ${action} brings no new code`);
    const pr = obj(body, "pull_request");
    const number = at(pr, "number") ?? at(body, "number");
    return pullRequest(close, {
      ...base(str(body, "repository.full_name")),
      commitSha: sha(pr, "head.sha"),
      beforeCommitSha: optStr(body, "before"),
      branchName: str(pr, "base.ref"),
      commitMessage: optStr(pr, "title"),
      committer: optStr(pr, "user.login"),
      commitUrl: optStr(pr, "html_url"),
      pullRequestNumber: typeof number === "number" ? number : 0,
      baseCommitRef: str(pr, "base.ref"),
      headCommitRef: str(pr, "head.ref"),
      pullRequestRepoFullName: optStr(pr, "head.repo.full_name"),
    });
  }
  return ignored(`GitHub event ${JSON.stringify(event)} is not a push or a pull request`);
}

function pullRequest(close: boolean, data: Omit<ShaData, "isPullRequest" | "isPullRequestClose">): GitPayload {
  const shaData: ShaData = { ...data, isPullRequest: true, isPullRequestClose: close };
  return {
    kind: "events",
    events: [{ kind: close ? "pullRequestClose" : "pullRequest", shaData, files: undefined }],
  };
}

function lastCommit(commits: unknown, id: string): Mapping {
  if (!Array.isArray(commits)) return {};
  const all = commits.filter(isObject);
  return all.find((c) => c.id === id) ?? all[all.length - 1] ?? {};
}

function gitlab(event: string, body: Mapping): GitPayload {
  if (event === "Push Hook" || event === "Tag Push Hook") {
    const after = at(body, "checkout_sha") ?? at(body, "after");
    const commit = lastCommit(body.commits, typeof after === "string" ? after : "");
    return pushed(
      str(body, "ref"),
      typeof after === "string" ? after : "0",
      {
        ...base(str(body, "project.path_with_namespace")),
        beforeCommitSha: optStr(body, "before"),
        commitMessage: optStr(commit, "message"),
        committer: person(optStr(commit, "author.name"), optStr(commit, "author.email")),
        commitUrl: optStr(commit, "url"),
      },
      filesOf(body.commits),
    );
  }
  if (event === "Merge Request Hook") {
    const attrs = obj(body, "object_attributes");
    const action = optStr(attrs, "action");
    const close = action === "close" || action === "merge";
    // An update without `oldrev` changed the title or labels, not the code.
    const newCode =
      action === "open" || action === "reopen" || (action === "update" && at(attrs, "oldrev") !== undefined);
    if (!close && !newCode) return ignored(`merge request action ${action || "(none)"} brings no new code`);
    const iid = at(attrs, "iid");
    return pullRequest(close, {
      ...base(str(body, "project.path_with_namespace")),
      commitSha: sha(attrs, "last_commit.id"),
      beforeCommitSha: optStr(attrs, "oldrev"),
      branchName: str(attrs, "target_branch"),
      commitMessage: optStr(attrs, "last_commit.message"),
      committer: person(optStr(attrs, "last_commit.author.name"), optStr(attrs, "last_commit.author.email")),
      commitUrl: optStr(attrs, "url"),
      pullRequestNumber: typeof iid === "number" ? iid : 0,
      baseCommitRef: str(attrs, "target_branch"),
      headCommitRef: str(attrs, "source_branch"),
      pullRequestRepoFullName: optStr(attrs, "source.path_with_namespace"),
    });
  }
  return ignored(`GitLab event ${JSON.stringify(event)} is not a push, a tag push or a merge request`);
}

function bitbucket(event: string, body: Mapping): GitPayload {
  if (event === "repo:push") {
    const repo = str(body, "repository.full_name");
    const changes = at(body, "push.changes");
    if (!Array.isArray(changes)) throw new PayloadError("the payload has no list push.changes");
    const events: GitEvent[] = [];
    for (const change of changes) {
      if (!isObject(change) || !isObject(change.new)) continue; // a deletion
      const type = str(change.new, "type");
      if (type !== "branch" && type !== "tag") continue;
      const name = str(change.new, "name");
      const ref = `refs/${type === "tag" ? "tags" : "heads"}/${name}`;
      const parsed = pushed(
        ref,
        sha(change.new, "target.hash"),
        {
          ...base(repo),
          beforeCommitSha: isObject(change.old) ? optStr(change.old, "target.hash") : "",
          commitMessage: optStr(change.new, "target.message"),
          committer: optStr(change.new, "target.author.raw"),
          commitUrl: optStr(change.new, "target.links.html.href"),
        },
        undefined,
      );
      if (parsed.kind === "events") events.push(...parsed.events);
    }
    return events.length === 0 ? ignored("the push only deletes branches or tags") : { kind: "events", events };
  }
  const pr = /^pullrequest:(created|updated|fulfilled|rejected)$/.exec(event)?.[1];
  if (pr !== undefined) {
    const request = obj(body, "pullrequest");
    const id = at(request, "id");
    return pullRequest(pr === "fulfilled" || pr === "rejected", {
      ...base(str(body, "repository.full_name")),
      commitSha: sha(request, "source.commit.hash"),
      branchName: str(request, "destination.branch.name"),
      commitMessage: optStr(request, "title"),
      committer: optStr(request, "author.display_name"),
      commitUrl: optStr(request, "links.html.href"),
      pullRequestNumber: typeof id === "number" ? id : 0,
      baseCommitRef: str(request, "destination.branch.name"),
      headCommitRef: str(request, "source.branch.name"),
      pullRequestRepoFullName: optStr(request, "source.repository.full_name"),
    });
  }
  return ignored(`Bitbucket event ${JSON.stringify(event)} is not a push or a pull request`);
}

/**
 * The `org/repo` path a `gitRepo`'s `sourceName` names, lower case, for comparing with a
 * payload's repository: `acme/app`, `https://github.com/acme/app.git`, `git@github.com:acme/app.git`.
 */
export function repoPath(sourceName: string): string {
  let path = sourceName.trim();
  const scp = /^[^@/]+@[^:/]+:(.+)$/.exec(path);
  if (scp?.[1] !== undefined) path = scp[1];
  else path = path.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]+\//i, "");
  return path
    .replace(/\.git$/, "")
    .replace(/^\/+|\/+$/g, "")
    .toLowerCase();
}

/** Whether `name` matches a filter pattern: `*` any characters (`/` included), `?` one. */
export function matchesPattern(pattern: string, name: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${regex}$`).test(name);
}

/** An `{only, except}` filter (or a single name, or a list of names as `only`); undefined: all. */
function passes(filter: unknown, name: string): boolean {
  if (filter === undefined || filter === null || filter === "") return true;
  if (typeof filter === "string") return matchesPattern(filter, name);
  if (Array.isArray(filter)) return filter.some((p) => typeof p === "string" && matchesPattern(p, name));
  if (!isObject(filter)) return true;
  const list = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((p): p is string => typeof p === "string") : typeof v === "string" ? [v] : [];
  const only = list(filter.only);
  const except = list(filter.except);
  if (only.length > 0 && !only.some((p) => matchesPattern(p, name))) return false;
  return !except.some((p) => matchesPattern(p, name));
}

function flag(value: unknown, fallback: boolean): boolean {
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  return fallback;
}

/**
 * Whether a `gitRepo` (its definition data: `versionTemplate`, or the legacy `pointer`) takes a
 * change, by the rules of shippable.md §4.1: commits need `buildOnCommit` (default true) and a
 * branch that passes `branch` or `branches: {only, except}` (wildcards); tags need
 * `buildOnTagPush` and a name that passes `tags`; pull requests need `buildOnPullRequest`
 * (closed ones `buildOnPullRequestClose`) and a base branch that passes the branch filter. A
 * push whose commits change only pipeline files (`shippable.yml`, `*causeway.yml`...) does not
 * build: the line re-applies itself instead. Returns the reason when it does not.
 */
export function gitEventFilter(data: Mapping, event: GitEvent): { accept: true } | { accept: false; reason: string } {
  const no = (reason: string) => ({ accept: false as const, reason });
  const { shaData } = event;
  const branchFilter = data.branches ?? data.branch;
  switch (event.kind) {
    case "commit":
      if (!flag(data.buildOnCommit, true)) return no("buildOnCommit is false");
      if (!passes(branchFilter, shaData.branchName ?? "")) return no(`branch ${shaData.branchName} is filtered out`);
      if (event.files !== undefined && event.files.length > 0 && event.files.every(isPipelineFile))
        return no("the push changes only pipeline files");
      return { accept: true };
    case "tag":
      if (!flag(data.buildOnTagPush, false)) return no("buildOnTagPush is not true");
      if (!passes(data.tags, shaData.gitTagName)) return no(`tag ${shaData.gitTagName} is filtered out`);
      return { accept: true };
    case "pullRequest":
      if (!flag(data.buildOnPullRequest, false)) return no("buildOnPullRequest is not true");
      if (!passes(branchFilter, shaData.branchName ?? ""))
        return no(`base branch ${shaData.branchName} is filtered out`);
      return { accept: true };
    case "pullRequestClose":
      if (!flag(data.buildOnPullRequestClose, false)) return no("buildOnPullRequestClose is not true");
      if (!passes(branchFilter, shaData.branchName ?? ""))
        return no(`base branch ${shaData.branchName} is filtered out`);
      return { accept: true };
  }
}

function isPipelineFile(path: string): boolean {
  return fileRole(path.slice(path.lastIndexOf("/") + 1)) !== "ignored";
}
