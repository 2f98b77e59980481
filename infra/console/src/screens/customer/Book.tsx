/** One resource: its availability grid (`GET /resources/{id}/slots`: free nights over two weeks, free start times
 * of a day, or a departure's seats), a price quote with the cancellation terms (`POST /quotes`), booking
 * (`POST /bookings`, for a customer when an agent books) and paying. Times are the resource's timezone's. */
import { useEffect, useMemo, useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useSession } from "../../session";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { formatMoney } from "../../ui/money";
import { addDays, formatDateTime, formatDay, formatRange, formatTime, localDate, today, zonedIso } from "../../ui/time";
import { useLoad } from "../../ui/useLoad";
import { awaitsPayment, idempotencyKey, statusLabel, unitLabel, type Booking } from "./booking";
import { PayPanel } from "./Pay";
import "../../ui/screens.css";

type Resource = components["schemas"]["Resource"];
type Slot = components["schemas"]["FreeSlots"]["slots"][number];
type Quote = components["schemas"]["Quote"];

const NIGHTS_SHOWN = 14;

const CONFIRMATION: Record<Quote["confirmation"], string> = {
  auto: "confirmed at once",
  approval: "confirmed when the vendor approves",
  payment: "confirmed once paid",
  approval_then_payment: "the vendor approves, then you pay",
  authorize_then_capture: "the card is authorized now and charged at the end",
};

/** What is being booked: a start and end instant, or check-in and check-out dates. */
type Choice = { kind: "times"; start: string; end: string } | { kind: "nights"; checkIn: string; checkOut: string };

export function Book({ resourceId, query }: { resourceId: string; query: URLSearchParams }) {
  const resource = useLoad(
    () => unwrap(api.GET("/api/v1/resources/{resourceId}", { params: { path: { resourceId } } })),
    [resourceId],
  );
  return (
    <section>
      <p>
        <a href="#/search">← Search</a>
      </p>
      <ErrorAlert error={resource.error} />
      {resource.loading && !resource.data && <Busy />}
      {resource.data && <BookResource resource={resource.data} query={query} />}
    </section>
  );
}

