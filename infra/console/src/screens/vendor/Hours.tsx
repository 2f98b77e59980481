/** A resource's weekly opening hours (`PUT /resources/{id}/availability`): one opening per weekday here, or open
 * around the clock. Blackout dates and date overrides are kept as they are. The API answers with the future
 * bookings that now fall outside the hours, which are listed for the vendor to deal with. */
import { useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import type { Resource, Schemas } from "../../api/types";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { formatRange } from "../../ui/time";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
type Day = (typeof DAYS)[number];
const DAY_NAMES: Record<Day, string> = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
};

interface DayHours {
  open: boolean;
  start: string;
  end: string;
}

function initial(resource: Resource): { alwaysOpen: boolean; days: Record<Day, DayHours> } {
  const hours = resource.policy.openingHours ?? null;
  const days = {} as Record<Day, DayHours>;
  for (const day of DAYS) {
    const first = hours?.[day]?.[0];
    days[day] = { open: Boolean(first), start: first?.start ?? "09:00", end: first?.end ?? "17:00" };
  }
  return { alwaysOpen: hours === null, days };
}

export function Hours({ resource, onSaved }: { resource: Resource; onSaved(): void }) {
  const [state, setState] = useState(() => initial(resource));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [outside, setOutside] = useState<Schemas["HoursChanged"]["bookingsOutsideHours"] | null>(null);

  const setDay = (day: Day, change: Partial<DayHours>) =>
    setState({ ...state, days: { ...state.days, [day]: { ...state.days[day], ...change } } });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setOutside(null);
    const openingHours = state.alwaysOpen
      ? null
      : Object.fromEntries(
          DAYS.map((day) => [day, state.days[day].open ? [{ start: state.days[day].start, end: state.days[day].end }] : []]),
        );
    try {
      const changed = await unwrap(
        api.PUT("/api/v1/resources/{resourceId}/availability", {
          params: { path: { resourceId: resource.id } },
          body: {
            openingHours,
            blackoutDates: resource.policy.blackoutDates ?? [],
            dateOverrides: resource.policy.dateOverrides ?? [],
          },
        }),
      );
      setOutside(changed.bookingsOutsideHours);
      onSaved();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card" onSubmit={submit} aria-busy={busy} aria-labelledby="hours-heading">
      <h2 id="hours-heading">Opening hours</h2>
      <p className="hint">Local time in {resource.timezone}.</p>
      <label className="checkbox">
        <span>
          <input
            type="checkbox"
            checked={state.alwaysOpen}
            onChange={(e) => setState({ ...state, alwaysOpen: e.target.checked })}
          />{" "}
          Open around the clock
        </span>
      </label>
      {!state.alwaysOpen && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Open</th>
                <th scope="col">From</th>
                <th scope="col">Until</th>
              </tr>
            </thead>
            <tbody>
              {DAYS.map((day) => (
                <tr key={day}>
                  <th scope="row">{DAY_NAMES[day]}</th>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Open on ${DAY_NAMES[day]}`}
                      checked={state.days[day].open}
                      onChange={(e) => setDay(day, { open: e.target.checked })}
                    />
                  </td>
                  <td>
                    <input
                      type="time"
                      aria-label={`${DAY_NAMES[day]} opens`}
                      disabled={!state.days[day].open}
                      value={state.days[day].start}
                      onChange={(e) => setDay(day, { start: e.target.value })}
                    />
                  </td>
                  <td>
                    <input
                      type="time"
                      aria-label={`${DAY_NAMES[day]} closes`}
                      disabled={!state.days[day].open}
                      value={state.days[day].end}
                      onChange={(e) => setDay(day, { end: e.target.value })}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="actions">
        <button type="submit" disabled={busy}>
          Save hours
        </button>
      </div>
      {busy && <Busy label="Saving hours…" />}
      <ErrorAlert error={error} />
      {outside && (
        <div role="status" className={outside.length ? "alert" : "notice"}>
          {outside.length === 0
            ? "Hours saved. No future booking falls outside them."
            : `Hours saved. ${outside.length} future booking(s) now fall outside them:`}
          {outside.length > 0 && (
            <ul>
              {outside.map((booking) => (
                <li key={booking.id}>
                  <a href={`#/bookings/${encodeURIComponent(booking.id)}`}>{booking.reference}</a>{" "}
                  {formatRange(booking.startTime, booking.endTime, resource.timezone)} ({booking.reason})
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </form>
  );
}
