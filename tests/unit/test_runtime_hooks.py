"""SnapStart runtime hooks (slotwise.runtime_hooks): registered by every function, init captures no secret, client
or caller, priming builds what a first request needs, and a restore leaves nothing shared or stale behind."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from slotwise import aws, cache, runtime_hooks
from slotwise.api import routes
from slotwise.ratelimit import RequestQuota
from slotwise.topology import TOPOLOGY

ROOT = Path(__file__).resolve().parents[2]


def _every_group() -> list[str]:
    groups = set(routes.groups())
    groups |= {q.consumer_group for q in TOPOLOGY.queues}
    groups |= {s.group for s in TOPOLOGY.schedules}
    groups |= {c.consumer_group for c in TOPOLOGY.stream_consumers}
    if TOPOLOGY.websocket is not None:
        groups.add(TOPOLOGY.websocket.group)
    return sorted(g for g in groups if (ROOT / "functions" / g / "handler.py").is_file())


# Run in a fresh interpreter: the init of every function (its handler module's import), then the before-snapshot
# hooks as Lambda runs them, with a botocore hook recording every AWS call either makes.
_INIT_SCRIPT = textwrap.dedent(
    """
    import gc, importlib, json, sys
    import botocore.handlers
    calls = []
    botocore.handlers.BUILTIN_HANDLERS.append(
        ("before-call", lambda event_name, **_: calls.append(event_name))
    )
    from pydantic import BaseModel
    import snapshot_restore_py as hooks
    report = {"groups": {}}
    for group in sys.argv[1:]:
        importlib.import_module(f"functions.{group}.handler")
    from slotwise.booking.models import BookingCreate
    report["model_built_before"] = BookingCreate.__pydantic_complete__
    before = [f.__module__ + "." + f.__name__ for f, _, _ in hooks.get_before_snapshot()]
    after = [f.__module__ + "." + f.__name__ for f, _, _ in hooks.get_after_restore()]
    report["before"], report["after"] = before, after
    report["calls_at_init"] = list(calls)
    for function, args, kwargs in hooks.get_before_snapshot():
        function(*args, **kwargs)
    report["calls_at_prime"] = calls[len(report["calls_at_init"]):]
    report["model_built_after"] = BookingCreate.__pydantic_complete__
    gc.collect()
    from botocore.client import BaseClient
    from botocore.credentials import Credentials
    report["clients_alive"] = sum(isinstance(o, BaseClient) for o in gc.get_objects())
    report["credentials_alive"] = sum(isinstance(o, Credentials) for o in gc.get_objects())
    from slotwise import aws
    from slotwise.identity import keys
    report["secret_providers"] = aws._secrets_provider.cache_info().currsize
    report["jwks_clients"] = keys.jwks_client.cache_info().currsize
    report["dynamodb_model_loaded"] = any("dynamodb" in repr(key) for key in aws._loader()._cache)
    from slotwise.api import app
    from slotwise import ratelimit
    report["caller"] = vars(app._this_request)
    report["pending_quota"] = ratelimit.pending_charge() is not None
    # The credentials as str anywhere in memory (os.environ keeps them as bytes): a client or cache holding them.
    secret = sys.modules["os"].environ["AWS_SECRET_ACCESS_KEY"]
    report["credentials_in_memory"] = any(
        isinstance(ref, str) and ref is not secret and secret in ref
        for obj in gc.get_objects()
        for ref in gc.get_referents(obj)
    )
    print(json.dumps(report))
    """
)


@pytest.fixture(scope="module")
def init_report() -> dict[str, Any]:
    groups = _every_group()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLOTWISE_", "AWS_", "POWERTOOLS_", "_HANDLER"))
    }
    env.update(
        {
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers'}",
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "AKIAINITMARKER",
            "AWS_SECRET_ACCESS_KEY": "init-marker-secret-access-key",
            "AWS_SESSION_TOKEN": "init-marker-secret-session-token",
            # Nothing answers here: a call made at init would fail rather than pass unseen.
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "SLOTWISE_STAGE": "test",
            "SLOTWISE_TABLE_NAME": "slotwise-init",
            "SLOTWISE_EVENT_BUS_NAME": "slotwise-init",
            "SLOTWISE_JWT_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt",
            "SLOTWISE_STRIPE_SECRET_KEY_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:stripe",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", _INIT_SCRIPT, *groups],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["groups"] = groups
    return report


def test_every_function_registers_both_hooks_once(init_report: dict[str, Any]) -> None:
    assert len(init_report["groups"]) >= 15  # every function group of the topology was imported
    assert init_report["before"] == ["slotwise.runtime_hooks.prime"]
    assert init_report["after"] == ["slotwise.runtime_hooks.restore"]


def test_init_and_priming_call_no_aws_and_keep_no_client_secret_or_caller(init_report: dict[str, Any]) -> None:
    assert init_report["calls_at_init"] == []
    assert init_report["calls_at_prime"] == []
    # No client and no credentials survive into the snapshot; no secret was read or cached.
    assert init_report["clients_alive"] == 0
    assert init_report["credentials_alive"] == 0
    assert init_report["secret_providers"] == 0
    assert init_report["jwks_clients"] == 0
    assert init_report["credentials_in_memory"] is False
    # No request ran: no caller, no pending quota charge.
    assert init_report["caller"] == {}
    assert init_report["pending_quota"] is False


def test_priming_builds_models_and_loads_the_table_model(init_report: dict[str, Any]) -> None:
    assert init_report["model_built_before"] is False  # an ordinary cold start defers it
    assert init_report["model_built_after"] is True
    assert init_report["dynamodb_model_loaded"] is True


def test_restore_reseeds_random_and_drops_clients_secrets_caches_and_leases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    client = aws.dynamodb()
    assert aws.dynamodb() is client
    aws.refuse_secret("arn:refused")
    ttl: cache.TtlCache[str] = cache.TtlCache(60)
    assert ttl.get("k", lambda: "v") == "v"
    quota = RequestQuota()
    quota._leases["caller"] = (1, 5)
    random.seed(42)
    seeded = random.getstate()

    runtime_hooks.restore()

    assert random.getstate() != seeded
    assert aws.dynamodb() is not client  # rebuilt with the restored environment's credentials
    assert aws._refused == set()
    assert ttl.get("k", lambda: "fresh") == "fresh"
    assert quota._leases == {}


def test_install_registers_nothing_without_the_hooks_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_hooks, "_installed", [])
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails as where it is not installed
    assert runtime_hooks.install() is False


def test_clients_rebuilt_after_a_restore_reuse_the_parsed_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    aws.prime_service("dynamodb")
    loader = aws._loader()
    loaded = dict(loader._cache)
    assert any("dynamodb" in repr(key) for key in loaded)
    runtime_hooks.restore()
    client = aws.dynamodb()
    assert aws._loader() is loader  # the restore dropped clients, not the parsed models
    assert dict(loader._cache).keys() == loaded.keys()  # building the client again parsed nothing new
    # The service validates requests; the client does not walk every attribute first (bench_booking's CPU).
    from botocore.validate import ParamValidationDecorator

    assert not isinstance(client._serializer, ParamValidationDecorator)
