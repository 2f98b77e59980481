"""Opaque cursors for paged queries: the LastEvaluatedKey, base64url JSON, validated on the way back in."""

from __future__ import annotations

import base64
import json
from typing import Any

from slotwise import errors
from slotwise.data.codec import from_item, to_item


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(from_item(key), separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise errors.ValidationFailed("cursor is not one this API returned", code="invalid_cursor") from exc
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, str) for v in raw.values()):
        raise errors.ValidationFailed("cursor is not one this API returned", code="invalid_cursor")
    return to_item(raw)
