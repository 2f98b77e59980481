/** One booking for its vendor, staff or advisor: what was booked, its actions, its payment and refunds (not for the
 * advisor), its messages and its history.
 * Times are in the booking's (its resource's) timezone. */
import { useState } from "react";

import { api, unwrap } from "../../api/client";
import type { Booking, Payment, Schemas } from "../../api/types";
import type { RouteParams } from "../../routes";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { formatMoney } from "../../ui/money";
import { formatDateTime, formatRange } from "../../ui/time";
import { useLoad } from "../../ui/useLoad";
import { useSession } from "../../session";
import { BookingActions } from "./BookingActions";
import { Messages } from "./Messages";
import { statusLabel } from "./statuses";

type PaymentDetail = Payment & { refunds?: Schemas["Refund"][] };

function PaymentSection({ booking }: { booking: Booking }) {
  const summary = booking.payment ?? null;
  const payment = useLoad(async () => {
    if (!summary) return null;
    const detail = await unwrap(
      api.GET("/api/v1/payments/{paymentId}", { params: { path: { paymentId: summary.paymentId } } }),
    );
    return detail as PaymentDetail;
  }, [summary?.paymentId, booking.version]);
  const zone = booking.timezone;

  return (
    <section className="card" aria-labelledby="payment-heading">
      <h2 id="payment-heading">Payment and refunds</h2>
      {!summary && <p>No payment has been taken for this booking.</p>}
      {summary && (
        <dl className="facts">
          <dt>State</dt>
          <dd>
            <span className="badge">{statusLabel(summary.state ?? "paid")}</span>
          </dd>
          <dt>Paid</dt>
          <dd>
            {formatMoney(summary.amountPaid, summary.currency)}
            {summary.walletAmount ? ` (${formatMoney(summary.walletAmount, summary.currency)} from the wallet)` : ""}
          </dd>
          <dt>Refunded</dt>
          <dd>{formatMoney((summary.amountRefunded ?? 0) + (summary.walletRefunded ?? 0), summary.currency)}</dd>
        </dl>
      )}
      {payment.loading && <Busy label="Loading the payment…" />}
      <ErrorAlert error={payment.error} />
      {payment.data && (
        <>
          <p className="hint">
            Payment {payment.data.id} via {payment.data.provider}: {statusLabel(payment.data.status)}, attempt{" "}
            {payment.data.attempt}, {formatDateTime(payment.data.createdAt, zone)}
            {payment.data.failureReason ? ` — ${payment.data.failureReason}` : ""}
          </p>
          {(payment.data.refunds ?? []).length > 0 && (
            <div className="table-wrap">
              <table>
                <caption className="sr-only">Refunds</caption>
                <thead>
                  <tr>
                    <th scope="col">Refund</th>
                    <th scope="col">Amount</th>
                    <th scope="col">To</th>
                    <th scope="col">Status</th>
                    <th scope="col">When</th>
                  </tr>
                </thead>
                <tbody>
                  {(payment.data.refunds ?? []).map((refund) => (
                    <tr key={refund.id}>
                      <td>{refund.reason || refund.id}</td>
                      <td>{formatMoney(refund.amount, refund.currency)}</td>
                      <td>{refund.destination}</td>
                      <td>
                        <span className="badge">{refund.status}</span>
                      </td>
                      <td>{formatDateTime(refund.createdAt, zone)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      <p className="hint">
        A refund follows a cancellation: a vendor's cancellation refunds everything paid (choose card or wallet when
        cancelling).
      </p>
    </section>
  );
}

export function BookingDetail({ params }: RouteParams) {
  const bookingId = params.bookingId ?? "";
  const loaded = useLoad(
    () => unwrap(api.GET("/api/v1/bookings/{bookingId}", { params: { path: { bookingId } } })),
    [bookingId],
  );
  const [updated, setUpdated] = useState<Booking | null>(null);
  const booking = updated && updated.id === bookingId ? updated : loaded.data;
  const zone = booking?.timezone ?? "UTC";
  const { role } = useSession();
  // An advisor reads the session, not the vendor's payments; the thread is the session's (and any booking's).
  const advisor = role === "advisor";

  return (
    <section>
      <h1>Booking {booking?.reference ?? ""}</h1>
      <p>
        <a href="#/bookings">All bookings</a>
        {booking && !advisor && (
          <>
            {" · "}
            <a href={`#/calendar?resourceId=${encodeURIComponent(booking.resourceId)}`}>Its calendar</a>
          </>
        )}
      </p>
      {loaded.loading && !booking && <Busy />}
      <ErrorAlert error={loaded.error} />
      {booking && (
        <>
          <dl className="facts card">
            <dt>Status</dt>
            <dd>
              <span className={`badge ${booking.status}`}>{statusLabel(booking.status)}</span>
              {booking.expiresAt ? ` until ${formatDateTime(booking.expiresAt, zone)}` : ""}
            </dd>
            <dt>Resource</dt>
            <dd>{booking.resourceName}</dd>
            <dt>When</dt>
            <dd>
              {formatRange(booking.startTime, booking.endTime, zone)} <span className="hint">({zone})</span>
            </dd>
            <dt>Quantity</dt>
            <dd>
              {booking.quantity}
              {booking.guests ? `, ${booking.guests} guests` : ""}
            </dd>
            <dt>Price</dt>
            <dd>{formatMoney(booking.price.amount, booking.price.currency)}</dd>
            <dt>Customer</dt>
            <dd>{booking.customerId}</dd>
            {booking.title && (
              <>
                <dt>Title</dt>
                <dd>{booking.title}</dd>
              </>
            )}
            {(booking.addons ?? []).length > 0 && (
              <>
                <dt>Add-ons</dt>
                <dd>{(booking.addons ?? []).map((addon) => `${addon.name} ×${addon.quantity}`).join(", ")}</dd>
              </>
            )}
            {booking.cancellation && (
              <>
                <dt>Cancelled</dt>
                <dd>
                  {formatDateTime(booking.cancellation.at, zone)}
                  {booking.cancellation.reason ? `: ${booking.cancellation.reason}` : ""}
                </dd>
              </>
            )}
          </dl>
          <h2>Actions</h2>
          <BookingActions booking={booking} onChanged={setUpdated} />
          {!advisor && <PaymentSection booking={booking} />}
          <Messages booking={booking} />
          {(booking.history ?? []).length > 0 && (
            <section className="card" aria-labelledby="history-heading">
              <h2 id="history-heading">History</h2>
              <ol>
                {(booking.history ?? []).map((entry, index) => (
                  <li key={index}>
                    {formatDateTime(entry.at, zone)} — {statusLabel(entry.action)}
                    {entry.by ? ` by ${entry.by}` : ""}
                    {entry.note ? `: ${entry.note}` : ""}
                  </li>
                ))}
              </ol>
            </section>
          )}
        </>
      )}
    </section>
  );
}
