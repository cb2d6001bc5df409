import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { API_PREFIX, type SessionJson } from "@causeway/protocol";
import type { Context, Hono } from "hono";
import type { AppDeps } from "./deps.js";
import { graphJson } from "./graph-model.js";
import type { AppEnv } from "./http-errors.js";
import { secureRequest, type GuardedRoutes } from "./routes.js";
import { sessionCookieHeader, type SessionCookies } from "./sessions.js";
import { HOOKS_PREFIX } from "./webhooks.js";

/**
 * The web UI's routes of the API (docs/api.md "Browser sessions", "GET /graph"): who the caller
 * is, the exchange of an API token for a session cookie and its end, and the graph read model.
 */
export function mountWebApiRoutes(
  routes: GuardedRoutes,
  deps: AppDeps,
  sessions: SessionCookies,
  publicAccess: boolean,
): void {
  const { engine } = deps;
  const sessionOf = (c: Context<AppEnv>, expiresAt: Date | undefined): SessionJson => {
    const token = c.get("token");
    const via = token === undefined ? "anonymous" : c.get("session") === undefined ? "bearer" : "cookie";
    return {
      token: token?.name ?? null,
      role: token?.role ?? null,
      via,
      publicAccess,
      expiresAt: expiresAt?.toISOString() ?? null,
    };
  };

  routes.get(
    "/session",
    "viewer",
    (c) => c.json(sessionOf(c, c.get("session")?.expiresAt)),
    () => true,
  );

  routes.post("/session", "viewer", (c) => {
    const token = c.get("token");
    // The guard let only a caller with a token through.
    if (token === undefined) throw new Error("POST /session without a token");
    const session = sessions.issue(token);
    c.header("Set-Cookie", sessionCookieHeader(session, secureRequest(c)));
    c.header("Cache-Control", "no-store");
    return c.json({ ...sessionOf(c, session.expiresAt), via: "cookie" as const });
  });

  routes.delete("/session", "viewer", (c) => {
    c.header("Set-Cookie", sessionCookieHeader(undefined, secureRequest(c)));
    return c.json({ ok: true });
  });

  routes.get(
    "/graph",
    "viewer",
    (c) =>
      c.json(
        graphJson(
          engine.view,
          c.get("token") === undefined ? (job) => engine.view.job(job)?.allowPublicAccess === true : undefined,
        ),
      ),
    () => true,
  );
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * What every page of the UI is sent with: its own scripts and workers only (the layout runs in a
 * worker), inline styles (the graph positions its nodes with them), never framed, and no
 * referrer (a page's address never leaves it).
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

/**
 * Serves the built web UI (`packages/web/dist`) at `/`: a file of it when the path names one,
 * else its `index.html` for any other GET outside `/api` and `/hooks`, so that a page's address
 * (a deep link) loads the app, which then shows that page. Hashed assets are cached for good;
 * `index.html` never is. Without a built UI, `/` says how to build it.
 */
export function mountWebUi(app: Hono<AppEnv>, webDir: string | undefined): void {
  app.get("*", async (c, next) => {
    const path = c.req.path;
    if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`) || path.startsWith("/api/")) return next();
    if (path === HOOKS_PREFIX || path.startsWith(`${HOOKS_PREFIX}/`)) return next();
    if (webDir === undefined) return next();
    const file = await staticFile(webDir, path);
    if (file !== undefined) {
      const immutable = path.startsWith("/assets/");
      return c.body(new Uint8Array(file.body), 200, {
        "Content-Type": CONTENT_TYPES[extname(file.path)] ?? "application/octet-stream",
        "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
        ...PAGE_HEADERS,
      });
    }
    // A missing asset is a 404, not the app: a stale page must not run HTML as a script.
    if (extname(path) !== "" || path.startsWith("/assets/") || /\/\.|%2e/i.test(path)) return next();
    const index = await readFile(join(webDir, "index.html")).catch(() => undefined);
    if (index === undefined) {
      return c.text(
        `The web UI is not built (no ${join(webDir, "index.html")}): run \`npm run build\` in the Causeway checkout.\nThe API is at ${API_PREFIX}/.\n`,
        503,
        { "Cache-Control": "no-store" },
      );
    }
    return c.body(new Uint8Array(index), 200, {
      "Content-Type": CONTENT_TYPES[".html"] ?? "text/html",
      "Cache-Control": "no-cache",
      ...PAGE_HEADERS,
    });
  });
}

// The file under `root` that a URL path names, if it is a regular file there: never outside
// `root`, never a dotfile, never a directory.
async function staticFile(root: string, urlPath: string): Promise<{ path: string; body: Buffer } | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded === "/" || decoded.split("/").some((s) => s.startsWith("."))) return undefined;
  const full = normalize(join(root, decoded));
  if (!full.startsWith(normalize(root) + sep)) return undefined;
  const info = await stat(full).catch(() => undefined);
  if (info === undefined || !info.isFile()) return undefined;
  return { path: full, body: await readFile(full) };
}
