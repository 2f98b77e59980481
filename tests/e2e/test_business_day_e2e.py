"""A business's day through the API, end to end on the local runtime (`make dev`'s demo data, over HTTP): the demo
vendor's organisation runs a hostel and an airline desk.

Its staff member sees every booking of the organisation and cancels one for a guest (the guest gets everything
back); its agent books seats for a customer and sees what they made; the owner reads occupancy and revenue, as
JSON and as CSV, kept from the event stream. Figures are compared before and after, so the demo data's own
bookings do not matter.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.e2e.journey import demo, until
from tests.e2e.runtime import Runtime, running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(tmp_path_factory.mktemp("business-runtime")) as started:
        yield started


def test_a_hostel_and_an_airline_desk_run_their_day(runtime: Runtime) -> None:
    api = f"{runtime.base}/api/v1"
    owner, staff, agent, guest = (demo(runtime, role) for role in ("vendor", "staff", "agent", "customer"))

    mine = requests.get(f"{api}/organisations/me", headers=staff, timeout=10).json()
    assert mine["role"] == "staff"
    organisation = mine["id"]
    members = requests.get(f"{api}/organisations/{organisation}/members", headers=owner, timeout=10).json()
    assert {m["role"] for m in members["members"]} == {"staff", "agent"}

    dorm = next(
        r
        for r in requests.get(f"{api}/resources", params={"type": "dorm"}, timeout=10).json()["resources"]
        if r["name"] == "8-bed dorm"
    )
    night = (datetime.now(UTC) + timedelta(days=45)).date()
    span = {"from": night.isoformat(), "to": night.isoformat()}

    def occupancy() -> dict[str, Any]:
        report = requests.get(
            f"{api}/reports/occupancy", params={**span, "resourceId": dorm["id"]}, headers=owner, timeout=10
        )
        assert report.status_code == 200, report.text
        [row] = report.json()["resources"]
        return dict(row)

    def revenue() -> dict[str, int]:
        report = requests.get(
            f"{api}/reports/revenue", params={**span, "groupBy": "resource"}, headers=staff, timeout=10
        )
        assert report.status_code == 200, report.text
        rows = [r for r in report.json()["rows"] if r["group"] == dorm["id"] and r["currency"] == "EUR"]
        return {k: int(rows[0][k]) if rows else 0 for k in ("gross", "refunds", "net", "bookings", "cancellations")}

    sold_before, money_before = occupancy()["sold"], revenue()

    # Two guests book a bed for the night and pay (the simulated provider's webhook confirms).
    booked = []
    for _ in range(2):
        made = requests.post(
            f"{api}/bookings",
            json={
                "resourceId": dorm["id"],
                "checkIn": night.isoformat(),
                "checkOut": (night + timedelta(days=1)).isoformat(),
            },
            headers=guest,
            timeout=10,
        )
        assert made.status_code == 201, made.text
        paying = requests.post(f"{api}/bookings/{made.json()['id']}/payment", json={}, headers=guest, timeout=10)
        assert paying.status_code == 201, paying.text
        payment = paying.json()["payment"]
        assert requests.post(f"{api}/dev/payments/{payment['id']}/succeed", json={}, headers=guest).status_code == 200
        booked.append(made.json())
    price = booked[0]["price"]["amount"]

    # The staff member sees them in the organisation's list (newest first, no resource named) and by resource.
    def listed(params: dict[str, str]) -> set[str]:
        page = requests.get(f"{api}/bookings", params=params, headers=staff, timeout=10)
        assert page.status_code == 200, page.text
        return {b["id"] for b in page.json()["bookings"]}

    assert {b["id"] for b in booked} <= listed({"venueId": dorm["venueId"], "limit": "50"})
    until(
        lambda: all(
            requests.get(f"{api}/bookings/{b['id']}", headers=staff, timeout=10).json()["status"] == "confirmed"
            for b in booked
        )
    )

    # One guest cannot come: the staff member cancels it for them, and the whole amount goes back.
    cancelled = requests.post(f"{api}/bookings/{booked[1]['id']}/cancel", json={}, headers=staff, timeout=10)
    assert cancelled.status_code == 200, cancelled.text
    [gone] = cancelled.json()["cancelled"]
    assert gone["status"] == "cancelled"

    # The airline desk's agent books two seats for the customer and finds them among what they made.
    economy = next(
        r
        for r in requests.get(f"{api}/resources", params={"origin": "LHR", "destination": "JFK"}).json()["resources"]
        if r["name"] == "Economy"
    )
    customer_id = requests.get(f"{api}/users/me", headers=guest, timeout=10).json()["id"]
    seats = requests.post(
        f"{api}/bookings", json={"resourceId": economy["id"], "quantity": 2, "customerId": customer_id}, headers=agent
    )
    assert seats.status_code == 201, seats.text
    made_by_agent = requests.get(f"{api}/bookings", headers=agent, timeout=10).json()["bookings"]
    assert seats.json()["id"] in {b["id"] for b in made_by_agent}
    assert seats.json()["id"] in listed({"resourceId": economy["id"]})

    # The owner's reports: one bed sold that night; two paid, one refunded in full.
    until(lambda: occupancy()["sold"] == sold_before + 1)
    expected = {
        "gross": money_before["gross"] + 2 * price,
        "refunds": money_before["refunds"] + price,
        "net": money_before["net"] + price,
        "bookings": money_before["bookings"] + 2,
        "cancellations": money_before["cancellations"] + 1,
    }
    until(lambda: revenue() == expected)
    as_csv = requests.get(
        f"{api}/reports/revenue",
        params={**span, "groupBy": "resource"},
        headers={**owner, "Accept": "text/csv"},
        timeout=10,
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert any(r["group"] == dorm["id"] and int(r["gross"]) == expected["gross"] for r in rows), rows
