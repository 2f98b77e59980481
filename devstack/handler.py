"""The development routes' function (`dev` group): the simulated provider's outcome switch. The local runtime serves
it like any function group (devstack.routes); no deployed stack has it."""

from __future__ import annotations

from typing import Any

from devstack import payment_outcomes
from devstack.payment_outcomes import SimulateRequest
from slotwise.api.app import BEARER, create_app, lambda_entrypoint
from slotwise.api.context import caller
from slotwise.identity.permissions import route_doc

app = create_app()
Json = dict[str, Any]


@app.post(
    "/api/v1/dev/payments/<paymentId>/<outcome>",
    tags=["payments"],
    summary="Simulated provider: `succeed`, `fail` or `process` a payment (signed webhooks; local runtime only)",
    description=route_doc("payment.simulate"),
    security=BEARER,
)
def simulate(paymentId: str, outcome: str, body: SimulateRequest) -> Json:
    return payment_outcomes.simulate(caller(app), paymentId, outcome)


lambda_handler = lambda_entrypoint(app)
