"""Accounts made for an organisation: a vendor adds staff or agents by an e-mail no account uses
(`POST /organisations/{id}/members`) or makes them with `POST /admin/users` + `organisationId`. The account, its
set-password link and the membership are one transaction; the holder signs in after choosing a password."""

from __future__ import annotations

from typing import Any

import pytest

from slotwise.identity.repository import get_user_by_email
from tests.support.http import call
from tests.unit.authz.world import snapshot
from tests.unit.identity.conftest import make_user
from tests.unit.identity.test_account_links_api import (
    LOGIN,
    NEW_PASSWORD,
    SET,
    USERS,
    Clock,
    Outbox,
    clock,  # noqa: F401  (fixtures shared with the account-link tests)
    outbox,  # noqa: F401
)

API = "/api/v1"
VENDOR = {"user": "vendor-1", "role": "vendor"}
ORG = "org-vendor-1"
MEMBERS = f"{API}/organisations/{ORG}/members"


@pytest.fixture
def vendor(outbox: Outbox, clock: Clock) -> Outbox:  # noqa: F811
    make_user("vendor-1", email="owner@hostel.test", role="vendor")  # stores the profile
    make_user("vendor-2", email="rival@hostel.test", role="vendor")
    # Both organisations exist (their first use creates them), so later snapshots compare like with like.
    assert call("GET", f"{API}/organisations/me", **VENDOR).status == 200
    assert call("GET", f"{API}/organisations/me", user="vendor-2", role="vendor").status == 200
    return outbox


def member_ids() -> list[str]:
    listed = call("GET", MEMBERS, **VENDOR)
    assert listed.status == 200, listed.body
    return sorted(m["userId"] for m in listed.body["members"])


def choose_password_and_sign_in(mail: Outbox, address: str) -> dict[str, Any]:
    purpose, token = mail.link(address)
    assert purpose == "set"
    assert call("POST", SET, body={"token": token, "password": NEW_PASSWORD}, source_ip="198.51.100.9").status == 204
    signed_in = call("POST", LOGIN, body={"email": address, "password": NEW_PASSWORD}, source_ip="198.51.100.7")
    assert signed_in.status == 200, signed_in.body
    return dict(signed_in.body["user"])


def test_a_member_added_by_an_unknown_e_mail_gets_an_account_and_a_link(vendor: Outbox) -> None:
    added = call("POST", MEMBERS, body={"email": "Bea@Hostel.test", "role": "staff", "name": "Bea Reception"}, **VENDOR)
    assert added.status == 201, added.body
    account = get_user_by_email("bea@hostel.test")
    assert account is not None and (account.role, account.name, account.password_hash) == (
        "staff",
        "Bea Reception",
        None,
    )
    assert added.body["userId"] == account.id and member_ids() == [account.id]
    user = choose_password_and_sign_in(vendor, "bea@hostel.test")
    mine = call("GET", f"{API}/organisations/me", user=user["id"], role="staff").body
    assert (mine["id"], mine["role"]) == (ORG, "staff")


def test_a_vendor_makes_staff_and_agents_through_admin_users(vendor: Outbox) -> None:
    made = call(
        "POST",
        USERS,
        body={"email": "ana@hostel.test", "name": "Ana Agent", "role": "agent", "organisationId": ORG},
        **VENDOR,
    )
    assert made.status == 201, made.body
    assert made.body["role"] == "agent" and member_ids() == [made.body["id"]]
    choose_password_and_sign_in(vendor, "ana@hostel.test")


@pytest.mark.parametrize(
    ("body", "caller", "expected"),
    [
        # another vendor's organisation looks missing
        ({"organisationId": "org-vendor-2"}, VENDOR, (404, "organisation_not_found")),
        # an organisation's accounts are staff or agents
        ({"organisationId": ORG, "role": "advisor"}, VENDOR, (422, "member_role_mismatch")),
        # without an organisation only admins make accounts
        ({}, VENDOR, (403, "permission_denied")),
        # staff never make accounts, even for their own organisation
        ({"organisationId": ORG}, {"user": "staff-x", "role": "staff"}, (403, "permission_denied")),
        ({"organisationId": ORG}, {"user": "cust", "role": "customer"}, (403, "permission_denied")),
    ],
)
def test_accounts_for_an_organisation_are_refused_and_write_nothing(
    vendor: Outbox, table: str, body: dict[str, Any], caller: dict[str, str], expected: tuple[int, str]
) -> None:
    before = snapshot(table)
    request = {"email": "new@hostel.test", "name": "New", "role": "staff", **body}
    refused = call("POST", USERS, body=request, **caller)
    assert (refused.status, refused.code) == expected, refused.body
    assert snapshot(table) == before
    assert not vendor.messages()


def test_an_e_mail_in_use_is_a_409_and_joins_nobody(vendor: Outbox, table: str) -> None:
    make_user("cust-1", email="taken@hostel.test", role="customer")
    before = snapshot(table)
    body = {"email": "taken@hostel.test", "name": "Taken", "role": "staff", "organisationId": ORG}
    taken = call("POST", USERS, body=body, **VENDOR)
    assert (taken.status, taken.code) == (409, "email_taken")
    assert snapshot(table) == before and member_ids() == []
