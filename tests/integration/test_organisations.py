"""Organisations on DynamoDB Local: the membership conditions (one organisation per member, concurrent adds,
removing a non-member) and the organisation booking listing on GSI5 (pages, filters, newest first)."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotwise import errors
from slotwise.accounts import members, messages
from slotwise.booking import create, queries
from slotwise.booking.models import Booking, BookingCreate
from slotwise.identity.models import Caller, User
from slotwise.identity.repository import put_user
from slotwise.organisations import service as organisations
from slotwise.organisations.service import MemberInput
from tests.support.catalog import VENDOR, make_resource

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
START = datetime(2027, 6, 7, 9, 0, tzinfo=UTC)
OWNER = Caller(VENDOR, "vendor")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def account(user_id: str, role: str = "staff") -> None:
    assert put_user(User(id=user_id, email=f"{user_id}@x.test", name=user_id, role=role, created_at=EPOCH))  # type: ignore[arg-type]


def vendor(n: int) -> Caller:
    account(f"vendor-{n}", "vendor")
    return Caller(f"vendor-{n}", "vendor")


def add(owner: Caller, user_id: str, role: str = "staff") -> str:
    """The outcome of one add: "added" or the refusal's code."""
    try:
        organisations.add_member(
            owner, f"org-{owner.user_id}", MemberInput.model_validate({"email": f"{user_id}@x.test", "role": role})
        )
    except errors.SlotwiseError as refused:
        return refused.code
    return "added"


def items(table: str, pk_prefix: str) -> list[dict[str, object]]:
    found = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return [i for i in found if i["PK"]["S"].startswith(pk_prefix)]


def test_concurrent_adds_of_one_member_to_many_organisations_let_exactly_one_in(local_table: str) -> None:
    owners = [vendor(n) for n in range(8)]
    account("staff-1")
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda owner: add(owner, "staff-1"), owners))
    assert Counter(outcomes) == {"added": 1, "already_member": 7}
    winner = owners[outcomes.index("added")]
    membership = organisations.membership_of(Caller("staff-1", "staff"))
    assert membership is not None and membership.organisation_id == f"org-{winner.user_id}"
    # Exactly one member item exists, in the winner's organisation, and one audit entry for it.
    members = [i for i in items(local_table, "ORG#") if i["SK"]["S"].startswith("MEMBER#")]  # type: ignore[index]
    assert [m["PK"]["S"] for m in members] == [f"ORG#org-{winner.user_id}"]  # type: ignore[index]
    audits = [
        i for i in items(local_table, "AUDIT#organisation:") if i.get("action") == {"S": "organisation.member_add"}
    ]
    assert len(audits) == 1


def test_concurrent_adds_to_one_organisation_write_one_member(local_table: str) -> None:
    owner = vendor(1)
    account("staff-2")
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(lambda _: add(owner, "staff-2"), range(6)))
    assert Counter(outcomes) == {"added": 1, "already_member": 5}
    assert len(organisations.list_members(owner, "org-vendor-1", limit=10, cursor=None).members) == 1


def test_removing_a_non_member_writes_nothing_and_a_member_in_another_organisation_stays(local_table: str) -> None:
    first, second = vendor(1), vendor(2)
    account("staff-3")
    assert add(first, "staff-3") == "added"
    organisations.get_my_organisation(second)  # its organisation exists (it is created on first use)
    before = boto3.client("dynamodb").scan(TableName=local_table)["Items"]
    with pytest.raises(errors.NotFound) as refused:
        organisations.remove_member(second, "org-vendor-2", "staff-3")
    assert refused.value.code == "member_not_found"
    with pytest.raises(errors.NotFound):
        organisations.remove_member(first, "org-vendor-1", "nobody")
    assert sorted(map(repr, boto3.client("dynamodb").scan(TableName=local_table)["Items"])) == sorted(map(repr, before))
    assert organisations.membership_of(Caller("staff-3", "staff")) is not None
    organisations.remove_member(first, "org-vendor-1", "staff-3")
    assert organisations.membership_of(Caller("staff-3", "staff")) is None
    assert add(second, "staff-3") == "added"  # free to join another organisation once removed


def test_concurrent_removals_remove_once(local_table: str) -> None:
    owner = vendor(1)
    account("staff-4")
    assert add(owner, "staff-4") == "added"

    def remove(_: int) -> str:
        try:
            organisations.remove_member(owner, "org-vendor-1", "staff-4")
        except errors.NotFound as refused:
            return refused.code
        return "removed"

    with ThreadPoolExecutor(max_workers=5) as pool:
        outcomes = Counter(pool.map(remove, range(5)))
    assert outcomes == {"removed": 1, "member_not_found": 4}
    assert not [i for i in items(local_table, "USER#staff-4") if i["SK"]["S"] == "ORGMEMBER"]  # type: ignore[index]


# ------------------------------------------------------------------------------------------- the GSI5 listing


def booked(resource_id: str, hours: int, customer: str) -> Booking:
    start = START + timedelta(hours=hours)
    data = BookingCreate.model_validate(
        {"resourceId": resource_id, "startTime": start, "endTime": start + timedelta(hours=1)}
    )
    return create.create_booking(Caller(customer, "customer"), data).booking


