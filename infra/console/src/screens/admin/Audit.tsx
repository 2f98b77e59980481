/** The audit log (`GET /admin/audit`): the entries of one target (`booking:<id>`, `user:<id>`…) or one actor,
 * optionally within a period, newest first, a page at a time (cursor). The API has no global feed (it would put
 * every write on one index partition), so a target or an actor is required. */
import { useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { usePages } from "../../ui/usePages";
import "../../ui/screens.css";

type Entry = components["schemas"]["AuditEntry"];

// slotwise.audit.log.TARGET_TYPES (H3's ops routes may add a type: the id field takes `type:id` too).
const TARGET_TYPES = [
  "booking",
  "user",
  "venue",
  "resource",
  "addon",
  "series",
  "payment",
  "refund",
  "top_up",
  "review",
  "message",
  "webhook",
  "notification",
  "notice",
  "organisation",
];

function when(value: string): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" }).format(new Date(value));
}

/** A date input's day as the API's instant (the day's start or end in UTC). */
function instant(date: string, end: boolean): string | undefined {
  if (!date) return undefined;
  return end ? `${date}T23:59:59Z` : `${date}T00:00:00Z`;
}

/** `booking:abc`; an id typed with its own `type:` prefix is taken as it is. */
function target(type: string, id: string): string {
  return /^[a-z_]+:/.test(id) ? id : `${type}:${id}`;
}

export function Audit({ initial }: { initial: URLSearchParams }) {
  const [targetType, setTargetType] = useState(initial.get("type") ?? "booking");
  const [targetId, setTargetId] = useState(initial.get("id") ?? "");
  const [actor, setActor] = useState(initial.get("actor") ?? "");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const { items: entries, next, error, setError, busy, load: loadPage } = usePages<Entry>();

  async function load(cursor: string | null) {
    if (!targetId.trim() && !actor.trim()) {
      setError("Give a target id or an actor: the audit log is read per target or per actor.");
      return;
    }
    await loadPage(cursor, async (at) => {
      const page = await unwrap(
        api.GET("/api/v1/admin/audit", {
          params: {
            query: {
              target: targetId.trim() ? target(targetType, targetId.trim()) : undefined,
              actor: actor.trim() || undefined,
              from: instant(from, false),
              to: instant(to, true),
              limit: 50,
              cursor: at ?? undefined,
            },
          },
        }),
      );
      return { items: page.entries, next: page.pagination.nextCursor };
    });
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void load(null);
  }

  return (
    <section>
      <h1>Audit log</h1>
      <form className="form wide" onSubmit={submit} aria-label="Audit filters">
        <label>
          Target type
          <select value={targetType} onChange={(e) => setTargetType(e.target.value)}>
            {TARGET_TYPES.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
        </label>
        <label>
          Target id
          <input value={targetId} maxLength={180} onChange={(e) => setTargetId(e.target.value)} />
        </label>
        <label>
          or actor <span className="hint">(a user id)</span>
          <input value={actor} maxLength={200} onChange={(e) => setActor(e.target.value)} />
        </label>
        <label>
          From
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} min={from || undefined} onChange={(e) => setTo(e.target.value)} />
        </label>
        <div className="actions">
          <button type="submit" disabled={busy}>
            Show entries
          </button>
        </div>
      </form>
      <ErrorAlert error={error} />
      <div aria-busy={busy}>
        {busy && <Busy label="Reading the audit log…" />}
        {entries && entries.length === 0 && <p>No entries.</p>}
        {entries && entries.length > 0 && (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Audit entries, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When (your time)</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Result</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <tr key={entry.id}>
                    <td>{when(entry.at)}</td>
                    <td>
                      {entry.actor}
                      {entry.role ? <span className="hint"> ({entry.role})</span> : null}
                    </td>
                    <td>{entry.action}</td>
                    <td>
                      {entry.targetType}:{entry.targetId}
                    </td>
                    <td>
                      <span className={`badge ${entry.result === "success" ? "confirmed" : "cancelled"}`}>
                        {entry.result}
                      </span>
                    </td>
                    <td>
                      {entry.detail && Object.keys(entry.detail).length > 0 ? (
                        <details>
                          <summary>detail</summary>
                          <pre className="json">{JSON.stringify(entry.detail, null, 2)}</pre>
                        </details>
                      ) : (
                        "—"
                      )}
                      {entry.requestId && <div className="hint">request {entry.requestId}</div>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {next && (
          <button type="button" className="secondary" onClick={() => void load(next)} disabled={busy}>
            Older entries
          </button>
        )}
      </div>
    </section>
  );
}
