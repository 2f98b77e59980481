"""`make dev` demo users sign in with their known local passwords."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra.local import demo_data
from slotwise.identity.models import User
from slotwise.identity.repository import get_user, put_user
from tests.support.http import call


@pytest.mark.parametrize("role", ["admin", "vendor", "staff", "agent", "advisor", "customer"])
def test_each_demo_user_can_log_in(table: str, role: str) -> None:
    demo_data.load()
    response = call(
        "POST",
        "/api/v1/auth/login",
        body={"email": f"{role}@demo.slotwise.test", "password": f"slotwise-demo-{role}"},
    )
    assert response.status == 200, response.body
    assert (response.body["user"]["id"], response.body["user"]["role"]) == (f"demo-{role}", role)
    me = call("GET", "/api/v1/users/me", headers={"authorization": f"Bearer {response.body['accessToken']}"})
    assert me.status == 200 and me.body["role"] == role


def test_demo_users_stored_without_a_password_get_one(table: str) -> None:
    """A table kept with PERSIST=1 from before passwords existed: loading again gives the users their password."""
    assert put_user(
        User(
            id="demo-customer",
            email="customer@demo.slotwise.test",
            name="Demo Customer",
            role="customer",
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )
    counts = demo_data.load()
    assert counts["users"] == 5  # the other five are new; the customer existed
    stored = get_user("demo-customer")
    assert stored is not None and stored.password_hash is not None
    body = {"email": "customer@demo.slotwise.test", "password": "slotwise-demo-customer"}
    assert call("POST", "/api/v1/auth/login", body=body).status == 200
