/** A resource's (or a whole venue's) calendar: a day or a week, in the resource's timezone. Time-slot resources
 * show one row per hour with the share of capacity taken; nightly resources one cell per night with rooms sold. A
 * venue's view has a row per resource and a cell per day. Holds (waiting for a payment or a decision, and lapsing
 * if neither comes) are striped and labelled, confirmed bookings solid. The screen re-reads the bookings every few
 * seconds, so a booking made elsewhere appears without a reload. */
import { useEffect, useMemo } from "react";

import type { Booking, Resource } from "../../api/types";
import type { RouteParams } from "../../routes";
import { navigate } from "../../router";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { addDays, formatDay, formatTime, localDate, startOfWeek, today, zonedIso } from "../../ui/time";
import { useLoad } from "../../ui/useLoad";
import { allBookings } from "./bookingsQuery";
import { myCatalog } from "./catalog";
import { peakTaken } from "./occupancy";
import { FIRM, HOLDS, statusLabel } from "./statuses";

const REFRESH_MS = 4_000;
// A stay that began before the visible range still occupies its nights: read back this far for nightly resources.
const LONGEST_STAY_DAYS = 31;

type View = "day" | "week";

function hour(h: number): string {
  return `${String(h).padStart(2, "0")}:00`;
}

function claims(bookings: Booking[]): Booking[] {
  return bookings.filter((booking) => HOLDS.has(booking.status) || FIRM.has(booking.status));
}

function Entry({ booking, timeZone }: { booking: Booking; timeZone: string }) {
  const hold = HOLDS.has(booking.status);
  return (
    <a
      className={`entry ${hold ? "hold" : "confirmed"}`}
      href={`#/bookings/${encodeURIComponent(booking.id)}`}
      data-booking-id={booking.id}
      title={`${booking.reference}: ${statusLabel(booking.status)}`}
    >
      {formatTime(booking.startTime, timeZone)} {booking.reference}
      {booking.quantity > 1 ? ` ×${booking.quantity}` : ""} · {hold ? `hold (${statusLabel(booking.status)})` : statusLabel(booking.status)}
    </a>
  );
}

function Occupancy({ taken, capacity }: { taken: number; capacity: number }) {
  const share = capacity > 0 ? Math.min(1, taken / capacity) : 0;
  return (
    <div className="occupancy-line">
      <span className="hint">
        {taken}/{capacity}
      </span>
      <div className="occupancy" role="img" aria-label={`${taken} of ${capacity} taken`}>
        <span style={{ width: `${Math.round(share * 100)}%` }} />
      </div>
    </div>
  );
}

function SlotGrid({ resource, days, bookings }: { resource: Resource; days: string[]; bookings: Booking[] }) {
  const zone = resource.timezone;
  const hours = useMemo(() => {
    let first = 8;
    let last = 20;
    const opening = resource.policy.openingHours;
    if (opening === null || opening === undefined) {
      first = 0;
      last = 24;
    } else {
      const ranges = Object.values(opening).flat();
      if (ranges.length) {
        first = Math.min(...ranges.map((r) => Number(r.start.slice(0, 2))));
        last = Math.max(...ranges.map((r) => Math.ceil(Number(r.end.slice(0, 2)) + Number(r.end.slice(3)) / 60)));
      }
    }
    for (const booking of bookings) {
      const start = Number(formatTime(booking.startTime, zone).slice(0, 2));
      first = Math.min(first, start);
      last = Math.max(last, start + 1);
    }
    return Array.from({ length: Math.max(0, last - first) }, (_, index) => first + index);
  }, [resource, bookings, zone]);

  return (
    <div className="calendar" style={{ gridTemplateColumns: `4rem repeat(${days.length}, minmax(8rem, 1fr))` }}>
      <div className="cell head" />
      {days.map((day) => (
        <div key={day} className="cell head">
          {formatDay(day)}
        </div>
      ))}
      {hours.map((h) => (
        <div key={h} style={{ display: "contents" }}>
          <div className="cell head">{hour(h)}</div>
          {days.map((day) => {
            const from = Date.parse(zonedIso(day, hour(h), zone));
            const to = from + 3_600_000;
            const overlapping = bookings.filter(
              (b) => Date.parse(b.startTime) < to && Date.parse(b.endTime) > from,
            );
            // Each booking is listed once a day: in the hour it starts, or in the first row when it began earlier.
            const firstRow = from === Date.parse(zonedIso(day, hour(hours[0] ?? 0), zone));
            const starting = overlapping.filter((b) => Date.parse(b.startTime) >= from || firstRow);
            const taken = peakTaken(overlapping, from, to);
            return (
              <div key={day} className="cell" data-day={day} data-hour={hour(h)}>
                {taken > 0 && <Occupancy taken={taken} capacity={resource.capacity} />}
                {starting.map((b) => (
                  <Entry key={b.id} booking={b} timeZone={zone} />
                ))}
              </div>
            );
          })}
        </div>
      ))}
    </div>
  );
}

