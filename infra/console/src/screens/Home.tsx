/** The landing screen after sign-in: who is signed in and the screens their role has. */
import { ROUTES } from "../routes";
import { useSession } from "../session";

export function Home() {
  const { user, role } = useSession();
  const screens = ROUTES.filter((route) => route.nav && route.path !== "/" && role && route.roles.includes(role));
  return (
    <section>
      <h1>Welcome{user?.name ? `, ${user.name}` : ""}</h1>
      <p>
        Signed in as <strong>{role}</strong>
        {user?.email ? ` (${user.email})` : ""}.
      </p>
      {screens.length > 0 && (
        <ul className="cards">
          {screens.map((route) => (
            <li key={route.path}>
              <a href={`#${route.path}`}>{route.title}</a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
