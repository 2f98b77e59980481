/** Every screen of the console: `{path, title, roles, element}`. The navigation shows the rows whose `nav` is set
 * and whose roles include the signed-in user's; a row without `nav` is reached by links (a detail screen).
 * Vendor/staff rows first, then the customer/agent/admin rows below the marker (one block per team). */
import type { ReactNode } from "react";

import { Home } from "./screens/Home";
import type { Role } from "./session";

export interface RouteParams {
  params: Record<string, string>;
  query: URLSearchParams;
}

export interface RouteDef {
  /** a hash path pattern: `/bookings/:bookingId` */
  path: string;
  title: string;
  roles: readonly Role[];
  element: (route: RouteParams) => ReactNode;
  /** shown in the navigation when set */
  nav?: boolean;
}

export const ALL_ROLES: readonly Role[] = ["admin", "vendor", "staff", "agent", "advisor", "customer", "guest"];
export const VENDOR_SIDE: readonly Role[] = ["vendor", "staff", "admin"];

export const ROUTES: RouteDef[] = [
  { path: "/", title: "Home", roles: ALL_ROLES, element: () => <Home />, nav: true },
  // vendor/staff screens
  // customer/agent/admin screens
];
