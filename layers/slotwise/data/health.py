"""Reachability probe for the table: one eventually consistent GetItem (data plane, half a read unit).

DescribeTable would be the obvious probe, but it is a control-plane call with a low account-wide rate limit.
The event bus's probe is the publisher adapter's (`slotwise.events.publisher.ping_bus`).
"""

from __future__ import annotations

from slotwise import aws
from slotwise.data.dynamo import table_name, translate_errors

_PROBE_KEY = {"PK": {"S": "HEALTH"}, "SK": {"S": "PROBE"}}


def ping_table() -> None:
    with translate_errors("GetItem"):
        aws.dynamodb().get_item(TableName=table_name(), Key=_PROBE_KEY, ProjectionExpression="PK")
