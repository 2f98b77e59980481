/** The vendor's payments, newest first (`GET /payments`): status and amounts, what went back, and a link to each
 * booking, whose page lists the refunds. Filter by status; "Load more" by cursor. */
import { useEffect, useState } from "react";

import { api, unwrap } from "../../api/client";
import type { Payment } from "../../api/types";
import type { RouteParams } from "../../routes";
import { navigate } from "../../router";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { formatMoney } from "../../ui/money";
import { formatDateTime } from "../../ui/time";
import { statusLabel } from "./statuses";

type PaymentStatus = Payment["status"];
const STATUSES: PaymentStatus[] = [
  "requires_payment",
  "processing",
  "authorized",
  "capturing",
  "succeeded",
  "failed",
  "canceled",
  "refunded_unconfirmed",
];

export function Payments({ query }: RouteParams) {
  const status = (query.get("status") ?? "") as PaymentStatus | "";
  const [rows, setRows] = useState<Payment[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const load = async (after: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const page = await unwrap(
        api.GET("/api/v1/payments", {
          params: { query: { status: status || undefined, cursor: after ?? undefined, limit: 50 } },
        }),
      );
      setRows((before) => (after ? [...before, ...page.payments] : page.payments));
      setCursor(page.pagination.nextCursor ?? null);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void load(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the status filter is what the list depends on
  }, [status]);

  return (
    <section>
      <h1>Payments</h1>
      <div className="toolbar">
        <label>
          Status
          <select
            value={status}
            onChange={(e) => navigate(`/payments${e.target.value ? `?status=${e.target.value}` : ""}`)}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorAlert error={error} />
      {rows.length === 0 && !loading && !error && <p>No payments match.</p>}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Booking</th>
                <th scope="col">Amount</th>
                <th scope="col">Refunded</th>
                <th scope="col">Status</th>
                <th scope="col">Provider</th>
                <th scope="col">Created (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((payment) => (
                <tr key={payment.id} data-payment-id={payment.id}>
                  <td>
                    <a href={`#/bookings/${encodeURIComponent(payment.bookingId)}`}>{payment.bookingReference}</a>
                  </td>
                  <td>
                    {formatMoney(payment.amount, payment.currency)}
                    {payment.walletAmount > 0 && (
                      <span className="hint"> ({formatMoney(payment.walletAmount, payment.currency)} wallet)</span>
                    )}
                  </td>
                  <td>{formatMoney(payment.amountRefunded ?? 0, payment.currency)}</td>
                  <td>
                    <span className="badge">{statusLabel(payment.status)}</span>
                    {payment.failureReason ? <span className="hint"> {payment.failureReason}</span> : null}
                  </td>
                  <td>{payment.provider}</td>
                  <td>{formatDateTime(payment.createdAt, "UTC")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {loading && <Busy label="Loading payments…" />}
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
