/** What a booking's status means on the vendor's screens: which claims are holds, which are firm, and which
 * actions its status allows (the booking engine's transitions, slotwise.booking.models.TRANSITIONS). */
import type { BookingStatus } from "../../api/types";

/** Inventory claimed but not firm: lapses unless confirmed, or waits for a payment or a decision. */
export const HOLDS: ReadonlySet<BookingStatus> = new Set(["held", "awaiting_approval", "payment_pending"]);
/** Inventory firmly taken. */
export const FIRM: ReadonlySet<BookingStatus> = new Set(["confirmed", "in_progress", "completed"]);

export type BookingAction = "confirm" | "reject" | "cancel" | "check-in" | "no-show";

const ALLOWED: Record<BookingAction, readonly BookingStatus[]> = {
  // Confirming is the decision on a request (approval) or an operator taking the payment of a hold.
  confirm: ["held", "awaiting_approval"],
  reject: ["awaiting_approval"],
  cancel: ["held", "awaiting_approval", "confirmed"],
  "check-in": ["confirmed"],
  // The timers job completes a booking at its end; the vendor may still say the customer never came.
  "no-show": ["confirmed", "completed"],
};

export const ACTION_LABELS: Record<BookingAction, string> = {
  confirm: "Confirm",
  reject: "Reject",
  cancel: "Cancel",
  "check-in": "Check in",
  "no-show": "No-show",
};

export function actionsFor(status: BookingStatus): BookingAction[] {
  return (Object.keys(ALLOWED) as BookingAction[]).filter((action) => ALLOWED[action].includes(status));
}

export function statusLabel(status: string): string {
  return status.replace(/_/g, " ");
}
