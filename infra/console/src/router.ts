/** Hash routing (`#/calendar`, `#/bookings/bk-1`): the console is static files, so every screen is one index.html
 * and nothing needs a server-side rewrite. Patterns name parameters with a colon (`/bookings/:bookingId`). */
import { useEffect, useState } from "react";

export interface HashLocation {
  path: string;
  query: URLSearchParams;
}

function read(): HashLocation {
  const raw = window.location.hash.replace(/^#/, "") || "/";
  const [path = "/", query = ""] = raw.split("?");
  return { path: path || "/", query: new URLSearchParams(query) };
}

export function useHashLocation(): HashLocation {
  const [location, setLocation] = useState(read);
  useEffect(() => {
    const changed = () => setLocation(read());
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return location;
}

/** The parameters of `path` under `pattern`, or null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const have = path.split("/").filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (const [index, part] of want.entries()) {
    const actual = have[index] ?? "";
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(actual);
    else if (part !== actual) return null;
  }
  return params;
}

export function navigate(path: string): void {
  window.location.hash = `#${path}`;
}
