import type { SessionJson } from "@causeway/protocol";
import { useCallback, useEffect, useState } from "react";
import { ApiError, problemOf } from "./api.js";
import { GraphPage } from "./graph/graph-page.js";
import { useEventStream, useGraphFeed } from "./live.js";
import { LoginForm } from "./login.js";
import { AppliesPage } from "./pages/applies.js";
import { ApprovalsPage, AuditPage, NotificationsPage, RunnersPage, WebhooksPage } from "./pages/pages.js";
import { can } from "./roles.js";
import { RunPage } from "./run/run-page.js";
import { SessionContext, useSessionApi } from "./session.js";
import { createStore, StoreContext, useSlice, useStore } from "./store.js";
import { Link, ProblemView } from "./ui.js";
import { pageOf, useHref } from "./url.js";

/** The app: the session first (login form when there is none), then the pages. */
export function App({ initialToken }: { readonly initialToken: string | null }) {
  const { view, login, logout, expire } = useSessionApi(initialToken);
  const [wantsLogin, setWantsLogin] = useState(false);
  if (view.status === "loading") return <p className="loading">Loading…</p>;
  if (view.status === "out" || wantsLogin)
    return (
      <LoginForm
        login={async (token) => {
          await login(token);
          setWantsLogin(false);
        }}
        problem={view.status === "out" ? view.problem : null}
      />
    );
  return (
    <SessionContext.Provider value={view.session}>
      <Shell session={view.session} logout={logout} login={() => setWantsLogin(true)} expire={expire} />
    </SessionContext.Provider>
  );
}

function Shell(props: {
  readonly session: SessionJson;
  readonly logout: () => Promise<void>;
  readonly login: () => void;
  readonly expire: () => void;
}) {
  const [store] = useState(() => createStore());
  return (
    <StoreContext.Provider value={store}>
      <Live expire={props.expire} live={can(props.session, "events")} />
      <TopNav session={props.session} logout={props.logout} login={props.login} />
      <Pages />
    </StoreContext.Provider>
  );
}

function Live({ expire, live }: { readonly expire: () => void; readonly live: boolean }) {
  const store = useStore();
  const [problem, setProblem] = useState<ReturnType<typeof problemOf> | null>(null);
  const onError = useCallback(
    (error: unknown) => {
      // The session ended (its cookie expired, its token was revoked): log in again.
      if (error instanceof ApiError && error.status === 401) expire();
      else setProblem(problemOf(error));
    },
    [expire],
  );
  useEventStream(store, live);
  useGraphFeed(store, onError);
  return problem === null ? null : <ProblemView problem={problem} />;
}

const NAV = [
  ["/", "Graph", "graph"],
  ["/approvals", "Approvals", "approvals"],
  ["/runners", "Runners", "runners"],
  ["/audit", "Audit", "audit"],
  ["/notifications", "Notifications", "notifications"],
  ["/applies", "Applies", "applies"],
  ["/webhooks", "Webhooks", "webhooks"],
] as const;

function TopNav({
  session,
  logout,
  login,
}: {
  readonly session: SessionJson;
  readonly logout: () => Promise<void>;
  readonly login: () => void;
}) {
  const href = useHref();
  const path = href.split("?")[0] ?? "/";
  const links = NAV.filter(([, , route]) => can(session, route));
  return (
    <header className="topnav">
      <Link to="/" className="brand">
        Causeway
      </Link>
      <nav aria-label="pages">
        {links.map(([to, label]) => (
          <span key={to} aria-current={path === to ? "page" : undefined}>
            <Link to={to}>{label}</Link>
          </span>
        ))}
      </nav>
      <span className="spacer" />
      {can(session, "events") ? <ConnectionIndicator /> : null}
      <ThemeToggle />
      {session.via === "anonymous" ? (
        <>
          <span className="role" data-testid="read-only">
            read-only
          </span>
          <button type="button" className="btn btn-plain" onClick={login} data-testid="login">
            Log in
          </button>
        </>
      ) : (
        <>
          <span className="role" data-testid="role" data-role={session.role ?? undefined}>
            {session.role}
          </span>
          {session.via === "cookie" ? (
            <button type="button" className="btn btn-plain" onClick={() => void logout()} data-testid="logout">
              Log out
            </button>
          ) : null}
        </>
      )}
    </header>
  );
}

function ConnectionIndicator() {
  const connection = useSlice((s) => s.connection);
  if (connection === "live") return null;
  return (
    <span className="connection" role="status" data-testid="reconnecting" data-connection={connection}>
      <span aria-hidden="true">⟳</span> {connection === "connecting" ? "connecting…" : "reconnecting…"}
    </span>
  );
}

type Theme = "light" | "dark" | "system";

function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(() => {
    const saved = localStorage.getItem("causeway-theme");
    return saved === "light" || saved === "dark" ? saved : "system";
  });
  useEffect(() => {
    if (theme === "system") document.documentElement.removeAttribute("data-theme");
    else document.documentElement.setAttribute("data-theme", theme);
    localStorage.setItem("causeway-theme", theme);
  }, [theme]);
  const next: Record<Theme, Theme> = { system: "dark", dark: "light", light: "system" };
  return (
    <button
      type="button"
      className="btn btn-plain"
      data-testid="theme"
      aria-label={`theme: ${theme} (switch to ${next[theme]})`}
      onClick={() => setTheme(next[theme])}
    >
      {theme === "dark" ? "☾" : theme === "light" ? "☀" : "◑"} {theme}
    </button>
  );
}

function Pages() {
  const href = useHref();
  const [pathname = "/", search = ""] = href.split("?");
  const page = pageOf(pathname);
  switch (page.name) {
    case "graph":
      return <GraphPage search={search} />;
    case "run":
      return (
        <main className="content">
          <RunPage id={page.id} />
        </main>
      );
    case "missing":
      return (
        <main className="content">
          <p>No page at {page.path}.</p>
        </main>
      );
    default:
      return <main className="content">{PAGE_VIEWS[page.name]}</main>;
  }
}

const PAGE_VIEWS = {
  runners: <RunnersPage />,
  approvals: <ApprovalsPage />,
  audit: <AuditPage />,
  notifications: <NotificationsPage />,
  webhooks: <WebhooksPage />,
  applies: <AppliesPage />,
} as const;
