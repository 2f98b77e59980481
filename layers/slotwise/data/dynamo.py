"""Low-level helpers shared by the repositories: the table name and error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from slotwise import errors
from slotwise.settings import get_settings

# Errors that mean "DynamoDB is not answering or refused service", not "your request is wrong".
_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "InternalServerError",
        "ServiceUnavailable",
        "ResourceNotFoundException",
    }
)


def table_name() -> str:
    return get_settings().table_name


@contextmanager
def translate_errors(operation: str) -> Iterator[None]:
    """Turn transport failures into DependencyUnavailable; anything else is a bug and propagates."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _UNAVAILABLE_CODES:
            raise errors.DependencyUnavailable(f"DynamoDB {operation} failed: {code}") from exc
        raise
    except BotoCoreError as exc:
        raise errors.DependencyUnavailable(f"DynamoDB {operation} failed: {type(exc).__name__}") from exc