function nightsOf(booking: Booking, zone: string): [string, string] {
  const first = booking.checkIn ?? localDate(booking.startTime, zone);
  const out = booking.checkOut ?? localDate(booking.endTime, zone);
  return [first, out];
}

function NightGrid({ resource, days, bookings }: { resource: Resource; days: string[]; bookings: Booking[] }) {
  const zone = resource.timezone;
  return (
    <div className="calendar" style={{ gridTemplateColumns: `repeat(${days.length}, minmax(8rem, 1fr))` }}>
      {days.map((day) => (
        <div key={day} className="cell head">
          Night of {formatDay(day)}
        </div>
      ))}
      {days.map((day) => {
        const staying = bookings.filter((b) => {
          const [first, out] = nightsOf(b, zone);
          return first <= day && day < out;
        });
        const taken = staying.reduce((sum, b) => sum + b.quantity, 0);
        return (
          <div key={day} className="cell" data-day={day}>
            <Occupancy taken={taken} capacity={resource.capacity} />
            {staying.map((b) => (
              <Entry key={b.id} booking={b} timeZone={zone} />
            ))}
          </div>
        );
      })}
    </div>
  );
}

function dayOverlaps(booking: Booking, day: string, resource: Resource): boolean {
  const zone = resource.timezone;
  if (resource.policy.unit === "night") {
    const [first, out] = nightsOf(booking, zone);
    return first <= day && day < out;
  }
  const from = Date.parse(zonedIso(day, "00:00", zone));
  const to = Date.parse(zonedIso(addDays(day, 1), "00:00", zone));
  return Date.parse(booking.startTime) < to && Date.parse(booking.endTime) > from;
}

/** A venue at a glance: one row per resource, one cell per day (or night) with what is booked there. */
function VenueGrid({ resources, days, bookings }: { resources: Resource[]; days: string[]; bookings: Booking[] }) {
  return (
    <div className="calendar" style={{ gridTemplateColumns: `9rem repeat(${days.length}, minmax(8rem, 1fr))` }}>
      <div className="cell head" />
      {days.map((day) => (
        <div key={day} className="cell head">
          {formatDay(day)}
        </div>
      ))}
      {resources.map((resource) => (
        <div key={resource.id} style={{ display: "contents" }}>
          <div className="cell head">
            <a href={`#/calendar?resourceId=${encodeURIComponent(resource.id)}`}>{resource.name}</a>
          </div>
          {days.map((day) => {
            const there = bookings.filter((b) => b.resourceId === resource.id && dayOverlaps(b, day, resource));
            const nightly = resource.policy.unit === "night";
            return (
              <div key={day} className="cell" data-day={day} data-resource-id={resource.id}>
                {nightly && (
                  <Occupancy taken={there.reduce((sum, b) => sum + b.quantity, 0)} capacity={resource.capacity} />
                )}
                {there.map((b) => (
                  <Entry key={b.id} booking={b} timeZone={resource.timezone} />
                ))}
              </div>
            );
          })}
        </div>
      ))}
    </div>
  );
}

