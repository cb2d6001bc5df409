import type { SessionJson } from "@causeway/protocol";
import { createContext, useCallback, useContext, useEffect, useState } from "react";
import { ApiError, call, problemOf } from "./api.js";

// The browser's session: a token from the URL's fragment or the login form is exchanged once
// for the HttpOnly session cookie (POST /session), which every later request carries.

/** Where the session is. */
export type SessionView =
  | { readonly status: "loading" }
  | { readonly status: "in"; readonly session: SessionJson }
  | { readonly status: "out"; readonly problem: ReturnType<typeof problemOf> | null };

/** The session, and how to log in and out. */
export interface SessionApi {
  readonly view: SessionView;
  readonly login: (token: string) => Promise<void>;
  readonly logout: () => Promise<void>;
  /** The session ended on the server's side: show the login form. */
  readonly expire: () => void;
}

/** The session of the app. */
export const SessionContext = createContext<SessionJson | null>(null);

/** The signed-in session (null: none yet). */
export function useSession(): SessionJson | null {
  return useContext(SessionContext);
}

/** Loads the session, exchanging `initialToken` (from the URL's fragment) first when given. */
export function useSessionApi(initialToken: string | null): SessionApi {
  const [view, setView] = useState<SessionView>({ status: "loading" });

  const login = useCallback(async (token: string) => {
    try {
      const session = await call("login", undefined, { bearer: token });
      setView({ status: "in", session });
    } catch (error) {
      setView({ status: "out", problem: problemOf(error) });
    }
  }, []);

  const logout = useCallback(async () => {
    try {
      await call("logout");
    } finally {
      setView({ status: "out", problem: null });
    }
  }, []);

  useEffect(() => {
    let gone = false;
    const load = async (): Promise<void> => {
      if (initialToken !== null) {
        await login(initialToken);
        return;
      }
      try {
        const session = await call("session");
        if (!gone) setView({ status: "in", session });
      } catch (error) {
        if (gone) return;
        const unauthorized = error instanceof ApiError && error.status === 401;
        setView({ status: "out", problem: unauthorized ? null : problemOf(error) });
      }
    };
    void load();
    return () => {
      gone = true;
    };
  }, [initialToken, login]);

  const expire = useCallback(() => setView({ status: "out", problem: null }), []);
  return { view, login, logout, expire };
}
