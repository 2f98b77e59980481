"""Outbound webhook subscriptions: register a URL for event types (secret shown once), change, rotate, delete, and
read every delivery attempt. Deliveries themselves are the `webhooks` queue consumer's."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from slotwise.api.app import create_app, lambda_entrypoint
from slotwise.api.context import caller
from slotwise.identity.permissions import route_doc
from slotwise.settings import require_settings
from slotwise.webhooks import service
from slotwise.webhooks.models import SecretRotation, SubscriptionCreate, SubscriptionUpdate

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

app = create_app()
TAGS = ["webhooks"]
BASE = "/api/v1/webhook-subscriptions"
ONE = f"{BASE}/<subscriptionId>"
Json = dict[str, Any]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]
DOC = route_doc("webhook.manage", "webhook.manage_any")


@app.post(
    BASE,
    tags=TAGS,
    summary="Subscribe a URL to event types; the answer holds the signing secret, shown only this once",
    description=DOC,
    responses={201: {"description": "Created (with `secret`)"}},
)
def create(body: SubscriptionCreate) -> Response[Json]:
    sub, secret = service.create(caller(app), body)
    return Response(201, "application/json", service.created_view(sub, secret), {"Location": f"{BASE}/{sub.id}"})


@app.get(BASE, tags=TAGS, summary="Your webhook subscriptions", description=DOC)
def list_subscriptions(limit: Limit = 20, cursor: Cursor = None) -> Json:
    return service.list_own(caller(app), limit=limit, cursor=cursor)


@app.get(ONE, tags=TAGS, summary="A webhook subscription (never its secret)", description=DOC)
def get(subscriptionId: str) -> Json:
    return service.get(caller(app), subscriptionId).public()


@app.put(
    ONE,
    tags=TAGS,
    summary="Change url, eventTypes, description or active (fields left out keep their value)",
    description=DOC,
)
def update(subscriptionId: str, body: SubscriptionUpdate) -> Json:
    return service.update(caller(app), subscriptionId, body).public()


@app.delete(
    ONE,
    tags=TAGS,
    summary="Delete a subscription (pending deliveries stop)",
    description=DOC,
    responses={204: {"description": "Deleted"}},
)
def delete(subscriptionId: str) -> Response[None]:
    service.delete(caller(app), subscriptionId)
    return Response(204)


@app.post(
    f"{ONE}/rotate-secret",
    tags=TAGS,
    summary="Replace the signing secret (the old one also signs for previousSecretValidHours)",
    description=DOC,
)
def rotate_secret(subscriptionId: str, body: SecretRotation) -> Json:
    sub, secret = service.rotate_secret(caller(app), subscriptionId, body)
    return service.created_view(sub, secret)


@app.get(
    f"{ONE}/deliveries",
    tags=TAGS,
    summary="Every delivery attempt, newest first (event, attempt, status code or error, duration, next attempt)",
    description=DOC,
)
def deliveries(subscriptionId: str, limit: Limit = 20, cursor: Cursor = None) -> Json:
    return service.deliveries(caller(app), subscriptionId, limit=limit, cursor=cursor)


lambda_handler = lambda_entrypoint(app)
