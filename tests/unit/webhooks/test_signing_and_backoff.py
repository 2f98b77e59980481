"""The signature recipe (docs/webhooks.md's, run as documented) and the retry schedule."""

from __future__ import annotations

import itertools
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from slotwise.webhooks import backoff, signing

WEBHOOKS_DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"
BODY = b'{"id":"booking:b-1:2","type":"booking.confirmed","data":{"id":"b-1"},"metadata":{}}'


def documented_verify() -> Any:
    """The verification example of docs/webhooks.md, executed as a receiver would paste it."""
    section = WEBHOOKS_DOC.read_text(encoding="utf-8").split("## Outbound webhooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None, "docs/webhooks.md shows a Python verification example"
    assert len(code.group(1).strip().splitlines()) <= 10
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # our own documentation
    return namespace["verify"]


def test_the_documented_recipe_verifies_a_delivery_and_refuses_tampering() -> None:
    verify = documented_verify()
    secret = signing.new_secret()
    now = int(time.time())
    header = signing.header([secret], now, BODY)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify(secret, header, BODY)
    assert signing.verify(secret, header, BODY)
    tampered = BODY.replace(b"b-1", b"b-2")
    assert not verify(secret, header, tampered)
    assert not signing.verify(secret, header, tampered)
    assert not verify(signing.new_secret(), header, BODY)  # another secret
    moved = header.replace(f"t={now}", f"t={now + 1}")  # a timestamp changed after signing
    assert not verify(secret, moved, BODY)
    stale = signing.header([secret], now - 3600, BODY)  # a replay an hour later
    assert not verify(secret, stale, BODY)
    assert not signing.verify(secret, stale, BODY)


def test_during_a_rotation_either_secret_verifies() -> None:
    verify = documented_verify()
    old, new = signing.new_secret(), signing.new_secret()
    header = signing.header([new, old], int(time.time()), BODY)
    assert header.count("v1=") == 2
    assert verify(new, header, BODY) and verify(old, header, BODY)
    assert not verify(signing.new_secret(), header, BODY)


def test_secrets_are_random_and_recognisable() -> None:
    made = {signing.new_secret() for _ in range(50)}
    assert len(made) == 50
    assert all(s.startswith("whsec_") and len(s) >= 40 for s in made)


T0 = datetime(2027, 1, 1, tzinfo=UTC)


def test_the_planned_schedule() -> None:
    times = backoff.planned_schedule(T0)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[:8] == list(backoff.DELAYS)
    assert all(gap == timedelta(hours=12) for gap in gaps[8:])
    assert len(times) == 13
    assert times[-1] - T0 == timedelta(hours=70, minutes=42, seconds=30)
    assert times[-1] + timedelta(hours=12) - T0 > backoff.RETRY_WINDOW  # no 14th attempt


@given(
    durations=st.lists(st.integers(min_value=0, max_value=6_000), min_size=1, max_size=40),
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
)
def test_retries_back_off_monotonically_capped_and_stop_within_three_days(durations: list[int], start: Any) -> None:
    """Whatever each attempt takes (up to its 5 s timeout and then some), the waits never shrink, never exceed
    12 hours, and no attempt is planned beyond three days after the first."""
    attempted_at = start
    waits: list[timedelta] = []
    for made, took_ms in enumerate(durations, start=1):
        failed_at = attempted_at + timedelta(milliseconds=took_ms)
        due = backoff.next_attempt_at(start, failed_at, made)
        if due is None:
            assert failed_at + backoff.delay_after(made) - start > backoff.RETRY_WINDOW
            break
        waits.append(due - failed_at)
        assert due - start <= backoff.RETRY_WINDOW
        attempted_at = due
    assert waits == sorted(waits)
    assert all(timedelta(seconds=30) <= wait <= backoff.MAX_DELAY for wait in waits)
    assert attempted_at - start <= backoff.RETRY_WINDOW
