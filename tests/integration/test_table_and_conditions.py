"""The shared table definition and the skeleton's condition expressions, on DynamoDB Local."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from events import load
from functions.health.handler import lambda_handler
from infra.local.lambda_context import LocalLambdaContext
from slotwise import errors
from slotwise.catalog import repository
from slotwise.catalog.models import Venue
from slotwise.identity.models import User
from slotwise.identity.repository import put_user
from slotwise.settings import get_settings


def test_table_matches_topology_on_the_real_engine(local_table: str) -> None:
    table = boto3.client("dynamodb", endpoint_url=None).describe_table(TableName=local_table)["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2", "GSI3", "GSI4", "GSI5"}
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["LatestStreamArn"]


def test_health_is_ok_against_dynamodb_local(local_table: str) -> None:
    response = lambda_handler(load("http/health_get"), LocalLambdaContext(function_name="health"))
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["checks"]["dynamodb"]["status"] == "ok"


def test_health_is_degraded_when_table_is_gone(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOTWISE_TABLE_NAME", "slotwise-missing")
    get_settings.cache_clear()
    response = lambda_handler(load("http/health_get"), LocalLambdaContext(function_name="health"))
    assert response["statusCode"] == 503


def _venue(version: int = 1, name: str = "Hall") -> Venue:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    return Venue(
        id="v-1",
        owner_id="u-1",
        name=name,
        city="Lisbon",
        timezone="Europe/Lisbon",
        created_at=now,
        updated_at=now,
        version=version,
    )


def test_create_is_conditional_on_absence(local_table: str) -> None:
    repository.save_venue(_venue())
    with pytest.raises(errors.Conflict):
        repository.save_venue(_venue(name="Impostor"))
    stored = repository.get_venue("v-1")
    assert stored is not None and stored.name == "Hall"


def test_update_is_conditional_on_version(local_table: str) -> None:
    repository.save_venue(_venue())
    repository.save_venue(_venue(version=2, name="Renamed"), expected_version=1)
    with pytest.raises(errors.Conflict) as stale:
        repository.save_venue(_venue(version=2, name="Stale write"), expected_version=1)
    assert stale.value.code == "version_conflict"
    stored = repository.get_venue("v-1")
    assert stored is not None and (stored.name, stored.version) == ("Renamed", 2)


def test_user_email_is_unique_in_one_transaction(local_table: str) -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    assert put_user(User(id="a", email="Ana@x.test", name="Ana", role="customer", created_at=now))
    assert not put_user(User(id="b", email="ana@x.test", name="Other", role="customer", created_at=now))
    assert (
        boto3.client("dynamodb")
        .get_item(TableName=local_table, Key={"PK": {"S": "USER#b"}, "SK": {"S": "PROFILE"}})
        .get("Item")
        is None
    )