export function Calendar({ query }: RouteParams) {
  const catalog = useLoad(myCatalog, []);
  const resources = useMemo(() => catalog.data?.flatMap((entry) => entry.resources) ?? [], [catalog.data]);
  const venueEntry = catalog.data?.find((entry) => entry.venue.id === query.get("venueId")) ?? null;
  const resource = venueEntry
    ? null
    : (resources.find((r) => r.id === query.get("resourceId")) ?? resources[0] ?? null);
  const zone = venueEntry?.venue.timezone ?? resource?.timezone ?? "UTC";
  const view: View = query.get("view") === "day" ? "day" : "week";
  const anchor = query.get("date") ?? today(zone);
  const first = view === "week" ? startOfWeek(anchor) : anchor;
  const days = Array.from({ length: view === "week" ? 7 : 1 }, (_, index) => addDays(first, index));
  const nightly = venueEntry ? venueEntry.resources.some((r) => r.policy.unit === "night") : resource?.policy.unit === "night";
  const selected = venueEntry ? `venue:${venueEntry.venue.id}` : (resource?.id ?? "");

  const go = (change: Record<string, string>) => {
    const target = change.select ?? selected;
    delete change.select;
    const which: Record<string, string> = target.startsWith("venue:")
      ? { venueId: target.slice(6) }
      : { resourceId: target };
    const next = new URLSearchParams({ ...which, view, date: anchor, ...change });
    navigate(`/calendar?${next.toString()}`);
  };

  const bookings = useLoad(async () => {
    if (!resource && !venueEntry) return [];
    const end = addDays(first, days.length);
    const from = zonedIso(nightly ? addDays(first, -LONGEST_STAY_DAYS) : first, "00:00", zone);
    const scope = venueEntry ? { venueId: venueEntry.venue.id } : { resourceId: resource?.id ?? "" };
    return claims(await allBookings({ ...scope, from, to: zonedIso(end, "00:00", zone) }));
  }, [selected, first, days.length, nightly, zone]);

  const { reload } = bookings;
  useEffect(() => {
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") reload();
    }, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [reload]);

  const holds = bookings.data?.filter((b) => HOLDS.has(b.status)).length ?? 0;
  const firm = (bookings.data?.length ?? 0) - holds;
  const title = venueEntry ? venueEntry.venue.name : resource?.name;

  return (
    <section>
      <h1>Calendar{title ? `: ${title}` : ""}</h1>
      <ErrorAlert error={catalog.error} />
      {catalog.loading && !catalog.data && <Busy />}
      {catalog.data && resources.length === 0 && (
        <p>
          No resources yet. <a href="#/venues">Create one</a>.
        </p>
      )}
      {(resource || venueEntry) && (
        <>
          <div className="toolbar">
            <label>
              Resource
              <select value={selected} onChange={(e) => go({ select: e.target.value })}>
                {catalog.data?.map(({ venue, resources: own }) => (
                  <optgroup key={venue.id} label={venue.name}>
                    <option value={`venue:${venue.id}`}>All of {venue.name}</option>
                    {own.map((r) => (
                      <option key={r.id} value={r.id}>
                        {r.name}
                      </option>
                    ))}
                  </optgroup>
                ))}
              </select>
            </label>
            <label>
              View
              <select value={view} onChange={(e) => go({ view: e.target.value })}>
                <option value="day">Day</option>
                <option value="week">Week</option>
              </select>
            </label>
            <label>
              Date
              <input type="date" value={anchor} onChange={(e) => e.target.value && go({ date: e.target.value })} />
            </label>
            <button type="button" className="secondary" onClick={() => go({ date: addDays(anchor, view === "week" ? -7 : -1) })}>
              Previous
            </button>
            <button type="button" className="secondary" onClick={() => go({ date: today(zone) })}>
              Today
            </button>
            <button type="button" className="secondary" onClick={() => go({ date: addDays(anchor, view === "week" ? 7 : 1) })}>
              Next
            </button>
          </div>
          <p className="hint">
            Times in {zone}.{resource ? ` Capacity ${resource.capacity}.` : ""} {firm} confirmed, {holds} on hold in view.
          </p>
          <div className="legend" aria-label="Legend">
            <span>
              <span className="entry confirmed">confirmed</span> firm booking
            </span>
            <span>
              <span className="entry hold">hold</span> held, awaiting approval or payment (lapses unless confirmed)
            </span>
          </div>
          <ErrorAlert error={bookings.error} />
          <div aria-busy={bookings.loading && !bookings.data}>
            {!bookings.data && bookings.loading && <Busy label="Loading bookings…" />}
            {bookings.data && venueEntry && (
              <VenueGrid resources={venueEntry.resources} days={days} bookings={bookings.data} />
            )}
            {bookings.data &&
              resource &&
              (nightly ? (
                <NightGrid resource={resource} days={days} bookings={bookings.data} />
              ) : (
                <SlotGrid resource={resource} days={days} bookings={bookings.data} />
              ))}
          </div>
        </>
      )}
    </section>
  );
}
