"""The organisation index backfill: bookings stored before GSI5 existed get their organisation listing keys.

Every booking written since carries them (`store.booking_item`). Older ones are found without a scan: every
resource (the RESOURCES partition of GSI2), then each resource's bookings (GSI2), and each one without `GSI5PK`
gets them in a conditional update that never touches a newer version. The timers job runs one bounded step a
minute, resuming from a cursor kept in `MIGRATION#organisation-index / STATE`, until a pass ends (`done`); `make
seed` and the demo loader run it to the end. Two runs at once only repeat conditional, idempotent updates.
"""

from __future__ import annotations

import json
from typing import Any

from slotwise.booking import store
from slotwise.catalog import repository as catalog
from slotwise.data.codec import to_item

RESOURCES_PER_STEP = 25
BOOKINGS_PER_PAGE = 100


def _backfill_resource(resource_id: str) -> int:
    written = 0
    start: dict[str, Any] | None = None
    while True:
        items, start = store.resource_bookings_page(resource_id, limit=BOOKINGS_PER_PAGE, start_key=start)
        written += sum(store.add_organisation_keys(item) for item in items if "GSI5PK" not in item)
        if start is None:
            return written


def backfill_step(resources: int = RESOURCES_PER_STEP) -> dict[str, int]:
    """One bounded step of the backfill (nothing once a pass has ended): how many resources it visited and how
    many bookings it gave keys."""
    state = store.backfill_state() or {}
    if state.get("done"):
        return {"resources": 0, "bookings": 0}
    cursor = state.get("cursor")
    start_key = to_item(json.loads(cursor)) if cursor else None
    ids, last = catalog.resource_ids_page(limit=resources, start_key=start_key)
    written = sum(_backfill_resource(resource_id) for resource_id in ids)
    plain_last = {name: next(iter(value.values())) for name, value in last.items()} if last else None
    store.save_backfill_state(done=last is None, cursor=json.dumps(plain_last) if plain_last else None)
    return {"resources": len(ids), "bookings": written}


def backfill_all() -> int:
    """Run the backfill to its end (the demo loader, `make seed`): the bookings given keys."""
    written = 0
    while True:
        step = backfill_step()
        written += step["bookings"]
        if step["resources"] == 0 or (store.backfill_state() or {}).get("done"):
            return written
