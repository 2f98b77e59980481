"""What one booking contributes to the reports, as a pure function of the booking (one version of it).

The aggregates (`slotwise.reports.aggregator`) store, per booking, the contribution of the last version they
applied, and add to the period items the difference between the new version's contribution and that one. The
figures are therefore a function of each booking's latest version, whatever order or how often its events come.

  sold units       per local day of the resource's timezone, while the booking is confirmed, completed or a no-show:
                   nights x quantity (unit `night`), seats = quantity on the departure's day (unit `fixed`),
                   minutes x quantity split at local midnights (unit `minutes`; reports show hours)
  money, counts    on the booking's first local day (check-in date, or the start's date), in its currency:
    gross          what was paid (the payment summary's `amountPaid`; nothing while unpaid or for a failed payment)
    refunds        what was given back (`amountRefunded`, card and wallet together)
    walletCredits  the part of `refunds` credited to the customer's wallet (`walletRefunded`; a card refund that
                   fails later is added by its own event, `slotwise.reports.aggregator`)
    bookings       1 when confirmed, completed, no-show, or counted as a cancellation
    cancellations  1 when cancelled by a person (the customer, an agent or the operator); a booking the system
                   cancelled because its payment failed is neither a booking nor a cancellation
    noShows        1 when a no-show

Expired, rejected, held and pending bookings contribute nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SOLD: frozenset[str] = frozenset({"confirmed", "completed", "no_show"})
# Money and counts of one (day, currency), in the order reports show them.
MONEY_FIELDS: tuple[str, ...] = ("gross", "refunds", "walletCredits", "bookings", "cancellations", "noShows")
DAY = timedelta(days=1)

# {"units": {"YYYY-MM-DD": n}, "money": {"YYYY-MM-DD#CUR": {field: n}}}, zero entries left out.
Contribution = dict[str, dict[str, Any]]


def empty() -> Contribution:
    return {"units": {}, "money": {}}


def _instant(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def units_by_day(booking: dict[str, Any], unit: str) -> dict[str, int]:
    """Sold units per local day (nights, seats or minutes, times the booking's quantity)."""
    quantity = int(booking.get("quantity", 1))
    zone = ZoneInfo(str(booking["timezone"]))
    if unit == "night" or booking.get("checkIn"):
        first, last = date.fromisoformat(str(booking["checkIn"])), date.fromisoformat(str(booking["checkOut"]))
        return {(first + n * DAY).isoformat(): quantity for n in range((last - first).days)}
    start, end = _instant(booking["startTime"]), _instant(booking["endTime"])
    if unit == "fixed":
        return {start.astimezone(zone).date().isoformat(): quantity}
    found: dict[str, int] = {}
    cursor = start
    while cursor < end:
        local_day = cursor.astimezone(zone).date()
        # Elapsed minutes up to the next local midnight: a 23- or 25-hour day counts what really passed.
        midnight = datetime.combine(local_day + DAY, time(0), tzinfo=zone).astimezone(UTC)
        piece_end = min(end, midnight)
        minutes = int((piece_end - cursor).total_seconds() // 60)
        if minutes:
            found[local_day.isoformat()] = found.get(local_day.isoformat(), 0) + minutes * quantity
        cursor = piece_end
    return found


def first_day(booking: dict[str, Any]) -> str:
    if booking.get("checkIn"):
        return str(booking["checkIn"])
    return _instant(booking["startTime"]).astimezone(ZoneInfo(str(booking["timezone"]))).date().isoformat()


def is_cancellation(booking: dict[str, Any]) -> bool:
    """Cancelled by someone: the system's own cancellation of an unpaid booking (a failed payment) is not one."""
    if booking.get("status") != "cancelled":
        return False
    cancellation = booking.get("cancellation") or {}
    return cancellation.get("by") is not None or booking.get("payment") is not None


def contribution(booking: dict[str, Any], unit: str) -> Contribution:
    """The booking's figures (its API shape, as in its events' `data`) for a resource booked by `unit`."""
    status = str(booking.get("status"))
    result = empty()
    if status in SOLD:
        result["units"] = {day: n for day, n in units_by_day(booking, unit).items() if n}
    payment = booking.get("payment") or {}
    paid = payment and payment.get("state") != "unpaid"
    cancelled = is_cancellation(booking)
    money = {
        "gross": int(payment.get("amountPaid", 0)) if paid else 0,
        "refunds": int(payment.get("amountRefunded", 0)) if paid else 0,
        "walletCredits": int(payment.get("walletRefunded", 0)) if paid else 0,
        "bookings": 1 if status in SOLD or cancelled else 0,
        "cancellations": 1 if cancelled else 0,
        "noShows": 1 if status == "no_show" else 0,
    }
    money = {name: value for name, value in money.items() if value}
    if money:
        currency = str(payment.get("currency") or (booking.get("price") or {}).get("currency") or "XXX")
        result["money"] = {f"{first_day(booking)}#{currency}": money}
    return result


def units_delta(old: Contribution, new: Contribution) -> dict[str, int]:
    """Per day, what to add to move the period items from `old` to `new` (zero days left out)."""
    days = set(old["units"]) | set(new["units"])
    delta = {day: int(new["units"].get(day, 0)) - int(old["units"].get(day, 0)) for day in days}
    return {day: n for day, n in delta.items() if n}


def money_delta(old: Contribution, new: Contribution) -> dict[str, dict[str, int]]:
    """Per `day#currency`, per money field, what to add (zero fields and keys left out)."""
    found: dict[str, dict[str, int]] = {}
    for key in set(old["money"]) | set(new["money"]):
        before, after = old["money"].get(key, {}), new["money"].get(key, {})
        fields = {name: int(after.get(name, 0)) - int(before.get(name, 0)) for name in MONEY_FIELDS}
        fields = {name: n for name, n in fields.items() if n}
        if fields:
            found[key] = fields
    return found
