/** Signing in with the API's own tokens (`POST /auth/login`), refreshing them in the background before the access
 * token expires (`POST /auth/refresh`, single-use refresh tokens), and signing out (`POST /auth/logout`).
 * The user and role come from the API's profile route (`GET /users/me`), never from decoding the token. */
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";

import { api, unwrap } from "./api/client";
import type { components } from "./api/schema";
import { tokens } from "./api/tokens";

export type Role = components["schemas"]["User"]["role"];
export type Me = components["schemas"]["Me"];

export interface SessionUser {
  id: string;
  role: Role;
  status: string;
  name?: string;
  email?: string;
}

export interface Session {
  /** null while signed out (or before the stored session is checked: see `ready`) */
  user: SessionUser | null;
  role: Role | null;
  ready: boolean;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

/** Refresh this long before the access token expires, so a call never carries an expired token. */
const REFRESH_MARGIN_MS = 60_000;

const SessionContext = createContext<Session | null>(null);

function toUser(me: Me): SessionUser {
  const known = me as Partial<components["schemas"]["User"]> & { id: string; role: string; status?: string };
  const user: SessionUser = { id: known.id, role: known.role as Role, status: known.status ?? "active" };
  if (known.name) user.name = known.name;
  if (known.email) user.email = known.email;
  return user;
}

let refreshing: Promise<boolean> | null = null;

/** One refresh at a time: the refresh token is single use, so two concurrent refreshes would revoke the session. */
export function refreshNow(): Promise<boolean> {
  if (refreshing) return refreshing;
  const stored = tokens.read();
  if (!stored) return Promise.resolve(false);
  refreshing = unwrap(api.POST("/api/v1/auth/refresh", { body: { refreshToken: stored.refreshToken } }))
    .then((pair) => {
      tokens.write(pair);
      return true;
    })
    .catch(() => {
      tokens.clear();
      return false;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

export function SessionProvider({ children }: { children: ReactNode }): ReactNode {
  const [user, setUser] = useState<SessionUser | null>(null);
  const [ready, setReady] = useState(false);
  const timer = useRef<number | undefined>(undefined);

  const schedule = useCallback(() => {
    window.clearTimeout(timer.current);
    const stored = tokens.read();
    if (!stored) return;
    const wait = Math.max(5_000, stored.expiresAt - Date.now() - REFRESH_MARGIN_MS);
    timer.current = window.setTimeout(() => {
      void refreshNow().then((ok) => (ok ? schedule() : setUser(null)));
    }, wait);
  }, []);

  const loadProfile = useCallback(async () => {
    const me = await unwrap(api.GET("/api/v1/users/me"));
    setUser(toUser(me));
  }, []);

  useEffect(() => {
    tokens.useRefresher(async () => {
      const ok = await refreshNow();
      if (ok) schedule();
      return ok;
    });
    tokens.listenUnauthorised(() => {
      window.clearTimeout(timer.current);
      tokens.clear();
      setUser(null);
    });
    const stored = tokens.read();
    const restore = async () => {
      if (stored) {
        if (stored.expiresAt - Date.now() < REFRESH_MARGIN_MS && !(await refreshNow())) return;
        await loadProfile().catch(() => tokens.clear());
        schedule();
      }
    };
    void restore().finally(() => setReady(true));
    return () => {
      tokens.listenUnauthorised(null);
      tokens.useRefresher(null);
      window.clearTimeout(timer.current);
    };
  }, [loadProfile, schedule]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      const signedIn = await unwrap(api.POST("/api/v1/auth/login", { body: { email, password } }));
      tokens.write(signedIn);
      setUser(toUser(signedIn.user));
      schedule();
    },
    [schedule],
  );

  const signOut = useCallback(async () => {
    const stored = tokens.read();
    window.clearTimeout(timer.current);
    if (stored) {
      // Revokes the refresh token server-side; the session ends locally whatever the answer.
      await api.POST("/api/v1/auth/logout", { body: { refreshToken: stored.refreshToken } }).catch(() => undefined);
    }
    tokens.clear();
    setUser(null);
    window.location.hash = "#/";
  }, []);

  const value = useMemo<Session>(
    () => ({ user, role: user?.role ?? null, ready, signIn, signOut }),
    [user, ready, signIn, signOut],
  );
  return createElement(SessionContext.Provider, { value }, children);
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession() outside <SessionProvider>");
  return session;
}
