/** Paying for a held booking: `POST /bookings/{id}/payment` starts the payment at the provider. Locally the provider
 * is the simulated one (`payment.provider === "simulated"`): two buttons make it succeed or fail, as a customer at
 * a card form would, and the booking is then watched until the webhook has confirmed it. Deployed with Stripe, a
 * Checkout URL is followed. */
import { useState } from "react";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { formatMoney } from "../../ui/money";
import { formatDateTime } from "../../ui/time";
import { simulatePayment, type Outcome } from "../local/localApi";
import { awaitsPayment, statusLabel, type Booking } from "./booking";

type Payment = components["schemas"]["Payment"];

/** How long to watch for the webhook's outcome: the local runtime's queue workers take a second or two. */
const WATCH_MS = 45_000;
const POLL_MS = 1_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

export function PayPanel({ booking, onChange }: { booking: Booking; onChange: (booking: Booking) => void }) {
  const [payment, setPayment] = useState<Payment | null>(null);
  const [checkoutUrl, setCheckoutUrl] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [working, setWorking] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);

  async function start() {
    setWorking("Starting the payment…");
    setError(null);
    setOutcome(null);
    try {
      const started = await unwrap(
        api.POST("/api/v1/bookings/{bookingId}/payment", {
          params: { path: { bookingId: booking.id } },
          body: { walletAmount: 0 },
        }),
      );
      setPayment(started.payment);
      setCheckoutUrl(started.checkoutUrl ?? null);
      onChange(started.booking);
    } catch (failure) {
      setError(failure);
    } finally {
      setWorking(null);
    }
  }

  /** The booking and payment until the payment has an outcome (or the watch runs out). */
  async function watch(paymentId: string): Promise<void> {
    const deadline = Date.now() + WATCH_MS;
    while (Date.now() < deadline) {
      await sleep(POLL_MS);
      const [latestBooking, latestPayment] = await Promise.all([
        unwrap(api.GET("/api/v1/bookings/{bookingId}", { params: { path: { bookingId: booking.id } } })),
        unwrap(api.GET("/api/v1/payments/{paymentId}", { params: { path: { paymentId } } })),
      ]);
      setPayment(latestPayment);
      if (latestPayment.status === "failed" || latestPayment.status === "canceled") {
        onChange(latestBooking);
        setOutcome(`The payment failed${latestPayment.failureReason ? `: ${latestPayment.failureReason}` : ""}.`);
        return;
      }
      if (!awaitsPayment(latestBooking) || latestBooking.status === "confirmed") {
        onChange(latestBooking);
        setOutcome(`Paid. The booking is ${statusLabel(latestBooking.status)}.`);
        return;
      }
    }
    setOutcome("The provider has not answered yet; look again in a moment (My bookings).");
  }

  async function simulate(result: Outcome) {
    if (!payment) return;
    setWorking(result === "succeed" ? "Paying…" : "Declining the card…");
    setError(null);
    setOutcome(null);
    try {
      await simulatePayment(payment.id, result);
      setWorking("Waiting for the payment provider's answer…");
      await watch(payment.id);
    } catch (failure) {
      setError(failure);
    } finally {
      setWorking(null);
    }
  }

  const amount = formatMoney(booking.price.amount, booking.price.currency);
  const open = payment && ["requires_payment", "processing"].includes(payment.status);
  return (
    <div className="card pay" aria-busy={working !== null}>
      <h3>Payment</h3>
      {!open && awaitsPayment(booking) && (
        <>
          {booking.expiresAt && (
            <p className="hint">Held until {formatDateTime(booking.expiresAt, booking.timezone)} while you pay.</p>
          )}
          <button type="button" onClick={() => void start()} disabled={working !== null}>
            Pay {amount}
          </button>
        </>
      )}
      {open && payment.provider === "simulated" && (
        <>
          <p>
            {formatMoney(payment.cardAmount, payment.currency)} by card with the <strong>simulated provider</strong>{" "}
            (local runtime): choose what the card does.
          </p>
          <div className="actions">
            <button type="button" onClick={() => void simulate("succeed")} disabled={working !== null}>
              Payment succeeds
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => void simulate("fail")}
              disabled={working !== null}
            >
              Payment fails
            </button>
          </div>
        </>
      )}
      {open && payment.provider !== "simulated" && checkoutUrl && (
        <a className="button" href={checkoutUrl}>
          Continue to checkout
        </a>
      )}
      {open && payment.provider !== "simulated" && !checkoutUrl && (
        <p>The payment was started ({payment.status}); complete it with the card form of your booking site.</p>
      )}
      {working && <Busy label={working} />}
      {outcome && (
        <p className={payment?.status === "failed" ? "alert" : "notice"} role="status">
          {outcome}
        </p>
      )}
      <ErrorAlert error={error} />
    </div>
  );
}
