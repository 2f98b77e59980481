"""Test-wide isolation: fake credentials, no real AWS, and no cached settings or clients leaking between tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Before anything imports boto3: no test may reach a real AWS account.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SLOTWISE_STAGE": "test",
        "SLOTWISE_TABLE_NAME": "slotwise-test",
        # Tests name the caller with the local runtime's identity headers (tests/support/http.py).
        "SLOTWISE_TRUST_IDENTITY_HEADERS": "true",
        # Tests send hundreds of requests as one user; the quota's own tests turn it on.
        "SLOTWISE_REQUESTS_PER_MINUTE": "0",
        # scrypt at n = 2^11 (a few ms) instead of production's 2^17 (about 0.9 s); one test runs production's.
        "SLOTWISE_SCRYPT_LOG2_N": "11",
        "POWERTOOLS_SERVICE_NAME": "slotwise",
        "POWERTOOLS_METRICS_NAMESPACE": "Slotwise",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)
for leaked in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
    os.environ.pop(leaked, None)

# The development stack is not in the layer: the tests plug in the simulated payment provider and the development
# routes' document as the local runtime does (registrations survive the resets below; only built objects go).
import devstack  # noqa: E402 - after the environment above

devstack.install()

# The booking engine's money side (refunds on cancellation, voided payments on expiry), as every function that
# cancels or expires bookings installs it at start-up.
from slotwise.payments import settlement  # noqa: E402 - after the environment above

settlement.install()


@pytest.fixture(autouse=True)
def _fresh_settings_and_clients() -> Iterator[None]:
    from slotwise.aws import reset_clients
    from slotwise.cache import reset_caches
    from slotwise.payments.provider import reset_provider
    from slotwise.settings import get_settings

    get_settings.cache_clear()
    reset_clients()
    reset_caches()
    reset_provider()
    yield
    get_settings.cache_clear()
    reset_clients()
    reset_caches()
    reset_provider()
