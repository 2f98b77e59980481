/** User approvals: accounts waiting for an admin (vendors and advisors register `pending_approval`), from
 * `GET /admin/users?status=…`, approved or rejected with `POST /admin/users/{id}/approve|reject`. Other statuses can
 * be listed too (a rejected account may still be approved later). */
import { useEffect, useState } from "react";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { usePages } from "../../ui/usePages";
import "../../ui/screens.css";

type User = components["schemas"]["User"];
type Status = NonNullable<User["status"]>;
type Role = User["role"];

const STATUSES: Status[] = ["pending_approval", "rejected", "suspended", "active"];
const ROLES: (Role | "")[] = ["", "vendor", "advisor", "customer", "staff", "agent", "admin"];

function label(value: string): string {
  return value.replace(/_/g, " ");
}

/** The browser's own zone: an account's creation is not tied to any resource's. */
function when(value: string): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(new Date(value));
}

export function Approvals() {
  const [status, setStatus] = useState<Status>("pending_approval");
  const [role, setRole] = useState<Role | "">("");
  const { items: users, setItems: setUsers, next, error, busy, load: loadPage } = usePages<User>();
  const [done, setDone] = useState<string | null>(null);

  async function load(cursor: string | null) {
    await loadPage(cursor, async (at) => {
      const page = await unwrap(
        api.GET("/api/v1/admin/users", {
          params: { query: { status, role: role || undefined, limit: 50, cursor: at ?? undefined } },
        }),
      );
      return { items: page.users, next: page.pagination.nextCursor };
    });
  }

  useEffect(() => {
    void load(null);
    // Reloaded when a filter changes (`load` reads them).
  }, [status, role]);

  function decided(user: User, verdict: string) {
    setDone(`${user.name} (${user.email}) ${verdict}.`);
    setUsers((before) => before?.filter((one) => one.id !== user.id) ?? null);
  }

  return (
    <section>
      <h1>User approvals</h1>
      <div className="toolbar">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as Status)}>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {label(value)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as Role | "")}>
            {ROLES.map((value) => (
              <option key={value} value={value}>
                {value ? label(value) : "any"}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="secondary" onClick={() => void load(null)} disabled={busy}>
          Refresh
        </button>
      </div>
      <div role="status" aria-live="polite">
        {done && <p className="notice">{done}</p>}
      </div>
      <ErrorAlert error={error} />
      <div aria-busy={busy}>
        {busy && <Busy label="Loading accounts…" />}
        {users && users.length === 0 && <p>No {label(status)} accounts.</p>}
        {users && users.length > 0 && (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Accounts {label(status)}</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">E-mail</th>
                  <th scope="col">Role</th>
                  <th scope="col">Registered</th>
                  <th scope="col">Decision</th>
                </tr>
              </thead>
              <tbody>
                {users.map((user) => (
                  <UserRow key={user.id} user={user} onDecided={decided} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {next && (
          <button type="button" className="secondary" onClick={() => void load(next)} disabled={busy}>
            More
          </button>
        )}
      </div>
    </section>
  );
}

function UserRow({ user, onDecided }: { user: User; onDecided: (user: User, verdict: string) => void }) {
  const [reason, setReason] = useState("");
  const [working, setWorking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const status = user.status ?? "active";

  async function decide(verdict: "approve" | "reject" | "suspend" | "reinstate") {
    setWorking(true);
    setError(null);
    const path = {
      approve: "/api/v1/admin/users/{userId}/approve",
      reject: "/api/v1/admin/users/{userId}/reject",
      suspend: "/api/v1/admin/users/{userId}/suspend",
      reinstate: "/api/v1/admin/users/{userId}/reinstate",
    } as const;
    try {
      await unwrap(
        api.POST(path[verdict], { params: { path: { userId: user.id } }, body: { reason: reason.trim() } }),
      );
      onDecided(user, { approve: "approved", reject: "rejected", suspend: "suspended", reinstate: "reinstated" }[verdict]);
    } catch (failure) {
      setError(failure);
      setWorking(false);
    }
  }

  return (
    <tr data-user={user.email}>
      <td>{user.name}</td>
      <td>{user.email}</td>
      <td>{label(user.role)}</td>
      <td>{when(user.createdAt)}</td>
      <td>
        <div className="actions">
          {(status === "pending_approval" || status === "rejected") && (
            <button type="button" onClick={() => void decide("approve")} disabled={working}>
              Approve<span className="visually-hidden"> {user.email}</span>
            </button>
          )}
          {status === "pending_approval" && (
            <button type="button" className="danger" onClick={() => void decide("reject")} disabled={working}>
              Reject<span className="visually-hidden"> {user.email}</span>
            </button>
          )}
          {status === "active" && (
            <button type="button" className="danger" onClick={() => void decide("suspend")} disabled={working}>
              Suspend<span className="visually-hidden"> {user.email}</span>
            </button>
          )}
          {status === "suspended" && (
            <button type="button" onClick={() => void decide("reinstate")} disabled={working}>
              Reinstate<span className="visually-hidden"> {user.email}</span>
            </button>
          )}
        </div>
        <label className="compact">
          <span className="visually-hidden">Reason for {user.email}</span>
          <input
            placeholder="reason (optional)"
            value={reason}
            maxLength={500}
            onChange={(e) => setReason(e.target.value)}
          />
        </label>
        {working && <Busy label="Saving…" />}
        <ErrorAlert error={error} />
      </td>
    </tr>
  );
}
