"""DynamoDB Local (AWS's own engine) on a free port, for the integration tier's fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.dynamodb_local import DynamoDBLocal
from infra.local.ports import free_port


def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A DynamoDB Local process for as long as the generator runs; yields its endpoint."""
    log = (tmp_path_factory.mktemp("ddb") / "dynamodb-local.log").open("wb")
    process = DynamoDBLocal(free_port(), log=log)
    process.start(timeout=60)
    try:
        yield process.endpoint
    finally:
        process.stop()
        log.close()
