"""The request body gate: what every JSON body must be before validation reads it.

Powertools' validation parses the body itself and lets some inputs escape as 500s: a body that is not UTF-8
(UnicodeDecodeError), JSON nested thousands deep (RecursionError), a 5,000-digit integer (ValueError from Python's
int-size guard), `NaN`/`Infinity` (not JSON at all, but accepted by `json.loads`) and numbers DynamoDB cannot store
(`1e400` parses as infinity). Each is refused here as a 4xx problem before any route runs, and a body that passes
is handed on as plain text, so the route and validation see exactly the bytes the client sent.

Limits (documented in docs/api.md): `MAX_BODY_BYTES` per request (64 KiB; a function may raise it), JSON nesting
`MAX_DEPTH` levels, integers within ±(2**63 - 1), other numbers finite with at most `MAX_NUMBER_DIGITS` digits of
precision and an exponent DynamoDB accepts.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from slotwise import errors

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32
MAX_INTEGER = 2**63 - 1
# DynamoDB numbers hold 38 significant digits with magnitudes from 1e-130 to 1e126.
MAX_NUMBER_DIGITS = 38
_MIN_EXPONENT, _MAX_EXPONENT = -130, 125


class _Refused(ValueError):
    """Raised from the parser's hooks; carries the problem to answer with."""

    def __init__(self, error: errors.SlotwiseError) -> None:
        super().__init__(error.detail)
        self.error = error


def _malformed(detail: str) -> errors.BadRequest:
    return errors.BadRequest(detail, code="malformed_json")


def _constant(name: str) -> Any:
    raise _Refused(_malformed(f"The request body is not valid JSON: {name} is not a JSON number."))


def _integer(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > len(str(MAX_INTEGER)) or abs(int(text)) > MAX_INTEGER:
        raise _Refused(
            errors.ValidationFailed(f"Integers in the body must lie within ±{MAX_INTEGER}.", code="number_out_of_range")
        )
    return int(text)


def _number(text: str) -> float:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the JSON scanner only hands over valid numbers
        raise _Refused(_malformed("The request body holds a malformed number.")) from exc
    # Counted on the digits as sent: Decimal.normalize() would round them to the context's 28 first.
    significant = "".join(map(str, value.as_tuple().digits)).strip("0")
    if significant and (len(significant) > MAX_NUMBER_DIGITS or not _MIN_EXPONENT <= value.adjusted() <= _MAX_EXPONENT):
        raise _Refused(
            errors.ValidationFailed(
                f"Numbers in the body must have at most {MAX_NUMBER_DIGITS} significant digits and a magnitude "
                "between 1e-130 and 1e125.",
                code="number_out_of_range",
            )
        )
    return float(text)


def _depth_exceeded(value: Any, limit: int) -> bool:
    """Whether `value` nests deeper than `limit` containers (iterative: the check must not recurse itself)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _raw_bytes(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise errors.BadRequest("The request body is not valid base64.", code="malformed_body") from exc
    return str(body).encode("utf-8", errors="surrogatepass")


def checked(event: Mapping[str, Any], *, max_bytes: int = MAX_BODY_BYTES) -> Mapping[str, Any]:
    """The event with its JSON body proven readable and within the limits, as text; raises a domain error if not.

    Only called for bodies the media-type rule already accepted as `application/json`.
    """
    raw = _raw_bytes(event)
    if len(raw) > max_bytes:
        raise errors.PayloadTooLarge(f"The request body is {len(raw)} bytes; at most {max_bytes} are accepted.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.BadRequest("The request body is not UTF-8 text.", code="malformed_body") from exc
    try:
        parsed = json.loads(text, parse_constant=_constant, parse_int=_integer, parse_float=_number)
    except _Refused as refused:
        raise refused.error from None
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:
        raise _malformed("The request body is not valid JSON.") from exc
    if _depth_exceeded(parsed, MAX_DEPTH):
        raise _too_deep()
    if not event.get("isBase64Encoded"):
        return event
    return {**event, "body": text, "isBase64Encoded": False}


def _too_deep() -> errors.BadRequest:
    return errors.BadRequest(f"The request body nests deeper than {MAX_DEPTH} levels.", code="json_too_deep")