function BookResource({ resource, query }: { resource: Resource; query: URLSearchParams }) {
  const { role } = useSession();
  const zone = resource.timezone;
  const unit = resource.policy.unit ?? "minutes";
  const granule = resource.policy.granuleMinutes ?? 30;
  const [day, setDay] = useState(query.get("from") ?? addDays(today(zone), 1));
  const [quantity, setQuantity] = useState(query.get("quantity") ?? "1");
  const [guests, setGuests] = useState(query.get("guests") ?? (resource.minGuests ? String(resource.minGuests) : ""));
  const [customerId, setCustomerId] = useState("");
  const [title, setTitle] = useState("");
  const [choice, setChoice] = useState<Choice | null>(null);
  const [units, setUnits] = useState(resource.policy.minUnits ?? 1);
  const [quote, setQuote] = useState<Quote | null>(null);
  const [booking, setBooking] = useState<Booking | null>(null);
  const [paying, setPaying] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [working, setWorking] = useState<string | null>(null);

  const wanted = Math.max(1, Number(quantity) || 1);
  const grid = useLoad(() => {
    const from = unit === "fixed" ? resource.policy.fixedStart ?? new Date().toISOString() : zonedIso(day, "00:00", zone);
    const span = unit === "night" ? NIGHTS_SHOWN : 1;
    const to =
      unit === "fixed"
        ? new Date(new Date(from).getTime() + 60_000).toISOString()
        : zonedIso(addDays(day, span), "00:00", zone);
    return unwrap(
      api.GET("/api/v1/resources/{resourceId}/slots", {
        params: { path: { resourceId: resource.id }, query: { from, to, quantity: wanted } },
      }),
    );
  }, [resource.id, day, wanted, unit]);

  // A new day or quantity is a new question: forget the choice and its quote.
  useEffect(() => {
    setChoice(null);
    setQuote(null);
  }, [day, wanted]);

  const times = useMemo((): Choice | null => {
    if (!choice) return null;
    if (choice.kind === "times" && unit === "minutes") {
      const end = new Date(new Date(choice.start).getTime() + units * granule * 60_000).toISOString();
      return { kind: "times", start: choice.start, end };
    }
    return choice;
  }, [choice, unit, units, granule]);

  function when(): Record<string, string> {
    if (!times) return {};
    return times.kind === "nights"
      ? { checkIn: times.checkIn, checkOut: times.checkOut }
      : { startTime: times.start, endTime: times.end };
  }

  async function askQuote() {
    setWorking("Pricing…");
    setError(null);
    try {
      setQuote(
        await unwrap(
          api.POST("/api/v1/quotes", {
            body: {
              resourceId: resource.id,
              quantity: wanted,
              guests: guests ? Number(guests) : undefined,
              ...when(),
            },
          }),
        ),
      );
    } catch (failure) {
      setError(failure);
    } finally {
      setWorking(null);
    }
  }

  async function book(event: FormEvent) {
    event.preventDefault();
    setWorking("Booking…");
    setError(null);
    try {
      const made = await unwrap(
        api.POST("/api/v1/bookings", {
          headers: { "Idempotency-Key": idempotencyKey() },
          body: {
            resourceId: resource.id,
            quantity: wanted,
            guests: guests ? Number(guests) : undefined,
            customerId: customerId.trim() || undefined,
            title: title.trim(),
            description: "",
            ...when(),
          },
        }),
      );
      setBooking(made);
      // The payment panel stays once shown, so it can report the payment's outcome after the booking moves on.
      setPaying(awaitsPayment(made));
    } catch (failure) {
      setError(failure);
    } finally {
      setWorking(null);
    }
  }

  function pickNight(night: string) {
    setQuote(null);
    if (choice?.kind === "nights" && night >= choice.checkIn && choice.checkOut === addDays(choice.checkIn, 1)) {
      // A second click on a later night stretches the stay to it.
      if (night > choice.checkIn) return setChoice({ ...choice, checkOut: addDays(night, 1) });
    }
    setChoice({ kind: "nights", checkIn: night, checkOut: addDays(night, resource.policy.minUnits ?? 1) });
  }

  const slots: Slot[] = grid.data?.slots ?? [];
  const unitsChoices = Array.from(
    { length: Math.max(1, Math.min(24, (resource.policy.maxUnits ?? 8) - (resource.policy.minUnits ?? 1) + 1)) },
    (_, index) => (resource.policy.minUnits ?? 1) + index,
  );

  if (booking) {
    return (
      <article>
        <h1>Booked: {booking.resourceName}</h1>
        <p role="status" className={["cancelled", "expired", "rejected"].includes(booking.status) ? "alert" : "notice"}>
          Reference <strong>{booking.reference}</strong> · {statusLabel(booking.status)} ·{" "}
          {formatRange(booking.startTime, booking.endTime, booking.timezone)} ·{" "}
          {formatMoney(booking.price.amount, booking.price.currency)}
        </p>
        {paying && <PayPanel booking={booking} onChange={setBooking} />}
        {booking.status === "awaiting_approval" && <p>The vendor approves it first; you will be told.</p>}
        <p>
          <a href="#/my-bookings">My bookings</a>
        </p>
      </article>
    );
  }

  return (
    <article>
      <h1>{resource.name}</h1>
      <p className="hint">
        {resource.type.replace("_", " ")} · {resource.city}
        {resource.location ? ` · ${resource.location}` : ""} · times in {zone} ·{" "}
        {formatMoney(resource.pricing.unitPrice, resource.pricing.currency)} {unitLabel(unit, granule)}
      </p>
      {resource.description && <p>{resource.description}</p>}

      <div className="toolbar">
        {unit !== "fixed" && (
          <label>
            {unit === "night" ? "Nights from" : "Day"}
            <input type="date" value={day} min={today(zone)} onChange={(e) => e.target.value && setDay(e.target.value)} />
          </label>
        )}
        {resource.capacity > 1 && (
          <label>
            {unit === "fixed" ? "Seats" : "Quantity"}
            <input
              type="number"
              min={1}
              max={resource.capacity}
              value={quantity}
              onChange={(e) => setQuantity(e.target.value)}
            />
          </label>
        )}
      </div>

      <h2 id="grid-heading">Availability</h2>
      <ErrorAlert error={grid.error} />
      <div aria-busy={grid.loading} aria-labelledby="grid-heading">
        {grid.loading && <Busy label="Reading availability…" />}
        {!grid.loading && unit === "night" && (
          <NightGrid
            start={day}
            slots={slots}
            zone={zone}
            choice={choice?.kind === "nights" ? choice : null}
            onPick={pickNight}
          />
        )}
        {!grid.loading && unit === "minutes" && (
          <TimeGrid
            slots={slots}
            zone={zone}
            day={day}
            chosen={choice?.kind === "times" ? choice.start : null}
            onPick={(slot) => {
              setQuote(null);
              setChoice({ kind: "times", start: slot.startTime, end: slot.endTime });
            }}
          />
        )}
        {!grid.loading && unit === "fixed" && (
          <FixedWindow
            resource={resource}
            slot={slots[0] ?? null}
            chosen={choice !== null}
            onPick={(slot) => setChoice({ kind: "times", start: slot.startTime, end: slot.endTime })}
          />
        )}
      </div>

      {times && (
        <form className="form" onSubmit={(e) => void book(e)} aria-label="Book">
          <h2>Your booking</h2>
          <p>
            {times.kind === "nights"
              ? `${formatDay(times.checkIn)} → ${formatDay(times.checkOut)} (check-out)`
              : formatRange(times.start, times.end, zone)}
          </p>
          {unit === "minutes" && (
            <label>
              Length
              <select value={units} onChange={(e) => (setUnits(Number(e.target.value)), setQuote(null))}>
                {unitsChoices.map((count) => (
                  <option key={count} value={count}>
                    {count * granule} minutes
                  </option>
                ))}
              </select>
            </label>
          )}
          {(resource.maxGuests || resource.minGuests || resource.type === "hall") && (
            <label>
              Guests
              <input
                type="number"
                min={resource.minGuests ?? 1}
                max={resource.maxGuests ?? 100000}
                value={guests}
                onChange={(e) => (setGuests(e.target.value), setQuote(null))}
                required={Boolean(resource.minGuests)}
              />
            </label>
          )}
          <label>
            Title <span className="hint">(optional)</span>
            <input value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} />
          </label>
          {role !== "customer" && (
            <label>
              Customer's user id{" "}
              <span className="hint">{role === "agent" ? "(the customer you book for)" : "(optional)"}</span>
              <input
                value={customerId}
                onChange={(e) => setCustomerId(e.target.value)}
                maxLength={128}
                pattern="[A-Za-z0-9._:@|+\-]+"
                required={role === "agent"}
              />
            </label>
          )}
          <div className="actions">
            <button type="button" className="secondary" onClick={() => void askQuote()} disabled={working !== null}>
              Price and terms
            </button>
            <button type="submit" disabled={working !== null || (quote !== null && !quote.available)}>
              Book
            </button>
          </div>
          {working && <Busy label={working} />}
          <ErrorAlert error={error} />
          {quote && <QuoteView quote={quote} />}
        </form>
      )}
    </article>
  );
}

