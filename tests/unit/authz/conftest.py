from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from infra.local.provision import ensure_table
from slotwise.settings import get_settings
from slotwise.topology import TABLE


@pytest.fixture(scope="module")
def module_table() -> Iterator[str]:
    """One moto table for a whole module: the matrices share a world built once and prove they never change it."""
    with mock_aws():
        name = get_settings().table_name
        ensure_table(boto3.client("dynamodb"), TABLE, name)
        yield name
