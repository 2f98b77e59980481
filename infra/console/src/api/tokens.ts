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
  onUnauthorised(): void {
    unauthorisedListener?.();
  },
  listenUnauthorised(listener: (() => void) | null): void {
    unauthorisedListener = listener;
  },
};