def all_pages(caller: Caller, limit: int, **filters: object) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        found, cursor = queries.list_bookings(caller, limit=limit, cursor=cursor, **filters)  # type: ignore[arg-type]
        pages.append([b.id for b in found])
        if cursor is None:
            return pages


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    hours=st.lists(st.integers(min_value=0, max_value=200), min_size=1, max_size=9, unique=True),
    limit=st.integers(min_value=1, max_value=5),
    customers=st.integers(min_value=1, max_value=3),
)
def test_the_organisation_listing_pages_newest_first_with_every_filter(
    local_table: str, hours: list[int], limit: int, customers: int
) -> None:
    """Any bookings, any page size: pages join to the filtered set, newest first, no booking twice or skipped; and
    another vendor's organisation lists none of them."""
    rooms = [make_resource(), make_resource()]
    made = [booked(rooms[n % 2].id, h, f"cust-{n % customers}") for n, h in enumerate(hours)]
    staff = Caller("staff-l", "staff")
    put_user(User(id="staff-l", email="staff-l@x.test", name="L", role="staff", created_at=EPOCH))  # once per table
    assert add(OWNER, "staff-l") == "added"
    try:
        newest_first = sorted(made, key=lambda b: (b.start_time, b.id), reverse=True)
        for who in (OWNER, staff):
            pages = all_pages(who, limit)
            assert [i for page in pages for i in page] == [b.id for b in newest_first]
            assert all(len(page) <= limit for page in pages)
        for field, value, keep in (
            ("venue_id", rooms[0].venue_id, lambda b: b.venue_id == rooms[0].venue_id),
            ("customer_id", "cust-0", lambda b: b.customer_id == "cust-0"),
            ("status", "confirmed", lambda b: True),
            ("status", "cancelled", lambda b: False),
        ):
            pages = all_pages(staff, limit, **{field: value})
            assert [i for page in pages for i in page] == [b.id for b in newest_first if keep(b)], field
        low, high = START + timedelta(hours=50), START + timedelta(hours=150)
        window = all_pages(OWNER, limit, frm=low, to=high)
        assert [i for page in window for i in page] == [b.id for b in newest_first if low <= b.start_time <= high]
        assert all_pages(Caller("vendor-other", "vendor"), limit) == [[]]
    finally:
        organisations.remove_member(OWNER, f"org-{VENDOR}", "staff-l")
        client = boto3.client("dynamodb")
        for booking in made:
            client.delete_item(
                TableName=local_table, Key={"PK": {"S": f"BOOKING#{booking.id}"}, "SK": {"S": "BOOKING"}}
            )


def test_the_backfill_gives_older_bookings_their_organisation_keys_once(local_table: str) -> None:
    """Bookings stored before GSI5 (simulated by removing its keys) are found resource by resource, without a scan,
    and listed afterwards; a second pass and later timers runs change nothing."""
    from slotwise.booking import backfill

    rooms = [make_resource() for _ in range(3)]
    made = [booked(rooms[n % 3].id, n, "cust-b") for n in range(7)]
    client = boto3.client("dynamodb")
    for booking in made[:5]:
        client.update_item(
            TableName=local_table,
            Key={"PK": {"S": f"BOOKING#{booking.id}"}, "SK": {"S": "BOOKING"}},
            UpdateExpression="REMOVE GSI5PK, GSI5SK",
        )
    listed, _ = queries.list_bookings(OWNER, limit=50)
    assert {b.id for b in listed} == {b.id for b in made[5:]}
    steps = [backfill.backfill_step(resources=2) for _ in range(3)]
    assert [s["resources"] for s in steps] == [2, 1, 0]
    assert sum(s["bookings"] for s in steps) == 5
    listed, _ = queries.list_bookings(OWNER, limit=50)
    assert [b.id for b in listed] == [b.id for b in sorted(made, key=lambda b: b.start_time, reverse=True)]
    assert backfill.backfill_all() == 0
    item = client.get_item(TableName=local_table, Key={"PK": {"S": f"BOOKING#{made[0].id}"}, "SK": {"S": "BOOKING"}})
    assert item["Item"]["GSI5SK"] == item["Item"]["GSI2SK"]


def test_concurrent_invitations_of_one_new_e_mail_make_one_account_with_one_membership(
    local_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`accounts.members.add_member` for an address no account uses: the account, its link and the membership
    are one transaction, so of 6 organisations racing to make the same new person exactly one does, and no
    account is left without its membership (nor a membership without its account)."""
    monkeypatch.setattr(messages, "send", lambda *args, **kwargs: None)  # SES is not what this judges
    owners = [vendor(n) for n in range(6)]
    for owner in owners:
        organisations.get_my_organisation(owner)  # each organisation exists before the race

    def invite(owner: Caller) -> str:
        body = MemberInput.model_validate({"email": "new-person@x.test", "role": "staff", "name": "New"})
        try:
            members.add_member(owner, f"org-{owner.user_id}", body)
        except errors.SlotwiseError as refused:
            return refused.code
        return "added"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = Counter(pool.map(invite, owners))
    # The losers either saw the address taken by the winner's account (409) or found that account already a member.
    assert outcomes["added"] == 1 and set(outcomes) <= {"added", "email_taken", "already_member"}
    emails = items(local_table, "EMAIL#new-person@x.test")
    assert len(emails) == 1
    user_id = emails[0]["userId"]["S"]  # type: ignore[index]
    guards = [i for i in items(local_table, f"USER#{user_id}") if i["SK"]["S"] == "ORGMEMBER"]  # type: ignore[index]
    member_items = [i for i in items(local_table, "ORG#") if i["SK"]["S"] == f"MEMBER#{user_id}"]  # type: ignore[index]
    assert len(guards) == 1 and len(member_items) == 1
    assert guards[0]["organisationId"]["S"] == member_items[0]["organisationId"]["S"]  # type: ignore[index]
