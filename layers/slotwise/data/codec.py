"""Python values <-> DynamoDB attribute values (numbers as Decimal on the way in, int/float on the way out)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _decimals(value: Any) -> Any:
    # DynamoDB rejects Python floats; a JSON round trip turns every number into Decimal exactly as written.
    return json.loads(json.dumps(value), parse_float=Decimal, parse_int=Decimal)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


def to_item(values: dict[str, Any]) -> dict[str, AttributeValueTypeDef]:
    """Serialise a JSON-compatible dict; None values are left out (DynamoDB has no use for them)."""
    cleaned = {k: v for k, v in _decimals(values).items() if v is not None}
    return {k: _serializer.serialize(v) for k, v in cleaned.items()}


def to_value(value: Any) -> AttributeValueTypeDef:
    serialized: AttributeValueTypeDef = _serializer.serialize(_decimals(value))
    return serialized


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}
