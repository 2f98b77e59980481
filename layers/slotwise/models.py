"""Base models: camelCase on the wire, unknown fields rejected, so a client can never slip in price or status.

Both bases defer building their validators (`defer_build`): a function module defines dozens of models and a
request uses a few, so each is built on first use instead of all of them at cold start.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, model_validator
from pydantic.alias_generators import to_camel

from slotwise import errors

# Request limits (docs/api.md "Request limits"): what an id, a date and a free text may be, checked before any AWS call.
MAX_ID_LENGTH = 128
# Ids are uuids, user ids (a uuid hex, or an OIDC subject such as `auth0|5f…`), booking references.
ID_PATTERN = r"^[A-Za-z0-9._:@|+\-]+$"
_ID = re.compile(ID_PATTERN)
# Every date and time the API accepts lies in these years: beyond them the booking engine's arithmetic (windows,
# slot keys, recurrences) would overflow, and no booking is that far away.
MIN_YEAR = 2000
MAX_YEAR = 2100
# C0 control characters (and DEL) are refused in free text; tab and newline only where the text is multi-line.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def is_id(value: str) -> bool:
    """Whether `value` could be an id at all: 1 to 128 characters of letters, digits and `._:@|+-`."""
    return 0 < len(value) <= MAX_ID_LENGTH and _ID.match(value) is not None


def _in_years(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"dates and times lie between the years {MIN_YEAR} and {MAX_YEAR}")
    return value


def _datetime_in_years(value: datetime) -> datetime:
    _in_years(value)
    if value.tzinfo is not None and value.utcoffset() is not None:
        _in_years(value.astimezone(UTC))
    return value


def _one_line(value: str) -> str:
    if _CONTROL_ONE_LINE.search(value):
        raise ValueError("control characters are not allowed here")
    return value


Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
# Not strict: they arrive as ISO 8601 strings.
BoundedDate = Annotated[date, Strict(False), AfterValidator(_in_years)]
BoundedDatetime = Annotated[datetime, Strict(False), AfterValidator(_datetime_in_years)]
# A title or a name: one line (every text of a body already refuses the other control characters).
OneLine = Annotated[str, AfterValidator(_one_line)]


MAX_IDEMPOTENCY_KEY_LENGTH = 255
_IDEMPOTENCY_KEY = re.compile(rf"^[\x20-\x7e]{{1,{MAX_IDEMPOTENCY_KEY_LENGTH}}}$")


def idempotency_key(value: str | None) -> str | None:
    """The `Idempotency-Key` header (None when not sent): 1 to 255 printable ASCII characters, else 422."""
    if value is None:
        return None
    if _IDEMPOTENCY_KEY.fullmatch(value) is None:
        raise errors.ValidationFailed(
            f"An Idempotency-Key is 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters.",
            code="invalid_idempotency_key",
        )
    return value


def check_period(frm: datetime | date | None, to: datetime | date | None) -> None:
    """A requested period (`from`/`to`, `availableFrom`/`availableTo`…) is in the years above and in order."""
    for value in (frm, to):
        if value is None:
            continue
        try:
            _datetime_in_years(value) if isinstance(value, datetime) else _in_years(value)
        except ValueError as exc:
            raise errors.ValidationFailed(str(exc).capitalize() + ".", code="date_out_of_range") from exc
    if frm is not None and to is not None and _comparable(frm) > _comparable(to):
        raise errors.ValidationFailed("The period ends before it starts (from is after to).", code="end_before_start")


def _comparable(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


class ApiModel(BaseModel):
    """A request body: every field named, anything else is a 422.

    Strict: a number is a JSON number and a boolean a JSON boolean (`"1"` and `true` are not a quantity); dates and
    times arrive as strings and are the exception (`BoundedDate`, `BoundedDatetime`). No text anywhere in a body
    holds NUL or another control character (tab and line breaks aside; one-line fields refuse those too).
    """

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        str_strip_whitespace=True,
        strict=True,
        defer_build=True,
    )

    @model_validator(mode="after")
    def _no_control_characters(self) -> ApiModel:
        for name in type(self).model_fields:
            _check_text(getattr(self, name))
        return self


def _check_text(value: object) -> None:
    if isinstance(value, str):
        if _CONTROL_IN_TEXT.search(value):
            raise ValueError("text may not hold NUL or other control characters")
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)


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
