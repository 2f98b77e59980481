/** What a booking's status means on the vendor's screens: which claims are holds, which are firm, and which
 * actions its status allows (the booking engine's transitions, slotwise.booking.models.TRANSITIONS). */
import type { BookingStatus } from "../../api/types.js";

/** Inventory claimed but not firm: lapses unless confirmed, or waits for a payment or a decision. */
export const HOLDS: ReadonlySet<BookingStatus> = new Set(["held", "awaiting_approval", "payment_pending"]);
/** Inventory firmly taken. */
export const FIRM: ReadonlySet<BookingStatus> = new Set(["confirmed", "in_progress", "completed"]);

export type BookingAction = "confirm" | "reject" | "cancel" | "check-in" | "no-show" | "start" | "complete";

const ALLOWED: Record<BookingAction, readonly BookingStatus[]> = {
  // Confirming is the decision on a request (approval) or an operator taking the payment of a hold.
  confirm: ["held", "awaiting_approval"],
  reject: ["awaiting_approval"],
  cancel: ["held", "awaiting_approval", "confirmed"],
  "check-in": ["confirmed"],
  // The timers job completes a booking at its end; the vendor may still say the customer never came.
  "no-show": ["confirmed", "completed"],
  // An advisor's session: started from 15 minutes before (the API says when it is too early), then completed.
  start: ["confirmed"],
  complete: ["in_progress"],
};

/** What each role may do (the permission table): an advisor decides requests and runs sessions, nothing more. */
const BY_ROLE: Partial<Record<string, readonly BookingAction[]>> = {
  advisor: ["confirm", "reject", "cancel", "start", "complete"],
};
const SESSION_ONLY: ReadonlySet<BookingAction> = new Set(["start", "complete"]);
const NOT_FOR_SESSIONS: ReadonlySet<BookingAction> = new Set(["check-in"]);

export const ACTION_LABELS: Record<BookingAction, string> = {
  confirm: "Confirm",
  reject: "Reject",
  cancel: "Cancel",
  "check-in": "Check in",
  "no-show": "No-show",
  start: "Start session",
  complete: "Complete session",
};

/** The actions a booking allows its viewer: by its status, whether it is an advisor's session (start and complete
 * instead of check-in), and the viewer's role. */
export function actionsFor(status: BookingStatus, options: { session?: boolean; role?: string } = {}): BookingAction[] {
  const mayDo = options.role ? BY_ROLE[options.role] : undefined;
  return (Object.keys(ALLOWED) as BookingAction[]).filter(
    (action) =>
      ALLOWED[action].includes(status) &&
      (options.session ? !NOT_FOR_SESSIONS.has(action) : !SESSION_ONLY.has(action)) &&
      (!mayDo || mayDo.includes(action)),
  );
}

export function statusLabel(status: string): string {
  return status.replace(/_/g, " ");
}
