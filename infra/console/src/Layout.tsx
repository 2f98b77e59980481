/** The signed-in frame: a header with the navigation for the user's role, and the current screen. */
import { useEffect, useRef, useState } from "react";

import { match, useHashLocation } from "./router";
import { ROUTES, type RouteDef } from "./routes";
import { type Role, useSession } from "./session";

/** The row for `path` that the role has (two teams may give one path to different roles), else any row for it. */
function findRoute(path: string, role: Role | null): { route: RouteDef; params: Record<string, string> } | null {
  let other: { route: RouteDef; params: Record<string, string> } | null = null;
  for (const route of ROUTES) {
    const params = match(route.path, path);
    if (params && role && route.roles.includes(role)) return { route, params };
    if (params) other ??= { route, params };
  }
  return other;
}

export function Layout() {
  const { user, role, signOut } = useSession();
  const location = useHashLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const heading = useRef<HTMLDivElement>(null);
  const found = findRoute(location.path, role);
  const allowed = found && role && found.route.roles.includes(role);
  const navigation = ROUTES.filter((route) => route.nav && role && route.roles.includes(role));

  useEffect(() => {
    document.title = `${found?.route.title ?? "Not found"} · Slotwise`;
    setMenuOpen(false);
    // Moves focus to the new screen, as a page load would, for keyboard and screen-reader users.
    heading.current?.focus();
  }, [location.path, found?.route.title]);

  return (
    <div className="app">
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), heading.current?.focus())}>
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Slotwise</span>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="primary-nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <nav id="primary-nav" aria-label="Main" className={menuOpen ? "open" : ""}>
          <ul>
            {navigation.map((route) => (
              <li key={route.path}>
                <a href={`#${route.path}`} aria-current={found?.route === route ? "page" : undefined}>
                  {route.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">
          {user?.name ?? user?.id} <span className="role">{role}</span>
        </span>
        <button type="button" className="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" ref={heading} tabIndex={-1}>
        {allowed ? (
          found.route.element({ params: found.params, query: location.query })
        ) : (
          <section>
            <h1>{found ? "Not available" : "Not found"}</h1>
            <p>{found ? "Your role does not have this screen." : "There is no screen at this address."}</p>
            <a href="#/">Home</a>
          </section>
        )}
      </main>
    </div>
  );
}
