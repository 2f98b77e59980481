/** My bookings (`GET /bookings`: a customer's own; an agent's, those they made for customers), newest first, with
 * what each allows: pay, cancel (the refund quote from `GET /bookings/{id}/cancellation-quote` is shown before the
 * cancellation is confirmed) and reschedule (`POST /bookings/{id}/reschedule`). */
import { useEffect, useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useSession } from "../../session";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { usePages } from "../../ui/usePages";
import { formatMoney } from "../../ui/money";
import { addDays, formatDateTime, formatDay, formatRange, formatTime, localDate, zonedIso } from "../../ui/time";
import { awaitsPayment, cancellable, reschedulable, statusLabel, type Booking, type BookingStatus } from "./booking";
import { PayPanel } from "./Pay";
import "../../ui/screens.css";

type RefundQuote = components["schemas"]["RefundQuote"];

const STATUSES: (BookingStatus | "")[] = [
  "",
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

export function MyBookings() {
  const { role } = useSession();
  const [status, setStatus] = useState<BookingStatus | "">("");
  const { items: bookings, setItems: setBookings, next, error, busy, load: loadPage } = usePages<Booking>();

  async function load(cursor: string | null, wanted: BookingStatus | "" = status) {
    await loadPage(cursor, async (at) => {
      const page = await unwrap(
        api.GET("/api/v1/bookings", {
          params: {
            query: {
              status: wanted || undefined,
              createdBy: role === "agent" ? "me" : undefined,
              limit: 20,
              cursor: at ?? undefined,
            },
          },
        }),
      );
      return { items: page.bookings, next: page.pagination.nextCursor };
    });
  }

  // The first load, and again when the filter changes.
  useEffect(() => {
    void load(null, status);
    // `load` reads the filter it is given, so only the filter (and the role) re-run it.
  }, [role, status]);

  function replace(changed: Booking) {
    setBookings((before) => before?.map((one) => (one.id === changed.id ? changed : one)) ?? null);
  }

  return (
    <section>
      <h1>{role === "agent" ? "Bookings I made" : "My bookings"}</h1>
      <div className="toolbar">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as BookingStatus | "")}>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {value ? statusLabel(value) : "any"}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="secondary" onClick={() => void load(null)} disabled={busy}>
          Refresh
        </button>
        <a className="button" href="#/search">
          Book something
        </a>
      </div>
      <ErrorAlert error={error} />
      <div aria-busy={busy}>
        {busy && <Busy label="Loading bookings…" />}
        {bookings && bookings.length === 0 && <p>No bookings{status ? ` ${statusLabel(status)}` : ""} yet.</p>}
        {bookings && bookings.length > 0 && (
          <ul className="booking-list" aria-label="Bookings">
            {bookings.map((booking) => (
              <BookingItem key={booking.id} booking={booking} onChange={replace} />
            ))}
          </ul>
        )}
        {next && (
          <button type="button" className="secondary" onClick={() => void load(next)} disabled={busy}>
            More
          </button>
        )}
      </div>
    </section>
  );
}

function BookingItem({ booking, onChange }: { booking: Booking; onChange: (booking: Booking) => void }) {
  const [open, setOpen] = useState<"pay" | "cancel" | "reschedule" | null>(null);
  const unit = booking.checkIn ? "night" : booking.resourceType === "seat_pool" ? "fixed" : "minutes";
  const toggle = (what: "pay" | "cancel" | "reschedule") => setOpen(open === what ? null : what);
  return (
    <li className="card booking" data-reference={booking.reference}>
      <h2>
        {booking.resourceName} <span className={`badge ${booking.status}`}>{statusLabel(booking.status)}</span>
      </h2>
      <p>
        {booking.checkIn && booking.checkOut
          ? `${formatDay(booking.checkIn)} → ${formatDay(booking.checkOut)} (check-out)`
          : formatRange(booking.startTime, booking.endTime, booking.timezone)}{" "}
        <span className="hint">({booking.timezone})</span>
      </p>
      <p>
        Reference <strong>{booking.reference}</strong> · {formatMoney(booking.price.amount, booking.price.currency)}
        {booking.quantity > 1 ? ` · ${booking.quantity} units` : ""}
        {booking.guests ? ` · ${booking.guests} guests` : ""}
        {booking.payment ? ` · payment ${statusLabel(booking.payment.state ?? "paid")}` : ""}
      </p>
      <div className="actions">
        {awaitsPayment(booking) && (
          <button type="button" aria-expanded={open === "pay"} onClick={() => toggle("pay")}>
            Pay
          </button>
        )}
        {reschedulable(booking, unit) && (
          <button
            type="button"
            className="secondary"
            aria-expanded={open === "reschedule"}
            onClick={() => toggle("reschedule")}
          >
            Reschedule
          </button>
        )}
        {cancellable(booking) && (
          <button type="button" className="secondary" aria-expanded={open === "cancel"} onClick={() => toggle("cancel")}>
            Cancel…
          </button>
        )}
      </div>
      {open === "pay" && <PayPanel booking={booking} onChange={onChange} />}
      {open === "cancel" && (
        <CancelPanel booking={booking} onDone={(done) => (onChange(done), setOpen(null))} />
      )}
      {open === "reschedule" && (
        <ReschedulePanel booking={booking} nights={unit === "night"} onDone={(done) => (onChange(done), setOpen(null))} />
      )}
    </li>
  );
}

