/** Venues and their resources: the organisation's catalog, with venue create/edit and links to each resource's
 * editor and calendar. */
import { useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import type { Venue } from "../../api/types";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { formatMoney } from "../../ui/money";
import { useLoad } from "../../ui/useLoad";
import { myCatalog } from "./catalog";

interface VenueDraft {
  name: string;
  city: string;
  country: string;
  timezone: string;
  address: string;
  description: string;
}

function draftOf(venue: Venue | null): VenueDraft {
  return {
    name: venue?.name ?? "",
    city: venue?.city ?? "",
    country: venue?.country ?? "",
    timezone: venue?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    address: venue?.address ?? "",
    description: venue?.description ?? "",
  };
}

function VenueForm({ venue, onSaved, onCancel }: { venue: Venue | null; onSaved(): void; onCancel(): void }) {
  const [draft, setDraft] = useState(() => draftOf(venue));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (field: keyof VenueDraft) => (event: { target: { value: string } }) =>
    setDraft({ ...draft, [field]: event.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      name: draft.name,
      city: draft.city,
      country: draft.country.trim().toUpperCase() || null,
      timezone: draft.timezone,
      address: draft.address,
      description: draft.description,
      amenities: venue?.amenities ?? [],
    };
    try {
      if (venue) {
        await unwrap(api.PUT("/api/v1/venues/{venueId}", { params: { path: { venueId: venue.id } }, body }));
      } else {
        await unwrap(api.POST("/api/v1/venues", { body }));
      }
      onSaved();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form wide card" onSubmit={submit} aria-busy={busy} aria-label={venue ? "Edit venue" : "New venue"}>
      <label>
        Venue name
        <input required maxLength={200} value={draft.name} onChange={set("name")} />
      </label>
      <label>
        City
        <input required maxLength={100} value={draft.city} onChange={set("city")} />
      </label>
      <label>
        Country <span className="hint">ISO code, e.g. PT</span>
        <input maxLength={2} value={draft.country} onChange={set("country")} />
      </label>
      <label>
        Timezone <span className="hint">IANA, e.g. Europe/Lisbon</span>
        <input required maxLength={64} value={draft.timezone} onChange={set("timezone")} />
      </label>
      <label>
        Address
        <input maxLength={300} value={draft.address} onChange={set("address")} />
      </label>
      <label>
        Description
        <input maxLength={4000} value={draft.description} onChange={set("description")} />
      </label>
      <div className="actions">
        <button type="submit" disabled={busy}>
          {venue ? "Save venue" : "Create venue"}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {busy && <Busy label="Saving…" />}
      <ErrorAlert error={error} />
    </form>
  );
}

export function Venues() {
  const catalog = useLoad(myCatalog, []);
  const [editing, setEditing] = useState<Venue | "new" | null>(null);

  const saved = () => {
    setEditing(null);
    catalog.reload();
  };

  return (
    <section>
      <h1>Venues and resources</h1>
      <div className="actions">
        <button type="button" onClick={() => setEditing("new")}>
          New venue
        </button>
      </div>
      {editing && (
        <VenueForm venue={editing === "new" ? null : editing} onSaved={saved} onCancel={() => setEditing(null)} />
      )}
      {catalog.loading && <Busy />}
      <ErrorAlert error={catalog.error} />
      {catalog.data?.length === 0 && <p>No venues yet: create one, then add its resources.</p>}
      {catalog.data?.map(({ venue, resources }) => (
        <article key={venue.id} className="card" aria-labelledby={`venue-${venue.id}`}>
          <h2 id={`venue-${venue.id}`}>{venue.name}</h2>
          <p className="hint">
            {venue.city}
            {venue.country ? `, ${venue.country}` : ""} · {venue.timezone}
          </p>
          <div className="actions">
            <button type="button" className="secondary" onClick={() => setEditing(venue)}>
              Edit venue
            </button>
            <a className="button" href={`#/resources/new?venueId=${encodeURIComponent(venue.id)}`}>
              New resource
            </a>
          </div>
          {resources.length === 0 ? (
            <p>No resources yet.</p>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Resource</th>
                    <th scope="col">Type</th>
                    <th scope="col">Capacity</th>
                    <th scope="col">Price</th>
                    <th scope="col">Booked by</th>
                    <th scope="col">
                      <span className="sr-only">Links</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {resources.map((resource) => (
                    <tr key={resource.id}>
                      <td>
                        <a href={`#/resources/${encodeURIComponent(resource.id)}`}>{resource.name}</a>
                        {resource.active === false && <span className="badge">inactive</span>}
                      </td>
                      <td>{resource.type.replace(/_/g, " ")}</td>
                      <td>{resource.capacity}</td>
                      <td>{formatMoney(resource.pricing.unitPrice, resource.pricing.currency)}</td>
                      <td>{resource.policy.unit ?? "minutes"}</td>
                      <td>
                        <a href={`#/calendar?resourceId=${encodeURIComponent(resource.id)}`}>Calendar</a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </article>
      ))}
    </section>
  );
}
