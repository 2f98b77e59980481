/** The session's tokens in sessionStorage (one tab's session; closing the tab signs out). The session module
 * (src/session.ts) owns signing in, refreshing and signing out; the client only reads the access token. */
export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  /** epoch milliseconds when the access token expires */
  expiresAt: number;
}

const KEY = "slotwise.console.session";
let unauthorisedListener: (() => void) | null = null;
let refresher: (() => Promise<boolean>) | null = null;

export const tokens = {
  read(): StoredTokens | null {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    try {
      return JSON.parse(raw) as StoredTokens;
    } catch {
      return null;
    }
  },
  write(pair: { accessToken: string; refreshToken: string; expiresIn: number }): StoredTokens {
    const stored = {
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      expiresAt: Date.now() + pair.expiresIn * 1000,
    };
    sessionStorage.setItem(KEY, JSON.stringify(stored));
    return stored;
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
  },
  access(): string | null {
    return tokens.read()?.accessToken ?? null;
  },
  /** The session's answer to a 401 that a refresh could not mend: the session has ended. */
  onUnauthorised(): void {
    unauthorisedListener?.();
  },
  listenUnauthorised(listener: (() => void) | null): void {
    unauthorisedListener = listener;
  },
  /** A new token pair now (the session module's single-flight refresh); false when the session cannot go on. */
  refresh(): Promise<boolean> {
    return refresher ? refresher() : Promise.resolve(false);
  },
  useRefresher(refresh: (() => Promise<boolean>) | null): void {
    refresher = refresh;
  },
};
