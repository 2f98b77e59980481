/** The actions a booking's status allows its viewer (confirm, reject, cancel, check in, no-show; an advisor's
 * session: start, complete), each one call; a reason is
 * asked for where the API takes one. The updated booking goes back to the caller. */
import { useState } from "react";

import { api, unwrap } from "../../api/client";
import type { Booking } from "../../api/types";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { useSession } from "../../session";
import { ACTION_LABELS, actionsFor, type BookingAction } from "./statuses";

async function perform(action: BookingAction, booking: Booking, reason: string, refundTo: "card" | "wallet" | "") {
  const path = { params: { path: { bookingId: booking.id } } };
  switch (action) {
    case "confirm":
      return unwrap(api.POST("/api/v1/bookings/{bookingId}/confirm", { ...path, body: { reason } }));
    case "reject":
      return unwrap(api.POST("/api/v1/bookings/{bookingId}/reject", { ...path, body: { reason } }));
    case "no-show":
      return unwrap(api.POST("/api/v1/bookings/{bookingId}/no-show", { ...path, body: { reason } }));
    case "check-in":
      return unwrap(api.POST("/api/v1/bookings/{bookingId}/check-in", path));
    case "start":
      return unwrap(api.POST("/api/v1/bookings/{bookingId}/start", path));
    case "complete":
      return unwrap(api.POST("/api/v1/bookings/{bookingId}/complete", path));
    case "cancel": {
      const body = { reason, scope: "this" as const, refundTo: refundTo || null };
      const cancelled = await unwrap(api.POST("/api/v1/bookings/{bookingId}/cancel", { ...path, body }));
      return cancelled.cancelled.find((b) => b.id === booking.id) ?? booking;
    }
  }
}

/** Actions without a reason to ask for: one click does them. */
const IMMEDIATE: ReadonlySet<BookingAction> = new Set(["check-in", "start", "complete"]);

export function BookingActions({
  booking,
  onChanged,
  compact = false,
}: {
  booking: Booking;
  onChanged(updated: Booking): void;
  compact?: boolean;
}) {
  const [pending, setPending] = useState<BookingAction | null>(null);
  const [reason, setReason] = useState("");
  const [refundTo, setRefundTo] = useState<"card" | "wallet" | "">("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const { role } = useSession();
  const actions = actionsFor(booking.status, { session: booking.resourceType === "advisor", role: role ?? undefined });
  if (actions.length === 0) return compact ? null : <p className="hint">No action applies to a {booking.status} booking.</p>;

  const run = async (action: BookingAction) => {
    setBusy(true);
    setError(null);
    try {
      const updated = await perform(action, booking, reason, refundTo);
      setPending(null);
      setReason("");
      onChanged(updated);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div aria-busy={busy}>
      <div className="actions" role="group" aria-label={`Actions for ${booking.reference}`}>
        {actions.map((action) => (
          <button
            key={action}
            type="button"
            className={action === "cancel" || action === "reject" ? "danger" : action === "no-show" ? "secondary" : ""}
            disabled={busy}
            aria-expanded={IMMEDIATE.has(action) ? undefined : pending === action}
            onClick={() => (IMMEDIATE.has(action) ? void run(action) : setPending(pending === action ? null : action))}
          >
            {ACTION_LABELS[action]}
            {compact && <span className="sr-only"> {booking.reference}</span>}
          </button>
        ))}
      </div>
      {pending && (
        <form
          className="form card"
          aria-label={`${ACTION_LABELS[pending]} ${booking.reference}`}
          onSubmit={(event) => {
            event.preventDefault();
            void run(pending);
          }}
        >
          <label>
            Reason <span className="hint">optional; the customer sees it</span>
            <input maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          {pending === "cancel" && booking.payment && (
            <label>
              Refund to
              <select value={refundTo} onChange={(e) => setRefundTo(e.target.value as "card" | "wallet" | "")}>
                <option value="">the policy's default</option>
                <option value="card">the card</option>
                <option value="wallet">the customer's wallet</option>
              </select>
            </label>
          )}
          <div className="actions">
            <button type="submit" disabled={busy}>
              {ACTION_LABELS[pending]} {booking.reference}
            </button>
            <button type="button" className="secondary" onClick={() => setPending(null)}>
              Keep as is
            </button>
          </div>
        </form>
      )}
      {busy && <Busy label="Working…" />}
      <ErrorAlert error={error} />
    </div>
  );
}
