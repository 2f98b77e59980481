"""The development routes and where the local runtime finds their handlers.

They are not in `slotwise.api.routes.ROUTES`, the table API Gateway's routes are made from, so no deployed stack has
them; the local runtime dispatches on LOCAL_ROUTES (the deployed table plus these).
"""

from __future__ import annotations

from slotwise.api.routes import API_PREFIX, ROUTES, Route

DEV_GROUP = "dev"
DEV_ROUTES: tuple[Route, ...] = (
    # The simulated provider's outcome switch: signed Stripe-shaped webhook events into the real webhook path.
    Route("POST", f"{API_PREFIX}/dev/payments/{{paymentId}}/{{outcome}}", DEV_GROUP),
)
LOCAL_ROUTES: tuple[Route, ...] = ROUTES + DEV_ROUTES
# Function group -> handler module, for the groups that are not `functions/<group>/handler.py`.
HANDLER_MODULES: dict[str, str] = {DEV_GROUP: "devstack.handler"}


def handler_module(group: str) -> str:
    return HANDLER_MODULES.get(group, f"functions.{group}.handler")
