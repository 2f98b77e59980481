/** A resource's editor: what it is and how it is booked (policy, price, capacity), and, once it exists, its
 * opening hours and add-ons. The timezone is its venue's (edited on the venue). */
import { useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import type { Resource, Schemas, Venue } from "../../api/types";
import type { RouteParams } from "../../routes";
import { navigate } from "../../router";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { minorToText, parseMoney } from "../../ui/money";
import { useLoad } from "../../ui/useLoad";
import { Addons } from "./Addons";
import { myVenues } from "./catalog";
import { Hours } from "./Hours";

type ResourceType = Resource["type"];
type Policy = Schemas["BookingPolicy"];
type Confirmation = NonNullable<Policy["confirmation"]>;

const TYPES: ResourceType[] = ["room", "dorm", "hall", "meeting_room", "seat_pool", "advisor", "equipment", "desk", "class", "other"];
const CONFIRMATIONS: { value: Confirmation; label: string }[] = [
  { value: "auto", label: "Instantly" },
  { value: "approval", label: "After my approval" },
  { value: "payment", label: "After payment" },
  { value: "approval_then_payment", label: "After approval, then payment" },
  { value: "authorize_then_capture", label: "Card authorised, captured later" },
];

interface Draft {
  venueId: string;
  name: string;
  type: ResourceType;
  capacity: string;
  description: string;
  unit: NonNullable<Policy["unit"]>;
  granuleMinutes: string;
  checkInTime: string;
  checkOutTime: string;
  confirmation: Confirmation;
  holdMinutes: string;
  minNoticeMinutes: string;
  currency: string;
  unitPrice: string;
  active: boolean;
  /** the customer's refund tiers: cancelled at least `hours` before the start, `percent` back */
  tiers: { hours: string; percent: string }[];
  cancellationFee: string;
  blackoutDates: string;
}

function draftOf(resource: Resource | null, venueId: string): Draft {
  const policy = resource?.policy;
  const currency = resource?.pricing.currency ?? "EUR";
  return {
    venueId: resource?.venueId ?? venueId,
    name: resource?.name ?? "",
    type: resource?.type ?? "meeting_room",
    capacity: String(resource?.capacity ?? 1),
    description: resource?.description ?? "",
    unit: policy?.unit ?? "minutes",
    granuleMinutes: String(policy?.granuleMinutes ?? 60),
    checkInTime: policy?.checkInTime ?? "15:00",
    checkOutTime: policy?.checkOutTime ?? "11:00",
    confirmation: policy?.confirmation ?? "auto",
    holdMinutes: String(Math.round((policy?.holdTtlSeconds ?? 900) / 60)),
    minNoticeMinutes: String(policy?.minNoticeMinutes ?? 0),
    currency,
    unitPrice: resource ? minorToText(resource.pricing.unitPrice, currency) : "",
    active: resource?.active ?? true,
    tiers: (policy?.cancellation?.tiers ?? []).map((tier) => ({
      hours: String(tier.minHoursBefore),
      percent: String(tier.percent),
    })),
    cancellationFee: minorToText(policy?.cancellation?.fee ?? 0, currency),
    blackoutDates: (policy?.blackoutDates ?? []).join(", "),
  };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function number(text: string, label: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${label} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

function ResourceForm({
  resource,
  venues,
  venueId,
  onSaved,
}: {
  resource: Resource | null;
  venues: Venue[];
  venueId: string;
  onSaved(): void;
}) {
  const [draft, setDraft] = useState(() => draftOf(resource, venueId || venues[0]?.id || ""));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set =
    <K extends keyof Draft>(field: K) =>
    (event: { target: { value: string } }) =>
      setDraft({ ...draft, [field]: event.target.value as Draft[K] });
  const venue = venues.find((v) => v.id === draft.venueId);
  const setTier = (index: number, change: Partial<Draft["tiers"][number]>) =>
    setDraft({ ...draft, tiers: draft.tiers.map((tier, i) => (i === index ? { ...tier, ...change } : tier)) });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const currency = draft.currency.trim().toUpperCase();
      if (!/^[A-Z]{3}$/.test(currency)) throw new Error("Currency must be a three-letter ISO 4217 code (EUR).");
      const unitPrice = parseMoney(draft.unitPrice, currency);
      if (unitPrice === null) throw new Error(`The price must be an amount in ${currency}, like 25.00.`);
      const policy: Policy = {
        ...(resource?.policy ?? {}),
        unit: draft.unit,
        confirmation: draft.confirmation,
        holdTtlSeconds: number(draft.holdMinutes, "Hold minutes", 1, 1440) * 60,
        minNoticeMinutes: number(draft.minNoticeMinutes, "Minimum notice", 0, 525600),
      };
      const fee = parseMoney(draft.cancellationFee || "0", currency);
      if (fee === null) throw new Error(`The cancellation fee must be an amount in ${currency}.`);
      policy.cancellation = {
        ...(resource?.policy.cancellation ?? {}),
        fee,
        tiers: draft.tiers
          .map((tier) => ({
            minHoursBefore: number(tier.hours, "Hours before the start", 0, 8784),
            percent: number(tier.percent, "Refund percent", 0, 100),
          }))
          .sort((a, b) => b.minHoursBefore - a.minHoursBefore),
      };
      const blackouts = draft.blackoutDates.split(/[\s,]+/).filter(Boolean);
      const wrong = blackouts.find((day) => !DATE.test(day));
      if (wrong) throw new Error(`Blackout dates are YYYY-MM-DD; "${wrong}" is not.`);
      policy.blackoutDates = blackouts;
      if (draft.unit === "minutes") policy.granuleMinutes = number(draft.granuleMinutes, "Slot length", 5, 1440);
      if (draft.unit === "night") {
        policy.checkInTime = draft.checkInTime;
        policy.checkOutTime = draft.checkOutTime;
      }
      const common = {
        name: draft.name,
        type: draft.type,
        capacity: number(draft.capacity, "Capacity", 1, 10000),
        description: draft.description,
        active: draft.active,
        policy,
        pricing: { ...(resource?.pricing ?? {}), currency, unitPrice },
      };
      setBusy(true);
      if (resource) {
        await unwrap(
          api.PUT("/api/v1/resources/{resourceId}", {
            params: { path: { resourceId: resource.id } },
            body: {
              ...common,
              venueId: draft.venueId,
              amenities: resource.amenities ?? [],
              attributes: resource.attributes ?? {},
              location: resource.location ?? "",
              minGuests: resource.minGuests ?? null,
              maxGuests: resource.maxGuests ?? null,
              route: resource.route ?? null,
            },
          }),
        );
        onSaved();
      } else {
        const created = await unwrap(api.POST("/api/v1/resources", { body: { ...common, venueId: draft.venueId } }));
        navigate(`/resources/${encodeURIComponent(created.id)}`);
      }
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form wide" onSubmit={submit} aria-busy={busy} aria-label="Resource">
      <label>
        Venue
        <select required value={draft.venueId} onChange={set("venueId")}>
          {venues.map((v) => (
            <option key={v.id} value={v.id}>
              {v.name}
            </option>
          ))}
        </select>
        <span className="hint">Times are in the venue's timezone: {venue?.timezone ?? "—"}</span>
      </label>
      <label>
        Name
        <input required maxLength={200} value={draft.name} onChange={set("name")} />
      </label>
      <label>
        Type
        <select value={draft.type} onChange={set("type")}>
          {TYPES.map((type) => (
            <option key={type} value={type}>
              {type.replace(/_/g, " ")}
            </option>
          ))}
        </select>
      </label>
      <label>
        Capacity <span className="hint">units sold at once (rooms, seats, desks)</span>
        <input type="number" min={1} max={10000} required value={draft.capacity} onChange={set("capacity")} />
      </label>
      <label>
        Booked by
        <select value={draft.unit} onChange={set("unit")} disabled={draft.unit === "fixed"}>
          <option value="minutes">time slots</option>
          <option value="night">nights</option>
          {draft.unit === "fixed" && <option value="fixed">one fixed departure</option>}
        </select>
      </label>
      {draft.unit === "minutes" && (
        <label>
          Slot length (minutes)
          <input type="number" min={5} max={1440} value={draft.granuleMinutes} onChange={set("granuleMinutes")} />
        </label>
      )}
      {draft.unit === "night" && (
        <>
          <label>
            Check-in from
            <input type="time" value={draft.checkInTime} onChange={set("checkInTime")} />
          </label>
          <label>
            Check-out by
            <input type="time" value={draft.checkOutTime} onChange={set("checkOutTime")} />
          </label>
        </>
      )}
      <label>
        Confirmation
        <select value={draft.confirmation} onChange={set("confirmation")}>
          {CONFIRMATIONS.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Hold for (minutes) <span className="hint">before an unconfirmed booking lapses</span>
        <input type="number" min={1} max={1440} value={draft.holdMinutes} onChange={set("holdMinutes")} />
      </label>
      <label>
        Minimum notice (minutes)
        <input type="number" min={0} max={525600} value={draft.minNoticeMinutes} onChange={set("minNoticeMinutes")} />
      </label>
      <label>
        Currency
        <input required maxLength={3} value={draft.currency} onChange={set("currency")} />
      </label>
      <label>
        Price per {draft.unit === "night" ? "night" : draft.unit === "fixed" ? "seat" : "slot"}
        <input required inputMode="decimal" value={draft.unitPrice} onChange={set("unitPrice")} />
      </label>
      <fieldset className="span-all">
        <legend>Cancellation by the customer</legend>
        <p className="hint">
          The first tier the cancellation reaches applies (hours before the start, largest first); none reached: no
          refund. A vendor's own cancellation always refunds everything.
        </p>
        {draft.tiers.map((tier, index) => (
          <div className="actions" key={index} role="group" aria-label={`Refund tier ${index + 1}`}>
            <label>
              At least (hours before)
              <input
                type="number"
                min={0}
                max={8784}
                required
                value={tier.hours}
                onChange={(e) => setTier(index, { hours: e.target.value })}
              />
            </label>
            <label>
              Refund (%)
              <input
                type="number"
                min={0}
                max={100}
                required
                value={tier.percent}
                onChange={(e) => setTier(index, { percent: e.target.value })}
              />
            </label>
            <button
              type="button"
              className="secondary"
              onClick={() => setDraft({ ...draft, tiers: draft.tiers.filter((_, i) => i !== index) })}
            >
              Remove tier {index + 1}
            </button>
          </div>
        ))}
        <div className="actions">
          <button
            type="button"
            className="secondary"
            disabled={draft.tiers.length >= 10}
            onClick={() => setDraft({ ...draft, tiers: [...draft.tiers, { hours: "24", percent: "100" }] })}
          >
            Add refund tier
          </button>
        </div>
        <label>
          Cancellation fee ({draft.currency || "currency"}) <span className="hint">kept from any refund</span>
          <input inputMode="decimal" value={draft.cancellationFee} onChange={set("cancellationFee")} />
        </label>
      </fieldset>
      <label className="span-all">
        Blackout dates <span className="hint">closed all day; YYYY-MM-DD, separated by commas</span>
        <input value={draft.blackoutDates} onChange={set("blackoutDates")} />
      </label>
      <label className="checkbox">
        <span>
          <input type="checkbox" checked={draft.active} onChange={(e) => setDraft({ ...draft, active: e.target.checked })} />{" "}
          Bookable (active)
        </span>
      </label>
      <div className="actions">
        <button type="submit" disabled={busy}>
          {resource ? "Save resource" : "Create resource"}
        </button>
      </div>
      {busy && <Busy label="Saving…" />}
      <ErrorAlert error={error} />
    </form>
  );
}

export function ResourceEditor({ params, query }: RouteParams) {
  const resourceId = params.resourceId;
  const [saved, setSaved] = useState(false);
  const loaded = useLoad(async () => {
    const [venues, resource] = await Promise.all([
      myVenues(),
      resourceId
        ? unwrap(api.GET("/api/v1/resources/{resourceId}", { params: { path: { resourceId } } }))
        : Promise.resolve(null),
    ]);
    return { venues, resource };
  }, [resourceId]);

  return (
    <section>
      <h1>{loaded.data?.resource ? loaded.data.resource.name : "New resource"}</h1>
      {loaded.data?.resource && (
        <p>
          <a href={`#/calendar?resourceId=${encodeURIComponent(loaded.data.resource.id)}`}>Open its calendar</a> ·{" "}
          <a href="#/venues">All venues</a>
        </p>
      )}
      {loaded.loading && <Busy />}
      <ErrorAlert error={loaded.error} />
      {saved && !loaded.loading && (
        <p className="notice" role="status">
          Saved.
        </p>
      )}
      {loaded.data && (
        <ResourceForm
          key={loaded.data.resource?.version ?? "new"}
          resource={loaded.data.resource}
          venues={loaded.data.venues}
          venueId={query.get("venueId") ?? ""}
          onSaved={() => {
            setSaved(true);
            loaded.reload();
          }}
        />
      )}
      {loaded.data?.resource && (
        <>
          <Hours resource={loaded.data.resource} onSaved={loaded.reload} />
          <Addons resource={loaded.data.resource} />
        </>
      )}
    </section>
  );
}
