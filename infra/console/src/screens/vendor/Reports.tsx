/** Occupancy (per resource and period: sold of sellable) and revenue (per day, month, resource or venue, per
 * currency) from the API's report routes, as bars and as a table. Dates are local dates of each resource. */
import { useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import type { Schemas } from "../../api/types";
import { BarChart } from "../../ui/BarChart";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { formatMoney } from "../../ui/money";
import { addDays } from "../../ui/time";
import { useLoad } from "../../ui/useLoad";
import { myVenues } from "./catalog";

type Granularity = "day" | "week" | "month";
type GroupBy = "day" | "month" | "resource" | "venue";

interface Query {
  venueId: string;
  from: string;
  to: string;
  granularity: Granularity;
  groupBy: GroupBy;
}

function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? "—" : `${Math.round(rate * 100)} %`;
}

function Occupancy({ query }: { query: Query }) {
  const report = useLoad(
    () =>
      unwrap(
        api.GET("/api/v1/reports/occupancy", {
          params: { query: { venueId: query.venueId, from: query.from, to: query.to, granularity: query.granularity } },
        }),
        // JSON unless CSV is asked for with Accept: text/csv (the console never does)
      ) as Promise<Schemas["OccupancyReport"]>,
    [query.venueId, query.from, query.to, query.granularity],
  );
  return (
    <section className="card" aria-labelledby="occupancy-heading" aria-busy={report.loading}>
      <h2 id="occupancy-heading">Occupancy</h2>
      {report.loading && <Busy label="Loading occupancy…" />}
      <ErrorAlert error={report.error} />
      {report.data?.resources.length === 0 && <p>No resources in this venue.</p>}
      {report.data?.resources.map((resource) => (
        <div key={resource.resourceId}>
          <BarChart
            title={`${resource.resourceName}: ${percent(resource.rate)} of ${resource.sellable} ${resource.unit} sold`}
            max={1}
            bars={resource.periods.map((period) => ({
              label: period.period,
              value: period.rate ?? 0,
              shown: `${percent(period.rate)} (${period.sold}/${period.sellable})`,
            }))}
          />
        </div>
      ))}
    </section>
  );
}

function Revenue({ query }: { query: Query }) {
  const report = useLoad(
    () =>
      unwrap(
        api.GET("/api/v1/reports/revenue", {
          params: { query: { venueId: query.venueId, from: query.from, to: query.to, groupBy: query.groupBy } },
        }),
      ) as Promise<Schemas["RevenueReport"]>,
    [query.venueId, query.from, query.to, query.groupBy],
  );
  const currencies = [...new Set(report.data?.rows.map((row) => row.currency) ?? [])];
  return (
    <section className="card" aria-labelledby="revenue-heading" aria-busy={report.loading}>
      <h2 id="revenue-heading">Revenue</h2>
      {report.loading && <Busy label="Loading revenue…" />}
      <ErrorAlert error={report.error} />
      {report.data && report.data.rows.length === 0 && <p>No revenue in this range.</p>}
      {currencies.map((currency) => (
        <BarChart
          key={currency}
          title={`Net revenue (${currency}) by ${query.groupBy}`}
          bars={(report.data?.rows ?? [])
            .filter((row) => row.currency === currency)
            .map((row) => ({ label: row.group, value: Math.max(0, row.net), shown: formatMoney(row.net, currency) }))}
        />
      ))}
      {report.data && report.data.totals.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>Totals</caption>
            <thead>
              <tr>
                <th scope="col">Currency</th>
                <th scope="col">Gross</th>
                <th scope="col">Refunds</th>
                <th scope="col">Net</th>
                <th scope="col">Bookings</th>
                <th scope="col">Cancellations</th>
                <th scope="col">No-shows</th>
              </tr>
            </thead>
            <tbody>
              {report.data.totals.map((total) => (
                <tr key={total.currency}>
                  <td>{total.currency}</td>
                  <td>{formatMoney(total.gross, total.currency)}</td>
                  <td>{formatMoney(total.refunds, total.currency)}</td>
                  <td>{formatMoney(total.net, total.currency)}</td>
                  <td>{total.bookings}</td>
                  <td>{total.cancellations}</td>
                  <td>{total.noShows}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function Reports() {
  const venues = useLoad(myVenues, []);
  const thisDay = new Date().toISOString().slice(0, 10);
  const [draft, setDraft] = useState<Query>({
    venueId: "",
    from: addDays(thisDay, -30),
    to: addDays(thisDay, 30),
    granularity: "week",
    groupBy: "day",
  });
  const [query, setQuery] = useState<Query | null>(null);
  const venueId = draft.venueId || venues.data?.[0]?.id || "";

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setQuery({ ...draft, venueId });
  };
  const shown = query ?? (venueId ? { ...draft, venueId } : null);

  return (
    <section>
      <h1>Reports</h1>
      {venues.loading && <Busy />}
      <ErrorAlert error={venues.error} />
      {venues.data?.length === 0 && <p>No venues yet.</p>}
      {venues.data && venues.data.length > 0 && (
        <form className="toolbar" onSubmit={submit} aria-label="Report range">
          <label>
            Venue
            <select value={venueId} onChange={(e) => setDraft({ ...draft, venueId: e.target.value })}>
              {venues.data.map((venue) => (
                <option key={venue.id} value={venue.id}>
                  {venue.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            From
            <input type="date" required value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
          </label>
          <label>
            To
            <input type="date" required value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
          </label>
          <label>
            Occupancy per
            <select
              value={draft.granularity}
              onChange={(e) => setDraft({ ...draft, granularity: e.target.value as Granularity })}
            >
              <option value="day">day</option>
              <option value="week">week</option>
              <option value="month">month</option>
            </select>
          </label>
          <label>
            Revenue by
            <select value={draft.groupBy} onChange={(e) => setDraft({ ...draft, groupBy: e.target.value as GroupBy })}>
              <option value="day">day</option>
              <option value="month">month</option>
              <option value="resource">resource</option>
              <option value="venue">venue</option>
            </select>
          </label>
          <button type="submit">Show</button>
        </form>
      )}
      {shown && (
        <>
          <Occupancy query={shown} />
          <Revenue query={shown} />
        </>
      )}
    </section>
  );
}
