/** Every screen of the console: `{path, title, roles, element}`. The navigation shows the rows whose `nav` is set
 * and whose roles include the signed-in user's; a row without `nav` is reached by links (a detail screen).
 * Vendor/staff rows first, then the customer/agent/admin rows below the marker (one block per team). */
import type { ReactNode } from "react";

import { Approvals } from "./screens/admin/Approvals";
import { Audit } from "./screens/admin/Audit";
import { Queues } from "./screens/admin/Queues";
import { Book } from "./screens/customer/Book";
import { MyBookings } from "./screens/customer/MyBookings";
import { Search } from "./screens/customer/Search";
import { Home } from "./screens/Home";
import { Outbox } from "./screens/local/Outbox";
import { outboxKnown, probeOutbox } from "./screens/local/localApi";
import { BookingDetail } from "./screens/vendor/BookingDetail";
import { Bookings } from "./screens/vendor/Bookings";
import { Calendar } from "./screens/vendor/Calendar";
import { Payments } from "./screens/vendor/Payments";
import { Reports } from "./screens/vendor/Reports";
import { ResourceEditor } from "./screens/vendor/ResourceEditor";
import { Venues } from "./screens/vendor/Venues";
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
export const BOOKERS: readonly Role[] = ["customer", "agent"];
export const ADMIN: readonly Role[] = ["admin"];

// Asked once at start, before anyone signs in, so the navigation knows by then whether this is the local runtime.
void probeOutbox();

export const ROUTES: RouteDef[] = [
  { path: "/", title: "Home", roles: ALL_ROLES, element: () => <Home />, nav: true },
  // vendor/staff screens
  { path: "/calendar", title: "Calendar", roles: ["vendor", "staff"], element: (r) => <Calendar {...r} />, nav: true },
  { path: "/bookings", title: "Bookings", roles: ["vendor", "staff", "advisor"], element: (r) => <Bookings {...r} />, nav: true },
  { path: "/bookings/:bookingId", title: "Booking", roles: ["vendor", "staff", "advisor"], element: (r) => <BookingDetail {...r} /> },
  { path: "/venues", title: "Venues", roles: ["vendor", "staff"], element: () => <Venues />, nav: true },
  { path: "/resources/new", title: "New resource", roles: ["vendor", "staff"], element: (r) => <ResourceEditor {...r} /> },
  { path: "/resources/:resourceId", title: "Resource", roles: ["vendor", "staff"], element: (r) => <ResourceEditor {...r} /> },
  // staff list only payments they made themselves (slotwise.payments.service.list_payments): vendors only
  { path: "/payments", title: "Payments", roles: ["vendor"], element: (r) => <Payments {...r} />, nav: true },
  { path: "/reports", title: "Reports", roles: ["vendor", "staff"], element: () => <Reports />, nav: true },
  // customer/agent/admin screens
  { path: "/search", title: "Search", roles: BOOKERS, element: ({ query }) => <Search initial={query} />, nav: true },
  {
    path: "/book/:resourceId",
    title: "Book",
    roles: BOOKERS,
    // Keyed by the address: a new resource or search starts a fresh form.
    element: ({ params, query }) => (
      <Book key={`${params.resourceId}?${query}`} resourceId={params.resourceId ?? ""} query={query} />
    ),
  },
  { path: "/my-bookings", title: "My bookings", roles: BOOKERS, element: () => <MyBookings />, nav: true },
  { path: "/admin/approvals", title: "Approvals", roles: ADMIN, element: () => <Approvals />, nav: true },
  { path: "/admin/audit", title: "Audit log", roles: ADMIN, element: ({ query }) => <Audit initial={query} />, nav: true },
  { path: "/admin/queues", title: "Queues", roles: ADMIN, element: () => <Queues />, nav: true },
  // local runtime only: in the navigation once `GET /local/outbox` has answered (probeOutbox, at start)
  {
    path: "/outbox",
    title: "Outbox",
    roles: ALL_ROLES,
    element: () => <Outbox selected={null} />,
    get nav() {
      return outboxKnown();
    },
  },
  {
    path: "/outbox/:mailId",
    title: "Outbox",
    roles: ALL_ROLES,
    element: ({ params }) => <Outbox selected={params.mailId ?? null} />,
  },
];
