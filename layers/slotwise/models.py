"""Base models: camelCase on the wire, unknown fields rejected, so a client can never slip in price or status.

Both bases defer building their validators (`defer_build`): a function module defines dozens of models and a
request uses a few, so each is built on first use instead of all of them at cold start.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """A request body: every field named, anything else is a 422."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        str_strip_whitespace=True,
        defer_build=True,
    )


class DomainModel(BaseModel):
    """A stored or returned entity: camelCase out, tolerant of attributes added by later versions."""

    model_config = ConfigDict(
        extra="ignore",
        alias_generator=to_camel,
        populate_by_name=True,
        defer_build=True,
    )


def iso(value: datetime) -> str:
    """ISO 8601 with offset, written the way the models serialise datetimes (UTC as `Z`)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
