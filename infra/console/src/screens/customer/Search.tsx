/** Search: places by city, dates and guests (`GET /resources`), or flights by route and day (`GET /flights`).
 * Each result leads to its availability grid and booking form (`#/book/:resourceId`). */
import { useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { usePages } from "../../ui/usePages";
import { formatMoney } from "../../ui/money";
import { formatDateTime } from "../../ui/time";
import { bookHref, unitLabel } from "./booking";
import "../../ui/screens.css";

type Resource = components["schemas"]["Resource"];
type FlightList = components["schemas"]["FlightList"];
type ResourceType = Resource["type"];

const TYPES: { value: ResourceType | ""; label: string }[] = [
  { value: "", label: "Any kind" },
  { value: "room", label: "Room" },
  { value: "dorm", label: "Dorm bed" },
  { value: "hall", label: "Hall" },
  { value: "meeting_room", label: "Meeting room" },
  { value: "desk", label: "Desk" },
  { value: "advisor", label: "Advisor" },
  { value: "class", label: "Class" },
  { value: "equipment", label: "Equipment" },
];

/** A day's start in UTC: the API's `availableFrom`/`availableTo` are instants; a whole-day window is close enough
 * for a search (the booking form then checks the exact window in the resource's timezone). */
function dayStart(date: string): string {
  return `${date}T00:00:00Z`;
}

export function Search({ initial }: { initial: URLSearchParams }) {
  const [mode, setMode] = useState<"places" | "flights">(initial.get("mode") === "flights" ? "flights" : "places");
  return (
    <section>
      <h1>Search</h1>
      <div className="actions" role="group" aria-label="What to search">
        <button
          type="button"
          className={mode === "places" ? "" : "secondary"}
          aria-pressed={mode === "places"}
          onClick={() => setMode("places")}
        >
          Places
        </button>
        <button
          type="button"
          className={mode === "flights" ? "" : "secondary"}
          aria-pressed={mode === "flights"}
          onClick={() => setMode("flights")}
        >
          Flights
        </button>
      </div>
      {mode === "places" ? <PlaceSearch initial={initial} /> : <FlightSearch />}
    </section>
  );
}

function PlaceSearch({ initial }: { initial: URLSearchParams }) {
  const [city, setCity] = useState(initial.get("city") ?? "");
  const [type, setType] = useState<ResourceType | "">("");
  const [guests, setGuests] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const { items: results, next, error, busy, load: loadPage } = usePages<Resource>();

  async function load(cursor: string | null) {
    await loadPage(cursor, async (at) => {
      const page = await unwrap(
        api.GET("/api/v1/resources", {
          params: {
            query: {
              city: city.trim() || undefined,
              type: type || undefined,
              minGuests: guests ? Number(guests) : undefined,
              availableFrom: from && to ? dayStart(from) : undefined,
              availableTo: from && to ? dayStart(to) : undefined,
              limit: 20,
              cursor: at ?? undefined,
            },
          },
        }),
      );
      return { items: page.resources, next: page.pagination.nextCursor };
    });
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void load(null);
  }

  const query = new URLSearchParams();
  if (guests) query.set("guests", guests);
  if (from) query.set("from", from);
  if (to) query.set("to", to);

  return (
    <>
      <form className="form wide" onSubmit={submit} aria-label="Search places">
        <label>
          City
          <input value={city} onChange={(e) => setCity(e.target.value)} placeholder="Lisbon" maxLength={100} />
        </label>
        <label>
          Kind
          <select value={type} onChange={(e) => setType(e.target.value as ResourceType | "")}>
            {TYPES.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Guests
          <input type="number" min={1} max={100000} value={guests} onChange={(e) => setGuests(e.target.value)} />
        </label>
        <label>
          From <span className="hint">(free from this day)</span>
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} min={from || undefined} onChange={(e) => setTo(e.target.value)} />
        </label>
        <div className="actions">
          <button type="submit" disabled={busy}>
            Search
          </button>
        </div>
      </form>
      <ErrorAlert error={error} />
      <div aria-live="polite" aria-busy={busy}>
        {busy && <Busy label="Searching…" />}
        {results && results.length === 0 && <p>Nothing matches. Try another city or fewer filters.</p>}
        {results && results.length > 0 && (
          <ul className="cards results" aria-label="Places found">
            {results.map((resource) => (
              <li key={resource.id}>
                <h2>{resource.name}</h2>
                <p className="hint">
                  {resource.type.replace("_", " ")} · {resource.city}
                  {resource.location ? ` · ${resource.location}` : ""}
                </p>
                <p>
                  from {formatMoney(resource.pricing.unitPrice, resource.pricing.currency)}{" "}
                  {unitLabel(resource.policy.unit ?? "minutes", resource.policy.granuleMinutes ?? 30)}
                </p>
                {resource.maxGuests ? <p className="hint">up to {resource.maxGuests} guests</p> : null}
                {resource.rating.count > 0 && (
                  <p className="hint">
                    rated {resource.rating.average} ({resource.rating.count})
                  </p>
                )}
                <a className="button" href={bookHref(resource.id, query)}>
                  See availability<span className="visually-hidden"> of {resource.name}</span>
                </a>
              </li>
            ))}
          </ul>
        )}
        {next && (
          <button type="button" className="secondary" disabled={busy} onClick={() => void load(next)}>
            More results
          </button>
        )}
      </div>
    </>
  );
}

function FlightSearch() {
  const [origin, setOrigin] = useState("LHR");
  const [destination, setDestination] = useState("JFK");
  const [date, setDate] = useState("");
  const [passengers, setPassengers] = useState("1");
  const [found, setFound] = useState<FlightList | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setFound(
        await unwrap(
          api.GET("/api/v1/flights", {
            params: {
              query: {
                origin: origin.trim().toUpperCase(),
                destination: destination.trim().toUpperCase(),
                date,
                passengers: Number(passengers) || 1,
              },
            },
          }),
        ),
      );
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <form className="form wide" onSubmit={(e) => void submit(e)} aria-label="Search flights">
        <label>
          From <span className="hint">(airport code)</span>
          <input
            value={origin}
            onChange={(e) => setOrigin(e.target.value)}
            pattern="[A-Za-z]{3}"
            maxLength={3}
            required
          />
        </label>
        <label>
          To
          <input
            value={destination}
            onChange={(e) => setDestination(e.target.value)}
            pattern="[A-Za-z]{3}"
            maxLength={3}
            required
          />
        </label>
        <label>
          Date <span className="hint">(departure, local)</span>
          <input type="date" value={date} onChange={(e) => setDate(e.target.value)} required />
        </label>
        <label>
          Passengers
          <input
            type="number"
            min={1}
            max={9}
            value={passengers}
            onChange={(e) => setPassengers(e.target.value)}
            required
          />
        </label>
        <div className="actions">
          <button type="submit" disabled={busy}>
            Find flights
          </button>
        </div>
      </form>
      <ErrorAlert error={error} />
      <div aria-live="polite" aria-busy={busy}>
        {busy && <Busy label="Searching flights…" />}
        {found && found.flights.length === 0 && (
          <p>
            No departures from {found.origin} to {found.destination} on {found.date}.
          </p>
        )}
        {found && found.flights.length > 0 && (
          <ul className="cards results" aria-label="Departures">
            {found.flights.map((flight) => (
              <li key={`${flight.venueId}-${flight.departureTime}`}>
                <h2>
                  {flight.flightNumber ?? "Flight"} · {found.origin} → {found.destination}
                </h2>
                <p>
                  Departs {formatDateTime(flight.departureTime, flight.timezone)}
                  <br />
                  Arrives {formatDateTime(flight.arrivalTime, flight.arrivalTimezone)}
                </p>
                <ul className="plain">
                  {flight.cabins.map((cabin) => (
                    <li key={cabin.resourceId}>
                      <strong>{cabin.name}</strong>: {formatMoney(cabin.price.amount, cabin.price.currency)} for{" "}
                      {found.passengers} · {cabin.seatsLeft} seats left{" "}
                      {cabin.seatsLeft >= found.passengers && (
                        <a
                          className="button"
                          href={bookHref(cabin.resourceId, new URLSearchParams({ quantity: String(found.passengers) }))}
                        >
                          Choose<span className="visually-hidden"> {cabin.name}</span>
                        </a>
                      )}
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        )}
      </div>
    </>
  );
}