function NightGrid(props: {
  start: string;
  slots: Slot[];
  zone: string;
  choice: { checkIn: string; checkOut: string } | null;
  onPick: (night: string) => void;
}) {
  const free = new Map(props.slots.map((slot) => [localDate(slot.startTime, props.zone), slot.remaining]));
  const nights = Array.from({ length: NIGHTS_SHOWN }, (_, index) => addDays(props.start, index));
  return (
    <>
      <p className="hint">Choose the first night, then the last one.</p>
      <ul className="slot-grid nights" aria-label="Nights">
        {nights.map((night) => {
          const remaining = free.get(night);
          const chosen = props.choice && night >= props.choice.checkIn && night < props.choice.checkOut;
          return (
            <li key={night}>
              <button
                type="button"
                className={`slot${chosen ? " chosen" : ""}`}
                disabled={remaining === undefined}
                aria-pressed={Boolean(chosen)}
                onClick={() => props.onPick(night)}
              >
                <span>{formatDay(night)}</span>
                <span className="hint">{remaining === undefined ? "full" : `${remaining} free`}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </>
  );
}

function TimeGrid(props: {
  slots: Slot[];
  zone: string;
  day: string;
  chosen: string | null;
  onPick: (slot: Slot) => void;
}) {
  const mine = props.slots.filter((slot) => localDate(slot.startTime, props.zone) === props.day);
  if (mine.length === 0) return <p>No free times on {formatDay(props.day)}. Try another day.</p>;
  return (
    <ul className="slot-grid" aria-label={`Free start times on ${formatDay(props.day)}`}>
      {mine.map((slot) => (
        <li key={slot.startTime}>
          <button
            type="button"
            className={`slot${props.chosen === slot.startTime ? " chosen" : ""}`}
            aria-pressed={props.chosen === slot.startTime}
            onClick={() => props.onPick(slot)}
          >
            {formatTime(slot.startTime, props.zone)}
            {slot.remaining > 1 && <span className="hint"> · {slot.remaining} left</span>}
          </button>
        </li>
      ))}
    </ul>
  );
}

function FixedWindow(props: {
  resource: Resource;
  slot: Slot | null;
  chosen: boolean;
  onPick: (slot: Slot) => void;
}) {
  const { resource, slot } = props;
  const start = resource.policy.fixedStart;
  const end = resource.policy.fixedEnd;
  return (
    <div className="card">
      {start && end ? (
        <p>
          {resource.route ? `${resource.route.origin} → ${resource.route.destination} · ` : ""}
          departs {formatDateTime(start, resource.timezone)}
          {resource.route?.destinationTimezone
            ? `, arrives ${formatDateTime(end, resource.route.destinationTimezone)}`
            : `, until ${formatDateTime(end, resource.timezone)}`}
        </p>
      ) : null}
      {slot ? (
        <button
          type="button"
          className={`slot${props.chosen ? " chosen" : ""}`}
          aria-pressed={props.chosen}
          onClick={() => props.onPick(slot)}
        >
          {slot.remaining} seats left: choose
        </button>
      ) : (
        <p>Not bookable now: full, departed, or not enough seats for that many.</p>
      )}
    </div>
  );
}

function QuoteView({ quote }: { quote: Quote }) {
  const terms = quote.cancellation;
  return (
    <div className="card quote" aria-live="polite">
      <p>
        <strong>{formatMoney(quote.total, quote.currency)}</strong> in total
        {" · "}
        {CONFIRMATION[quote.confirmation]}
      </p>
      {!quote.available && (
        <div className="alert" role="alert">
          Not bookable as asked: {(quote.reasons ?? []).map((reason) => reason.detail).join(" ") || "unavailable."}
        </div>
      )}
      {terms.deadlines.length > 0 && (
        <>
          <p>If you cancel:</p>
          <ul>
            {terms.deadlines.map((deadline) => (
              <li key={deadline.deadline} className={Date.parse(deadline.deadline) < Date.now() ? "hint" : undefined}>
                until {formatDateTime(deadline.deadline, quote.timezone)}: {deadline.refundPercent}% back
                {Date.parse(deadline.deadline) < Date.now() ? " (passed)" : ""}
              </li>
            ))}
            <li>after that: {terms.refundPercentAfter ?? 0}% back</li>
          </ul>
          {terms.fee > 0 && <p className="hint">A fee of {formatMoney(terms.fee, quote.currency)} is kept.</p>}
        </>
      )}
    </div>
  );
}
