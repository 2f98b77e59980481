"""The development stack's parts that must never ship in the Lambda layer: the simulated payment provider, the
Stripe-shaped events it makes, and its `/dev/payments/...` routes.

`install()` plugs them into the layer's extension points; the local runtime (`python -m infra.local`) and the tests
(`tests/conftest.py`) call it once at start. Deployed stages never import this package (it is not in the layer,
`tests/infra/test_layer_build.py` checks the built one) and refuse the `simulated` provider by settings.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slotwise.payments.provider import PaymentProvider
    from slotwise.settings import Settings

_installed = threading.Event()


def install() -> None:
    """Register the simulated payment provider and serve the local OpenAPI document (with the dev routes).
    Idempotent; nothing heavy is imported until a payment or the document is first needed."""
    if _installed.is_set():
        return
    from devstack.openapi import local_openapi_json
    from slotwise.api import docs
    from slotwise.payments.provider import register_provider
    from slotwise.settings import LOCAL_PAYMENT_PROVIDER

    register_provider(LOCAL_PAYMENT_PROVIDER, _simulated)
    docs.serve_document(local_openapi_json)
    _installed.set()


def _simulated(settings: Settings) -> PaymentProvider:
    from devstack.simulated_provider import SimulatedProvider

    return SimulatedProvider.from_settings(settings)
