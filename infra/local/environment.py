"""The environment a handler sees locally: endpoints of the local engines, dummy credentials, Slotwise settings."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from slotwise.api.routes import API_PREFIX

STATE_FILE = Path(".local") / "runtime.json"


@dataclass(frozen=True)
class Endpoints:
    api: str
    dynamodb: str
    moto: str

    @property
    def stripe_webhook_url(self) -> str:
        """Where the simulated payment provider posts its signed Stripe events: this runtime's own webhook route,
        so they take the path Stripe's would (signature check, queue, processor)."""
        parts = urlsplit(self.api)
        # A server listening on every interface is reached on loopback.
        host = "127.0.0.1" if parts.hostname in (None, "", "0.0.0.0", "::") else parts.hostname
        return f"http://{host}:{parts.port}{API_PREFIX}/webhooks/stripe"

    @property
    def live_management_url(self) -> str:
        """The WebSocket Management API's endpoint (`/@connections/{id}` on the API port, infra/local/live.py)."""
        parts = urlsplit(self.api)
        host = "127.0.0.1" if parts.hostname in (None, "", "0.0.0.0", "::") else parts.hostname
        return f"http://{host}:{parts.port}"

    def as_env(self, table_name: str = "slotwise", bus_name: str = "slotwise") -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            # boto3 reads service-specific endpoints first, then the global one (moto serves the rest).
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": self.dynamodb,
            "AWS_ENDPOINT_URL": self.moto,
            "SLOTWISE_STAGE": "local",
            "SLOTWISE_TABLE_NAME": table_name,
            "SLOTWISE_EVENT_BUS_NAME": bus_name,
            "SLOTWISE_TRUST_IDENTITY_HEADERS": "true",
            "SLOTWISE_SIMULATED_WEBHOOK_URL": self.stripe_webhook_url,
            "SLOTWISE_LIVE_ENDPOINT_URL": self.live_management_url,
            "POWERTOOLS_SERVICE_NAME": "slotwise",
            "POWERTOOLS_METRICS_NAMESPACE": "Slotwise",
            # EMF lines would drown the request log locally; metrics are checked in tests instead.
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        }

    def apply(self) -> None:
        from slotwise.aws import reset_clients
        from slotwise.settings import get_settings

        os.environ.update(self.as_env())
        get_settings.cache_clear()
        reset_clients()

    def save(self, path: Path = STATE_FILE) -> None:
        import json

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path = STATE_FILE) -> Endpoints:
        import json

        if not path.exists():
            raise SystemExit("The local runtime is not running (no .local/runtime.json). Start it with `make dev`.")
        return cls(**json.loads(path.read_text()))
