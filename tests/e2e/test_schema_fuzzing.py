"""Schema fuzzing: schemathesis generates requests from the API's own OpenAPI document and sends them to the local
runtime as an admin, a customer and an anonymous caller. Every answer must be no server error, match its documented
schema, status code and content type. Bounded (fixed seed, 30 examples per operation): part of `make test`, and
`make fuzz` runs it alone. Generated data still meets the clock (a sub-minute window found on 2026-12-06 was a 500
only at some times of day), so a failure here names its seed and case: reproduce it with `make fuzz`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.runtime import ROOT, Runtime, running

pytestmark = [pytest.mark.e2e, pytest.mark.fuzz]
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    # Per-caller request quotas off: fuzzing one caller at full speed would mostly measure 429s.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLOTWISE_REQUESTS_PER_MINUTE", "0")
        with running(tmp_path_factory.mktemp("fuzz-runtime")) as started:
            yield started


@pytest.fixture(scope="module")
def tokens(runtime: Runtime) -> dict[str, str]:
    """Every caller signs in before any fuzzing: the admin's run may suspend the demo customer (a fuzzed
    `POST /admin/users/{id}/suspend` that hits a real id), which would refuse a later sign-in."""
    return {role: token(runtime, role) for role in ("admin", "customer")}


def token(runtime: Runtime, role: str) -> str:
    signed_in = requests.post(
        f"{runtime.base}/api/v1/auth/login",
        json={"email": f"{role}@demo.slotwise.test", "password": f"slotwise-demo-{role}"},
        timeout=30,
    )
    assert signed_in.status_code == 200, signed_in.text
    return str(signed_in.json()["accessToken"])


@pytest.mark.timeout(600)
# The admin last: its operations change other accounts (suspensions, approvals).
@pytest.mark.parametrize("role", [None, "customer", "admin"], ids=["anonymous", "customer", "admin"])
def test_every_generated_request_gets_a_documented_answer(
    runtime: Runtime, tokens: dict[str, str], role: str | None
) -> None:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{runtime.base}/api/v1/openapi.json",
        "--url",
        runtime.base,
        "--checks",
        CHECKS,
        "--max-examples",
        "30",
        "--seed",
        "42",
        "--workers",
        "2",
    ]
    if role is not None:
        command += ["-H", f"Authorization: Bearer {tokens[role]}"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=540, check=False)
    summary = done.stdout[done.stdout.rfind("SUMMARY") :]
    assert done.returncode == 0, summary or done.stdout[-4000:] or done.stderr[-4000:]
