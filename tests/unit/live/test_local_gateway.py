"""The local runtime's WebSocket parts (infra/local/live.py) without sockets: the events it builds have API
Gateway's shapes, route selection follows `$request.body.action`, and its Management API answers as API Gateway's,
so the boto3 client reads a closed connection as `GoneException` (the live exchange runs in tests/e2e)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.parsers import create_parser
from werkzeug.test import Client
from werkzeug.wrappers import Response

from infra.local.live import LiveGateway, connect_event, disconnect_event, message_event, route_key_of
from slotwise.topology import TOPOLOGY

SPEC = TOPOLOGY.websocket
assert SPEC is not None


def test_connect_event_has_api_gateways_shape() -> None:
    headers = [("Host", "h"), ("Sec-WebSocket-Protocol", "a, b"), ("X-Many", "1"), ("X-Many", "2")]
    event = connect_event("c1=", path="/ws?token=t&x=1&x=2", headers=headers, source_ip="10.0.0.1", connected_at=5)
    context = event["requestContext"]
    assert (context["routeKey"], context["eventType"], context["connectionId"]) == ("$connect", "CONNECT", "c1=")
    assert context["messageDirection"] == "IN" and context["identity"] == {"sourceIp": "10.0.0.1"}
    assert context["connectedAt"] == 5 and context["requestTimeEpoch"] > 0
    assert event["headers"]["Sec-WebSocket-Protocol"] == "a, b"  # as sent, any case
    assert event["multiValueHeaders"]["X-Many"] == ["1", "2"]
    assert event["queryStringParameters"] == {"token": "t", "x": "2"}
    assert event["multiValueQueryStringParameters"]["x"] == ["1", "2"]
    assert "queryStringParameters" not in connect_event("c2=", path="/ws", headers=[], source_ip="", connected_at=0)


def test_messages_are_routed_by_their_action_and_the_rest_goes_to_default() -> None:
    assert SPEC is not None
    assert route_key_of('{"action": "subscribe"}', SPEC) == "subscribe"
    assert route_key_of('{"action": "unsubscribe", "bookingId": "b"}', SPEC) == "unsubscribe"
    for body in ('{"action": "$connect"}', '{"action": "dance"}', "[]", "text", '{"action": 1}'):
        assert route_key_of(body, SPEC) == "$default", body
    event = message_event("c1=", '{"action":"subscribe"}', spec=SPEC, source_ip="ip", connected_at=1)
    assert event["requestContext"]["eventType"] == "MESSAGE" and event["requestContext"]["messageId"]
    assert event["body"] == '{"action":"subscribe"}'
    gone = disconnect_event("c1=", source_ip="ip", connected_at=1, code=None)
    assert gone["requestContext"]["eventType"] == "DISCONNECT"
    assert gone["requestContext"]["disconnectStatusCode"] == 1006


def test_the_management_api_answers_an_unknown_connection_as_gone_and_leaves_other_paths_to_the_api() -> None:
    assert SPEC is not None
    gateway = LiveGateway(lambda group, event: None, SPEC)

    def api(environ: dict[str, Any], start_response: Any) -> Any:
        return Response("the API", status=200)(environ, start_response)

    client = Client(gateway.management(api))
    answer = client.post("/@connections/nobody=", data=b'{"type":"x"}')
    assert answer.status_code == 410
    assert client.get("/api/v1/health").get_data(as_text=True) == "the API"
    assert client.get("/@connections/nobody=").status_code == 410
    assert client.delete("/@connections/nobody=").status_code == 410

    # What boto3 makes of that answer: the same GoneException API Gateway's own 410 gives.
    operation = boto3.client("apigatewaymanagementapi", endpoint_url="http://127.0.0.1:1").meta.service_model
    parsed = create_parser("rest-json").parse(
        # botocore reads headers case-insensitively (urllib3's); a plain dict needs them lower-cased.
        {"status_code": 410, "headers": {k.lower(): v for k, v in answer.headers.items()}, "body": answer.get_data()},
        operation.operation_model("PostToConnection").output_shape,
    )
    assert parsed["Error"]["Code"] == "GoneException"
