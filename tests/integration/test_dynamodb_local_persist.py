"""`make dev PERSIST=1`: DynamoDB Local keeps its data in a folder given relative to the caller, across restarts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.dynamodb_local import DynamoDBLocal
from infra.local.ports import free_port

pytestmark = pytest.mark.dynamodb_local


def test_a_relative_db_path_persists_data_across_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = Path(".local") / "dynamodb"
    port = free_port()

    def client() -> Any:
        return boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="eu-west-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    with DynamoDBLocal(port, db_path=relative):
        ddb = client()
        ddb.create_table(
            TableName="persisted",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName="persisted", Item={"PK": {"S": "kept"}})

    assert (tmp_path / relative).is_dir()
    assert any((tmp_path / relative).iterdir()), "DynamoDB Local wrote its database under the caller's folder"

    with DynamoDBLocal(port, db_path=relative):
        item = client().get_item(TableName="persisted", Key={"PK": {"S": "kept"}})
    assert item["Item"]["PK"]["S"] == "kept"
    assert os.getcwd() == str(tmp_path)
