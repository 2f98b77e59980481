"""Python values <-> DynamoDB attribute values (numbers as Decimal on the way in, int/float on the way out).

The conversion is written here rather than taken from `boto3.dynamodb.types`: importing any `boto3` module imports
boto3's session and s3transfer, a large share of a function's cold start, while the functions need only botocore
(`slotwise.aws` builds botocore clients). Numbers follow boto3's rules: DynamoDB's 38-digit decimal context, and a
number that would be rounded, overflow or is not finite is refused (TypeError), never silently changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# DynamoDB's number range and precision (as boto3.dynamodb.types.DYNAMODB_CONTEXT).
DYNAMODB_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])


def _number(value: Decimal) -> str:
    text = str(DYNAMODB_CONTEXT.create_decimal(value))
    if text in ("Infinity", "-Infinity", "NaN", "sNaN", "-NaN", "-sNaN"):
        raise TypeError(f"DynamoDB cannot store the number {text}")
    return text


def _serialize(value: Any) -> Any:
    """One attribute value; `value` is what `_decimals` returns (JSON types, numbers as Decimal)."""
    kind: str
    data: Any
    if value is None:
        kind, data = "NULL", True
    elif isinstance(value, bool):  # before numbers: bool is an int
        kind, data = "BOOL", value
    elif isinstance(value, Decimal | int):
        kind, data = "N", _number(Decimal(value))
    elif isinstance(value, str):
        kind, data = "S", value
    elif isinstance(value, bytes | bytearray):
        kind, data = "B", bytes(value)
    elif isinstance(value, Mapping):
        kind, data = "M", {str(k): _serialize(v) for k, v in value.items()}
    elif isinstance(value, list | tuple):
        kind, data = "L", [_serialize(v) for v in value]
    else:
        raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")
    return {kind: data}


_READERS: dict[str, Callable[[Any], Any]] = {
    "S": lambda data: data,
    "N": DYNAMODB_CONTEXT.create_decimal,
    "M": lambda data: {k: _deserialize(v) for k, v in data.items()},
    "L": lambda data: [_deserialize(v) for v in data],
    "BOOL": bool,
    "NULL": lambda _: None,
    "SS": set,
    "NS": lambda data: {DYNAMODB_CONTEXT.create_decimal(n) for n in data},
    "B": bytes,
    "BS": lambda data: {bytes(b) for b in data},
}


def _deserialize(value: Mapping[str, Any]) -> Any:
    """One attribute value as Python (numbers as Decimal, sets as sets), as boto3's TypeDeserializer reads it."""
    if len(value) != 1:
        raise TypeError(f"not a DynamoDB attribute value: {value!r}")
    ((kind, data),) = value.items()
    reader = _READERS.get(kind)
    if reader is None:
        raise TypeError(f"unknown DynamoDB attribute type {kind!r}")
    return reader(data)


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
    return {k: _serialize(v) for k, v in cleaned.items()}


def to_value(value: Any) -> AttributeValueTypeDef:
    serialized: AttributeValueTypeDef = _serialize(_decimals(value))
    return serialized


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserialize(v)) for k, v in item.items()}
