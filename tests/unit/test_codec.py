"""slotwise.data.codec converts exactly as boto3's TypeSerializer/TypeDeserializer did (the functions no longer
import boto3), for every JSON-compatible value, and refuses what DynamoDB cannot hold."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from slotwise.data import codec

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**37), max_value=10**37)
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e100, max_value=1e100)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


def _boto3_item(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: v for k, v in codec._decimals(values).items() if v is not None}
    return {k: TypeSerializer().serialize(v) for k, v in cleaned.items()}


@given(st.dictionaries(st.text(min_size=1, max_size=5), _json, max_size=5))
def test_items_serialise_and_read_back_as_boto3_does(values: dict[str, Any]) -> None:
    try:
        expected = _boto3_item(values)
    except Exception as refused:  # a number DynamoDB cannot hold: both refuse it, with the same error
        with pytest.raises(type(refused)):
            codec.to_item(values)
        return
    item = codec.to_item(values)
    assert item == expected
    assert codec.from_item(item) == {k: codec._plain(TypeDeserializer().deserialize(v)) for k, v in item.items()}


def test_sets_and_numbers_read_back_as_plain_values() -> None:
    item = {
        "topics": {"SS": ["a", "b"]},
        "scores": {"NS": ["1", "2.5"]},
        "whole": {"N": "3.0"},
        "nothing": {"NULL": True},
        "nested": {"M": {"list": {"L": [{"N": "7"}, {"BOOL": False}]}}},
    }
    read = codec.from_item(item)
    assert sorted(read["topics"]) == ["a", "b"]
    assert sorted(read["scores"]) == [1, 2.5]
    assert read["whole"] == 3 and isinstance(read["whole"], int)
    assert read["nothing"] is None
    assert read["nested"] == {"list": [7, False]}


@pytest.mark.parametrize("value", [Decimal("1e200"), Decimal("1.000000000000000000000000000000000000001")])
def test_numbers_dynamodb_cannot_hold_are_refused_not_rounded(value: Decimal) -> None:
    with pytest.raises(ArithmeticError):
        codec._serialize(value)


def test_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError):
        codec._serialize({1, 2})
    with pytest.raises(TypeError):
        codec._deserialize({"X": "?"})
