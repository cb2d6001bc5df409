import { useSyncExternalStore } from "react";

// The UI's place lives in the URL (path + query): every filter, search and selection, so a link
// restores it. Navigation is history.pushState plus an event the hooks below listen to.

const NAVIGATE = "causeway:navigate";

function subscribe(listener: () => void): () => void {
  window.addEventListener("popstate", listener);
  window.addEventListener(NAVIGATE, listener);
  return () => {
    window.removeEventListener("popstate", listener);
    window.removeEventListener(NAVIGATE, listener);
  };
}

/** The current path and query (`/runs/3?x=1`). */
export function useHref(): string {
  return useSyncExternalStore(subscribe, () => `${location.pathname}${location.search}`);
}

/** Goes to `to` (a path with its query); `replace` for changes that need no history entry. */
export function navigate(to: string, replace = false): void {
  if (to === `${location.pathname}${location.search}`) return;
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.dispatchEvent(new Event(NAVIGATE));
}

/** The graph page's query: flag filter, search, selection, flow. */
export interface GraphQuery {
  readonly flag: string | null;
  readonly q: string | null;
  readonly select: string | null;
  readonly flow: string | null;
}

/** The graph query of a URL's search string. */
export function graphQuery(search: string): GraphQuery {
  const params = new URLSearchParams(search);
  return { flag: params.get("flag"), q: params.get("q"), select: params.get("select"), flow: params.get("flow") };
}

/** The graph page's URL with `change` applied to the current query (null removes a key). */
export function graphHref(current: GraphQuery, change: Partial<GraphQuery>): string {
  const next = { ...current, ...change };
  const params = new URLSearchParams();
  for (const key of ["flag", "flow", "q", "select"] as const) {
    const value = next[key];
    if (value !== null && value !== "") params.set(key, value);
  }
  const query = params.toString();
  return query === "" ? "/" : `/?${query}`;
}

/** The pages of the UI, from a path. */
export type Page =
  | { readonly name: "graph" }
  | { readonly name: "run"; readonly id: number }
  | { readonly name: "runners" | "approvals" | "audit" | "notifications" | "webhooks" | "applies" }
  | { readonly name: "missing"; readonly path: string };

const PAGES = ["runners", "approvals", "audit", "notifications", "webhooks", "applies"] as const;

/** The page a path shows. */
export function pageOf(pathname: string): Page {
  const path = pathname.replace(/\/+$/, "") || "/";
  if (path === "/") return { name: "graph" };
  const run = /^\/runs\/(\d+)$/.exec(path);
  if (run !== null) return { name: "run", id: Number(run[1]) };
  const page = PAGES.find((p) => path === `/${p}`);
  return page === undefined ? { name: "missing", path } : { name: page };
}

/**
 * Takes an API token from the URL's fragment (`#token=...`, as `causeway up` prints it) and
 * removes the fragment at once, before anything can log or send the URL.
 */
export function takeHashToken(): string | null {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (match === null) return null;
  history.replaceState(null, "", `${location.pathname}${location.search}`);
  return decodeURIComponent(match[1] ?? "");
}
