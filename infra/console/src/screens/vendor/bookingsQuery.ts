/** Reading the organisation's bookings (`GET /bookings`, cursor pages) for the calendar and the list. */
import { api, unwrap } from "../../api/client";
import type { Booking, BookingStatus } from "../../api/types";

export interface BookingFilter {
  resourceId?: string;
  venueId?: string;
  status?: BookingStatus;
  from?: string;
  to?: string;
}

export interface BookingPage {
  bookings: Booking[];
  nextCursor: string | null;
}

export async function bookingPage(filter: BookingFilter, cursor?: string, limit = 50): Promise<BookingPage> {
  const page = await unwrap(api.GET("/api/v1/bookings", { params: { query: { ...filter, cursor, limit } } }));
  return { bookings: page.bookings, nextCursor: page.pagination.nextCursor ?? null };
}

/** Every booking the filter matches, up to `max` (a calendar week of one resource is far below it). */
export async function allBookings(filter: BookingFilter, max = 1000): Promise<Booking[]> {
  const found: Booking[] = [];
  let cursor: string | undefined;
  do {
    const page = await bookingPage(filter, cursor, 100);
    found.push(...page.bookings);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && found.length < max);
  return found;
}
