"""Data access goes through `slotwise.data` and one store per domain: the layering rule, checked on the source.

The rule. AWS SDK clients (boto3, botocore, and `slotwise.aws`, the factory that builds them) are used only in

  (a) `slotwise.data`: generic DynamoDB access (table name, error translation, codec, cursors, probes);
  (b) one store module per domain, `slotwise/<domain>/store.py` or `slotwise/<domain>/repository.py`: the domain's
      keys, requests and every DynamoDB call it makes;
  (c) adapters for the other AWS services, each named for the one job it does: `publisher` (the event bus),
      `mail` (the mail sender), `queue` (a queue sender) and the secret readers.

Every other module (services, rules, models, the API layer) calls stores and adapters and holds no client: it
imports neither boto3 nor botocore nor `slotwise.aws`. Lambda handlers go further: they call a domain's service and
never import boto3, `slotwise.data` or a store. Type-only imports of `mypy_boto3_*` request shapes (a transaction
item another module builds) are not SDK use and are allowed anywhere.

Every module under `layers/slotwise` and `functions/` is read with `ast`; every import counts, wherever it is
(inside a function, under `if TYPE_CHECKING:`), and so does an `importlib.import_module("boto3")`. Powertools
Parameters counts as SDK use: it is a Secrets Manager/SSM client.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.imports import from_import_targets

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers"
FUNCTIONS = ROOT / "functions"
SDK = frozenset({"boto3", "botocore"})
CLIENTS = "slotwise.aws"
# Powertools Parameters wraps the SDK clients of Secrets Manager and SSM: the secret readers' business only.
PARAMETERS = "aws_lambda_powertools.utilities.parameters"

# Every module allowed to use an AWS SDK client, by path under layers/: (kind, why).
ALLOWED: dict[str, tuple[str, str]] = {
    "slotwise/aws.py": ("client", "the client factory itself: builds and caches every boto3 client"),
    "slotwise/runtime_hooks.py": (
        "client",
        "SnapStart hooks: load a client model before the snapshot, drop clients after",
    ),
    "slotwise/data/": ("data", "generic DynamoDB access: table name, error translation, codec, paging, probes"),
    "slotwise/transaction.py": ("data", "the generic TransactWriteItems builder every domain commits through"),
    "slotwise/audit/store.py": ("store", "audit entries written alone, log pages, the stats shards"),
    "slotwise/booking/store.py": ("store", "booking records: the booking, its reference and idempotency items"),
    "slotwise/booking/inventory.py": ("store", "inventory records: slot counters, holders and the users' hold caps"),
    "slotwise/catalog/repository.py": ("store", "venues, resources and their schedules"),
    "slotwise/addons/store.py": ("store", "resources' add-ons (their stock counters are inventory items)"),
    "slotwise/identity/repository.py": ("store", "users, account statuses, sign-ins, login throttles"),
    "slotwise/notifications/store.py": ("store", "notifications, their counters and preferences"),
    "slotwise/payments/store.py": ("store", "payments, refunds and the ledger's reads"),
    "slotwise/ratelimit/store.py": ("store", "request-quota windows and booking-write token buckets"),
    "slotwise/webhooks/repository.py": ("store", "webhook subscriptions and deliveries"),
    "slotwise/live/store.py": ("store", "WebSocket connections, the per-user counts and subscriptions"),
    "slotwise/reports/store.py": ("store", "report aggregates: period items, applied booking states, event markers"),
    "slotwise/messages/store.py": ("store", "a booking's messages and their tombstones"),
    "slotwise/organisations/store.py": ("store", "organisations, their members and each user's one membership"),
    "slotwise/events/publisher.py": ("adapter", "event bus: EventBridge PutEvents (and the local health probe)"),
    "slotwise/notifications/mail.py": ("adapter", "mail sender: SES SendRawEmail"),
    "slotwise/webhooks/queue.py": ("adapter", "queue sender: the webhook delivery queue and its DLQ (SQS)"),
    "slotwise/payments/inbox.py": ("adapter", "queue sender: the Stripe events queue (SQS; payments work)"),
    "slotwise/identity/keys.py": ("adapter", "secret reader: the JWT signing secret (Secrets Manager)"),
    "slotwise/payments/signatures.py": ("adapter", "secret reader: Stripe webhook secrets (Secrets Manager)"),
    "slotwise/payments/stripe_provider.py": ("adapter", "secret reader: the Stripe API key (Secrets Manager)"),
    "slotwise/live/push.py": ("adapter", "connection push: API Gateway Management API PostToConnection"),
    "slotwise/ops/queue.py": ("adapter", "queue inspection and moves for operators: depths, peeks, DLQ redrive (SQS)"),
    "slotwise/ops/stream.py": ("adapter", "stream reader for operators' event replay (DynamoDB Streams)"),
}
# The one domain with two stores, and why: bookings and the slot inventory they claim are different records with
# different readers (availability reads the inventory alone, never a booking).
EXTRA_STORES = {"slotwise/booking/inventory.py"}
ADAPTER_NAMES = frozenset(
    {"publisher", "mail", "queue", "inbox", "keys", "signatures", "stripe_provider", "push", "stream"}
)


def _allowed(relative: str) -> tuple[str, str] | None:
    for entry, why in ALLOWED.items():
        if relative == entry or (entry.endswith("/") and relative.startswith(entry)):
            return why
    return None


def _module_name(relative: str) -> tuple[str, bool]:
    parts = relative.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, module name) of every import in the tree; `from a import b` yields both `a` and `a.b`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield from ((node.lineno, name) for name in from_import_targets(node, module, is_package))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def sdk_uses(source: str, relative: str) -> list[str]:
    """Every use of an AWS SDK client in one module's source: imports of boto3/botocore and of `slotwise.aws`,
    and `slotwise.aws` reached as an attribute."""
    module, is_package = _module_name(relative)
    tree = ast.parse(source, relative)
    found = [
        f"{relative}:{line} imports {name}"
        for line, name in _imports(tree, module, is_package)
        if name.split(".")[0] in SDK or _within(name, CLIENTS) or _within(name, PARAMETERS)
    ]
    found += [
        f"{relative}:{node.lineno} uses slotwise.aws"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "aws"
        and isinstance(node.value, ast.Name)
        and node.value.id == "slotwise"
    ]
    return sorted(set(found))


def _sources() -> Iterator[tuple[str, Path]]:
    for path in sorted((LAYER / "slotwise").rglob("*.py")):
        yield path.relative_to(LAYER).as_posix(), path
    for path in sorted(FUNCTIONS.rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), path


def test_only_data_stores_and_adapters_use_an_aws_client() -> None:
    offenders = [
        use
        for relative, path in _sources()
        if _allowed(relative) is None
        for use in sdk_uses(path.read_text(encoding="utf-8"), relative)
    ]
    assert not offenders, (
        "AWS clients belong in slotwise.data, the domain's store or a named adapter "
        "(move the call there, or add the module to ALLOWED with its reason):\n" + "\n".join(offenders)
    )


def _store_modules() -> set[str]:
    """Module names a handler must not import: slotwise.data, the client factory, every store and the
    transaction builder (and any module named store or repository, listed or not)."""
    names = {"slotwise.data", CLIENTS}
    for entry, (kind, _) in ALLOWED.items():
        if kind in ("data", "store"):
            names.add(_module_name(entry.rstrip("/"))[0])
    return names


def test_handlers_reach_data_only_through_services() -> None:
    forbidden = _store_modules()
    offenders: list[str] = []
    for path in sorted(FUNCTIONS.glob("*/handler.py")):
        relative = path.relative_to(ROOT).as_posix()
        module, is_package = _module_name(relative)
        source = path.read_text(encoding="utf-8")
        offenders += sdk_uses(source, relative)
        for line, name in _imports(ast.parse(source, relative), module, is_package):
            if any(_within(name, store) for store in forbidden) or (
                _within(name, "slotwise") and name.rsplit(".", 1)[-1] in ("store", "repository")
            ):
                offenders.append(f"{relative}:{line} imports {name}")
    assert not offenders, "handlers call a domain's service, never data access:\n" + "\n".join(offenders)


def test_the_allowed_list_is_current_and_consistent() -> None:
    for entry, (kind, why) in ALLOWED.items():
        assert why, entry
        assert (LAYER / entry).exists(), f"{entry} is allowed but gone: drop it from ALLOWED"
        name = Path(entry.rstrip("/")).stem
        if kind == "store" and entry not in EXTRA_STORES:
            assert name in ("store", "repository"), f"a store is <domain>/store.py or <domain>/repository.py: {entry}"
        if kind == "adapter":
            assert name in ADAPTER_NAMES, f"name the adapter for its job ({sorted(ADAPTER_NAMES)}): {entry}"
    stores = Counter(
        entry.split("/")[1] for entry, (kind, _) in ALLOWED.items() if kind == "store" and entry not in EXTRA_STORES
    )
    assert all(count == 1 for count in stores.values()), f"one store module per domain: {stores}"
    assert {entry.split("/")[1] for entry in EXTRA_STORES} <= set(stores)


def test_every_allowed_module_that_exists_still_needs_its_entry() -> None:
    """An entry whose module no longer touches the SDK is dead weight that would let a later call slip in."""
    unused = [
        entry
        for entry, (kind, _) in ALLOWED.items()
        if not entry.endswith("/")
        and (LAYER / entry).exists()
        and not sdk_uses((LAYER / entry).read_text(encoding="utf-8"), entry)
        and kind != "client"
    ]
    assert not unused, f"these modules no longer use an AWS client: drop them from ALLOWED: {unused}"


def _clients_called(source: str) -> set[str]:
    """The `slotwise.aws` factories a module calls (`aws.dynamodb()`, `aws.sqs()`, `aws.secret_string(...)`)."""
    return {
        node.func.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "aws"
    }


def test_stores_call_only_dynamodb_and_adapters_never_do() -> None:
    wrong: list[str] = []
    for relative, path in _sources():
        allowed = _allowed(relative)
        if allowed is None or allowed[0] == "client":
            continue
        called = _clients_called(path.read_text(encoding="utf-8"))
        others = sorted(called - {"dynamodb"})
        if allowed[0] in ("data", "store") and others:
            wrong.append(f"{relative} ({allowed[0]}) calls aws.{others}: that is an adapter's job")
        if allowed[0] == "adapter" and "dynamodb" in called:
            wrong.append(f"{relative} (adapter) calls aws.dynamodb: DynamoDB belongs in its domain's store")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("source", "relative", "expected"),
    [
        ("import boto3\n", "slotwise/x/service.py", ["slotwise/x/service.py:1 imports boto3"]),
        (
            "from botocore.exceptions import ClientError\n",
            "slotwise/x/service.py",
            [
                "slotwise/x/service.py:1 imports botocore.exceptions",
                "slotwise/x/service.py:1 imports botocore.exceptions.ClientError",
            ],
        ),
        (
            "def f():\n    from slotwise import aws\n",
            "slotwise/x/service.py",
            ["slotwise/x/service.py:2 imports slotwise.aws"],
        ),
        ("from .. import aws\n", "slotwise/x/service.py", ["slotwise/x/service.py:1 imports slotwise.aws"]),
        ("from . import aws\n", "slotwise/x/__init__.py", []),
        (
            "from slotwise.aws import queue_url\n",
            "slotwise/x/service.py",
            ["slotwise/x/service.py:1 imports slotwise.aws", "slotwise/x/service.py:1 imports slotwise.aws.queue_url"],
        ),
        (
            "import slotwise\nslotwise.aws.dynamodb()\n",
            "slotwise/x/service.py",
            ["slotwise/x/service.py:2 uses slotwise.aws"],
        ),
        (
            "from aws_lambda_powertools.utilities import parameters\n",
            "slotwise/x/service.py",
            [
                "slotwise/x/service.py:1 imports aws_lambda_powertools.utilities.parameters",
            ],
        ),
        (
            "import importlib\nimportlib.import_module('boto3')\n",
            "functions/x/handler.py",
            ["functions/x/handler.py:2 imports boto3"],
        ),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef\n"
            "from slotwise import awsome\n",
            "slotwise/x/service.py",
            [],
        ),
    ],
)
def test_the_checker_sees_every_form_of_sdk_use(source: str, relative: str, expected: list[str]) -> None:
    assert sdk_uses(source, relative) == expected


def test_a_handler_importing_a_store_is_caught() -> None:
    forbidden = _store_modules()
    source = "from slotwise.identity import repository\nfrom slotwise.data.codec import to_item\n"
    names = [name for _, name in _imports(ast.parse(source), "functions.auth.handler", False)]
    caught = [name for name in names if any(_within(name, store) for store in forbidden)]
    assert caught == [
        "slotwise.identity.repository",
        "slotwise.data.codec",
        "slotwise.data.codec.to_item",
    ]