function CancelPanel({ booking, onDone }: { booking: Booking; onDone: (booking: Booking) => void }) {
  const [quote, setQuote] = useState<RefundQuote | null>(null);
  const [reason, setReason] = useState("");
  const [refundTo, setRefundTo] = useState<"card" | "wallet" | "">("");
  const [error, setError] = useState<unknown>(null);
  const [working, setWorking] = useState<string | null>("Asking what cancelling refunds…");

  // The refund quote first: the customer sees what comes back before confirming.
  useEffect(() => {
    let current = true;
    unwrap(
      api.GET("/api/v1/bookings/{bookingId}/cancellation-quote", { params: { path: { bookingId: booking.id } } }),
    )
      .then((found) => {
        if (!current) return;
        setQuote(found);
        setRefundTo(found.defaultRefundTo);
      })
      .catch((failure: unknown) => current && setError(failure))
      .finally(() => current && setWorking(null));
    return () => {
      current = false;
    };
  }, [booking.id]);

  async function confirm(event: FormEvent) {
    event.preventDefault();
    setWorking("Cancelling…");
    setError(null);
    try {
      const done = await unwrap(
        api.POST("/api/v1/bookings/{bookingId}/cancel", {
          params: { path: { bookingId: booking.id } },
          body: { scope: "this", reason: reason.trim(), refundTo: quote && quote.refundAmount > 0 && refundTo ? refundTo : undefined },
        }),
      );
      onDone(done.cancelled.find((one) => one.id === booking.id) ?? done.cancelled[0] ?? booking);
    } catch (failure) {
      setError(failure);
    } finally {
      setWorking(null);
    }
  }

  return (
    <form className="card form cancel" onSubmit={(e) => void confirm(e)} aria-label={`Cancel ${booking.reference}`}>
      <h3>Cancel this booking?</h3>
      {quote && (
        <div className="quote" role="status">
          {quote.amountPaid === 0 ? (
            <p>Nothing was paid, so nothing is refunded.</p>
          ) : (
            <p>
              Cancelling now refunds <strong>{formatMoney(quote.refundAmount, quote.currency)}</strong> of{" "}
              {formatMoney(quote.amountPaid, quote.currency)} paid ({quote.percent}%
              {quote.fee > 0 ? `, less a fee of ${formatMoney(quote.fee, quote.currency)}` : ""}
              {quote.alreadyRefunded > 0 ? `; ${formatMoney(quote.alreadyRefunded, quote.currency)} already refunded` : ""}
              ).
            </p>
          )}
          {quote.validUntil && (
            <p className="hint">This holds until {formatDateTime(quote.validUntil, booking.timezone)}.</p>
          )}
        </div>
      )}
      {quote && quote.refundAmount > 0 && quote.refundTo.length > 1 && (
        <fieldset>
          <legend>Refund to</legend>
          {quote.refundTo.map((where) => (
            <label key={where} className="inline">
              <input
                type="radio"
                name={`refund-${booking.id}`}
                value={where}
                checked={refundTo === where}
                onChange={() => setRefundTo(where)}
              />
              {where === "card" ? "the card" : "my wallet"}
            </label>
          ))}
        </fieldset>
      )}
      <label>
        Reason <span className="hint">(optional)</span>
        <input value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
      </label>
      <div className="actions">
        <button type="submit" className="danger" disabled={working !== null || !quote}>
          Confirm cancellation
        </button>
      </div>
      {working && <Busy label={working} />}
      <ErrorAlert error={error} />
    </form>
  );
}

function ReschedulePanel(props: { booking: Booking; nights: boolean; onDone: (booking: Booking) => void }) {
  const { booking } = props;
  const zone = booking.timezone;
  const lengthMs = new Date(booking.endTime).getTime() - new Date(booking.startTime).getTime();
  const stay = booking.checkIn && booking.checkOut ? daysBetween(booking.checkIn, booking.checkOut) : 1;
  const [date, setDate] = useState(booking.checkIn ?? localDate(booking.startTime, zone));
  const [time, setTime] = useState(() => formatTime(booking.startTime, zone));
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [working, setWorking] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setWorking(true);
    setError(null);
    try {
      const start = props.nights ? null : zonedIso(date, time, zone);
      const body = props.nights
        ? { checkIn: date, checkOut: addDays(date, stay), reason: reason.trim() }
        : {
            startTime: start as string,
            endTime: new Date(new Date(start as string).getTime() + lengthMs).toISOString(),
            reason: reason.trim(),
          };
      props.onDone(
        await unwrap(
          api.POST("/api/v1/bookings/{bookingId}/reschedule", {
            params: { path: { bookingId: booking.id } },
            body,
          }),
        ),
      );
    } catch (failure) {
      setError(failure);
    } finally {
      setWorking(false);
    }
  }

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label={`Reschedule ${booking.reference}`}>
      <h3>Move to</h3>
      <label>
        {props.nights ? `Check-in (${stay} night${stay > 1 ? "s" : ""})` : "Day"}
        <input type="date" value={date} onChange={(e) => setDate(e.target.value)} required />
      </label>
      {!props.nights && (
        <label>
          Start <span className="hint">({zone}; same length)</span>
          <input type="time" value={time} step={300} onChange={(e) => setTime(e.target.value)} required />
        </label>
      )}
      <label>
        Reason <span className="hint">(optional)</span>
        <input value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
      </label>
      <div className="actions">
        <button type="submit" disabled={working}>
          Move booking
        </button>
      </div>
      {working && <Busy label="Moving the booking…" />}
      <ErrorAlert error={error} />
    </form>
  );
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
