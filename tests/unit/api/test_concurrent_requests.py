"""Two requests resolved at the same time by threads of one process (the local runtime serves requests that way)
each read their own event: Powertools keeps the current event on a class shared by every resolver, so without
`SlotwiseResolver.current_event` one request could answer with the other's caller."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from events import load
from slotwise.api.app import create_app
from slotwise.api.context import caller


def event_of(user: str) -> dict[str, Any]:
    event = load("http/health_get")
    event["headers"]["x-slotwise-user-id"] = user
    event["headers"]["x-slotwise-role"] = "customer"
    return event


def test_each_thread_reads_its_own_request() -> None:
    both_inside = threading.Barrier(2, timeout=10)

    def handler_copy() -> Any:
        # One resolver per handler copy, as the local runtime's instance pool makes them.
        app = create_app(request_quota=False)

        @app.get("/api/v1/health")
        def who() -> dict[str, Any]:
            both_inside.wait()  # both requests are now being resolved at once
            return {"user": caller(app).user_id, "header": app.current_event.headers.get("x-slotwise-user-id")}

        return app

    apps = [handler_copy(), handler_copy()]

    def serve(index: int) -> dict[str, Any]:
        user = f"user-{index}"
        response = apps[index].resolve(event_of(user), None)
        return dict(json.loads(response["body"]))

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(serve, range(2)))
    assert answers == [{"user": "user-0", "header": "user-0"}, {"user": "user-1", "header": "user-1"}]
