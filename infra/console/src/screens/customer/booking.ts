/** What the customer/agent screens share: links, unit wording, and which actions a booking's status allows. */
// `.js`: this module is also compiled for node --test (tests/booking.test.ts), whose resolution wants extensions.
import type { components } from "../../api/schema.js";

export type Booking = components["schemas"]["Booking"];
export type BookingStatus = Booking["status"];
export type Unit = NonNullable<components["schemas"]["BookingPolicy"]["unit"]>;

export function bookHref(resourceId: string, query?: URLSearchParams): string {
  const search = query && query.toString() ? `?${query.toString()}` : "";
  return `#/book/${encodeURIComponent(resourceId)}${search}`;
}

export function unitLabel(unit: Unit, granuleMinutes: number): string {
  if (unit === "night") return "per night";
  if (unit === "fixed") return "per seat";
  return granuleMinutes === 60 ? "per hour" : `per ${granuleMinutes} min`;
}

/** Waiting for its payment: a held booking (confirmation by payment) or one accepted and now due. */
export function awaitsPayment(booking: Booking): boolean {
  const paid = booking.payment && ["paid", "authorized"].includes(booking.payment.state ?? "paid");
  return (booking.status === "held" || booking.status === "payment_pending") && !paid && booking.price.amount > 0;
}

const OVER: readonly BookingStatus[] = ["cancelled", "rejected", "expired", "completed", "no_show", "in_progress"];

export function cancellable(booking: Booking): boolean {
  return !OVER.includes(booking.status);
}

/** Moving a booking keeps its claims' shape: a fixed window (a departure) moves only with its schedule. */
export function reschedulable(booking: Booking, unit: Unit | null): boolean {
  return cancellable(booking) && booking.status !== "awaiting_approval" && unit !== "fixed";
}

/** "payment_pending" → "payment pending". */
export function statusLabel(status: string): string {
  return status.replace(/_/g, " ");
}

/** A fresh Idempotency-Key for one user action (a retry of the same click reuses it). */
export function idempotencyKey(): string {
  return typeof crypto.randomUUID === "function"
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
