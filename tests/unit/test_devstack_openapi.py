"""The local runtime's OpenAPI document follows the same contract as the deployed one for its development routes:
schema fuzzing against `make dev` found the dev route documenting validation errors as application/json and no 429."""

from __future__ import annotations

from devstack.openapi import local_spec
from slotwise.api.docs import SPEC_PATH

DEV_ROUTE = "/api/v1/dev/payments/{paymentId}/{outcome}"


def test_the_dev_route_documents_its_problems_like_every_route() -> None:
    spec = local_spec()
    responses = spec["paths"][DEV_ROUTE]["post"]["responses"]
    for code in ("400", "404", "422", "429", "500"):
        assert responses[code] == {"$ref": f"#/components/responses/{spec_name(code)}"}, code
        name = responses[code]["$ref"].rsplit("/", 1)[1]
        assert "application/problem+json" in spec["components"]["responses"][name]["content"]
    assert "HTTPValidationError" not in str(spec)


def test_the_deployed_document_has_no_dev_route() -> None:
    assert DEV_ROUTE not in SPEC_PATH.read_text(encoding="utf-8")


def spec_name(code: str) -> str:
    return {
        "400": "BadRequest",
        "404": "NotFound",
        "422": "UnprocessableContent",  # HTTPStatus(422).phrase since Python 3.13 (RFC 9110)
        "429": "TooManyRequests",
        "500": "InternalServerError",
    }[code]
