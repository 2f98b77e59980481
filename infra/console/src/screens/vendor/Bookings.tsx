/** The organisation's bookings, newest first: filters by status and dates, "load more" by cursor, and the
 * actions each booking's status allows. */
import { useEffect, useState, type FormEvent } from "react";

import type { Booking, BookingStatus } from "../../api/types";
import type { RouteParams } from "../../routes";
import { navigate } from "../../router";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { formatMoney } from "../../ui/money";
import { addDays, formatRange } from "../../ui/time";
import { BookingActions } from "./BookingActions";
import { bookingPage, type BookingFilter } from "./bookingsQuery";
import { statusLabel } from "./statuses";

const STATUSES: BookingStatus[] = [
  "held",
  "awaiting_approval",
  "payment_pending",
  "confirmed",
  "in_progress",
  "completed",
  "cancelled",
  "rejected",
  "expired",
  "no_show",
];

/** A date typed in the filter as the start of that day in the browser's zone (the list spans many venues). */
function dayStart(date: string): string {
  return new Date(`${date}T00:00:00`).toISOString();
}

export function Bookings({ query }: RouteParams) {
  const status = (query.get("status") ?? "") as BookingStatus | "";
  const from = query.get("from") ?? "";
  const to = query.get("to") ?? "";
  const [rows, setRows] = useState<Booking[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [draft, setDraft] = useState({ status, from, to });

  const filter: BookingFilter = {};
  if (status) filter.status = status;
  if (from) filter.from = dayStart(from);
  // "To" is inclusive: bookings of that whole day are listed.
  if (to) filter.to = dayStart(addDays(to, 1));
  const key = JSON.stringify(filter);

  const load = async (after: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const page = await bookingPage(JSON.parse(key) as BookingFilter, after ?? undefined);
      setRows((before) => (after ? [...before, ...page.bookings] : page.bookings));
      setCursor(page.nextCursor);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    setDraft({ status, from, to });
    void load(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the filter's key names what the list depends on
  }, [key]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams(Object.entries(draft).filter(([, value]) => value));
    navigate(`/bookings${next.size ? `?${next.toString()}` : ""}`);
  };

  const replace = (updated: Booking) => setRows(rows.map((row) => (row.id === updated.id ? updated : row)));

  return (
    <section>
      <h1>Bookings</h1>
      <form className="toolbar" onSubmit={apply} aria-label="Filter bookings">
        <label>
          Status
          <select value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value as BookingStatus })}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </label>
        <label>
          To
          <input type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorAlert error={error} />
      {rows.length === 0 && !loading && !error && <p>No bookings match.</p>}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Reference</th>
                <th scope="col">Resource</th>
                <th scope="col">When (resource's time)</th>
                <th scope="col">Status</th>
                <th scope="col">Price</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((booking) => (
                <tr key={booking.id} data-booking-id={booking.id}>
                  <td>
                    <a href={`#/bookings/${encodeURIComponent(booking.id)}`}>{booking.reference}</a>
                  </td>
                  <td>{booking.resourceName}</td>
                  <td>
                    {formatRange(booking.startTime, booking.endTime, booking.timezone)}
                    <span className="hint"> {booking.timezone}</span>
                  </td>
                  <td>
                    <span className={`badge ${booking.status}`}>{statusLabel(booking.status)}</span>
                  </td>
                  <td>{formatMoney(booking.price.amount, booking.price.currency)}</td>
                  <td>
                    <BookingActions booking={booking} onChanged={replace} compact />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {loading && <Busy label="Loading bookings…" />}
      {cursor && !loading && (
        <div className="actions">
          <button type="button" className="secondary" onClick={() => void load(cursor)}>
            Load more
          </button>
        </div>
      )}
    </section>
  );
}
