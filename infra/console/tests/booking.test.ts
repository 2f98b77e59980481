/** Which actions the customer/agent screens offer for a booking (src/screens/customer/booking.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  awaitsPayment,
  bookHref,
  cancellable,
  reschedulable,
  type Booking,
  type BookingStatus,
} from "../src/screens/customer/booking.js";

function booking(status: BookingStatus, extra: Partial<Booking> = {}): Booking {
  return {
    id: "b-1",
    status,
    price: { amount: 6500, currency: "EUR" },
    payment: null,
    ...extra,
  } as Booking;
}

test("a held or due booking with a price awaits its payment until it is paid or authorized", () => {
  assert.equal(awaitsPayment(booking("held")), true);
  assert.equal(awaitsPayment(booking("payment_pending")), true);
  assert.equal(awaitsPayment(booking("held", { price: { amount: 0, currency: "EUR" } })), false);
  const paid = { paymentId: "p", amountPaid: 6500, currency: "EUR", state: "paid" } as Booking["payment"];
  assert.equal(awaitsPayment(booking("held", { payment: paid })), false);
  const authorized = { paymentId: "p", amountPaid: 0, currency: "EUR", state: "authorized" } as Booking["payment"];
  assert.equal(awaitsPayment(booking("payment_pending", { payment: authorized })), false);
  for (const status of ["confirmed", "awaiting_approval", "cancelled", "expired"] as const) {
    assert.equal(awaitsPayment(booking(status)), false, status);
  }
});

test("only a booking that is not over may be cancelled or moved; a departure never moves", () => {
  for (const status of ["held", "awaiting_approval", "payment_pending", "confirmed"] as const) {
    assert.equal(cancellable(booking(status)), true, status);
  }
  for (const status of ["cancelled", "rejected", "expired", "completed", "no_show", "in_progress"] as const) {
    assert.equal(cancellable(booking(status)), false, status);
    assert.equal(reschedulable(booking(status), "minutes"), false, status);
  }
  assert.equal(reschedulable(booking("confirmed"), "night"), true);
  assert.equal(reschedulable(booking("confirmed"), "fixed"), false);
  assert.equal(reschedulable(booking("awaiting_approval"), "minutes"), false);
});

test("the booking form's address carries the search's answers", () => {
  assert.equal(bookHref("r 1"), "#/book/r%201");
  assert.equal(bookHref("r-1", new URLSearchParams({ guests: "2" })), "#/book/r-1?guests=2");
  assert.equal(bookHref("r-1", new URLSearchParams()), "#/book/r-1");
});
