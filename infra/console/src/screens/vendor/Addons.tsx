/** A resource's add-ons (breakfast, parking, a projector): create, edit, archive. Prices are integer minor units in
 * the resource's currency. */
import { useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import type { Addon, Resource } from "../../api/types";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { formatMoney, minorToText, parseMoney } from "../../ui/money";
import { useLoad } from "../../ui/useLoad";

type AddonPricing = NonNullable<Addon["pricing"]>;
const PRICINGS: { value: AddonPricing; label: string }[] = [
  { value: "per_booking", label: "per booking" },
  { value: "per_unit", label: "per slot or night" },
  { value: "per_guest", label: "per guest" },
];

function AddonForm({ resource, addon, onDone }: { resource: Resource; addon: Addon | null; onDone(): void }) {
  const currency = resource.pricing.currency;
  const [name, setName] = useState(addon?.name ?? "");
  const [price, setPrice] = useState(addon ? minorToText(addon.price, currency) : "");
  const [pricing, setPricing] = useState<AddonPricing>(addon?.pricing ?? "per_booking");
  const [stock, setStock] = useState(addon?.stock == null ? "" : String(addon.stock));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const minor = parseMoney(price, currency);
      if (minor === null) throw new Error(`The price must be an amount in ${currency}, like 5.00.`);
      const limited = stock.trim() !== "";
      const body = {
        name,
        price: minor,
        pricing,
        description: addon?.description ?? "",
        stock: limited ? Number(stock) : null,
        stockScope: limited ? ((addon?.stockScope as "per_day" | "per_slot" | null | undefined) ?? "per_day") : null,
      };
      setBusy(true);
      if (addon) {
        await unwrap(
          api.PUT("/api/v1/resources/{resourceId}/addons/{addonId}", {
            params: { path: { resourceId: resource.id, addonId: addon.id } },
            body,
          }),
        );
      } else {
        await unwrap(
          api.POST("/api/v1/resources/{resourceId}/addons", { params: { path: { resourceId: resource.id } }, body }),
        );
      }
      onDone();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form wide" onSubmit={submit} aria-busy={busy} aria-label={addon ? `Edit ${addon.name}` : "New add-on"}>
      <label>
        Add-on name
        <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Add-on price ({currency})
        <input required inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} />
      </label>
      <label>
        Charged
        <select value={pricing} onChange={(e) => setPricing(e.target.value as AddonPricing)}>
          {PRICINGS.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Stock per day <span className="hint">empty: unlimited</span>
        <input type="number" min={0} max={10000} value={stock} onChange={(e) => setStock(e.target.value)} />
      </label>
      <div className="actions">
        <button type="submit" disabled={busy}>
          {addon ? "Save add-on" : "Add add-on"}
        </button>
        {addon && (
          <button type="button" className="secondary" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
      {busy && <Busy label="Saving…" />}
      <ErrorAlert error={error} />
    </form>
  );
}

export function Addons({ resource }: { resource: Resource }) {
  const addons = useLoad(
    () =>
      unwrap(api.GET("/api/v1/resources/{resourceId}/addons", { params: { path: { resourceId: resource.id } } })),
    [resource.id],
  );
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const archive = async (addon: Addon) => {
    setError(null);
    try {
      await unwrap(
        api.DELETE("/api/v1/resources/{resourceId}/addons/{addonId}", {
          params: { path: { resourceId: resource.id, addonId: addon.id } },
        }),
      );
      addons.reload();
    } catch (failure) {
      setError(failure);
    }
  };

  const list = (addons.data as { addons?: Addon[] } | null)?.addons ?? [];
  return (
    <section className="card" aria-labelledby="addons-heading">
      <h2 id="addons-heading">Add-ons</h2>
      {addons.loading && <Busy />}
      <ErrorAlert error={addons.error ?? error} />
      {list.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Add-on</th>
                <th scope="col">Price</th>
                <th scope="col">Stock</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((addon) =>
                editing === addon.id ? (
                  <tr key={addon.id}>
                    <td colSpan={5}>
                      <AddonForm
                        resource={resource}
                        addon={addon}
                        onDone={() => {
                          setEditing(null);
                          addons.reload();
                        }}
                      />
                    </td>
                  </tr>
                ) : (
                  <tr key={addon.id}>
                    <td>{addon.name}</td>
                    <td>
                      {formatMoney(addon.price, addon.currency)} {addon.pricing?.replace(/_/g, " ")}
                    </td>
                    <td>{addon.stock ?? "unlimited"}</td>
                    <td>
                      <span className={`badge ${addon.status ?? ""}`}>{addon.status ?? "active"}</span>
                    </td>
                    <td>
                      {addon.status !== "archived" && (
                        <div className="actions">
                          <button type="button" className="secondary" onClick={() => setEditing(addon.id)}>
                            Edit <span className="sr-only">{addon.name}</span>
                          </button>
                          <button type="button" className="danger" onClick={() => void archive(addon)}>
                            Archive <span className="sr-only">{addon.name}</span>
                          </button>
                        </div>
                      )}
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
      {!addons.loading && list.length === 0 && <p>No add-ons yet.</p>}
      <h3>New add-on</h3>
      <AddonForm key={list.length} resource={resource} addon={null} onDone={addons.reload} />
    </section>
  );
}
