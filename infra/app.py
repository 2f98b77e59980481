"""CDK app entry: `cdk synth -c stage=prod`, or `python -m infra.app` / `python infra/app.py` from the repo root.

Context (cdk.json or `-c key=value`):
- `stage`: dev | prod (default dev). prod keeps data (RETAIN, deletion protection) and protects the stack.
- `layerDir`: the built layer folder (default build/layer, relative to the repo root; `make synth` builds it).
- `corsOrigins`: browser origins allowed by CORS, a JSON list or comma-separated (default: none, no CORS).
- `oidcIssuer` + `oidcAudience` + `oidcJwksUrl` (+ optional `oidcRolesClaim`, default `custom:role`): external-OIDC
  mode. All or none. The same values configure API Gateway's JWT authorizer (on every route but health, docs,
  openapi.json and `$default`) and every function's SLOTWISE_AUTH_MODE=oidc environment (infra/components/auth.py).
  Without them the functions run the own issuer (SLOTWISE_AUTH_MODE=own, issuer `slotwise-<stage>`).
- `alarmEmail`: an address subscribed to the alarm topic (default: none; subscribe on-call yourself).
- `consoleDir`: the built web console (default infra/console/dist, relative to the repo root; `make console` builds
  it). The console deploys as its own stack, `SlotwiseConsole-<stage>`; synth fails with the fix when it is missing.

cdk-nag's AwsSolutions checks run on every synth; a finding that is not acknowledged with a reason fails it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# `python infra/app.py` puts infra/ rather than the repo root on sys.path, and the slotwise package lives under
# layers/ (on Lambda it comes from the layer), so make both importable before the first project import.
for _module, _path in (("infra", ROOT), ("slotwise", ROOT / "layers")):
    if importlib.util.find_spec(_module) is None:
        sys.path.insert(0, str(_path))

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.components.auth import OidcSettings  # noqa: E402
from infra.stacks import STAGES, SlotwiseConsoleStack, SlotwiseStack, Stage  # noqa: E402

DEFAULT_STAGE: Stage = "dev"
DEFAULT_LAYER_DIR = "build/layer"
DEFAULT_CONSOLE_DIR = "infra/console/dist"


def stage_from(value: object) -> Stage:
    if value is None:
        return DEFAULT_STAGE
    if value not in STAGES:
        raise ValueError(f"unknown stage {value!r}: use -c stage=<{'|'.join(STAGES)}>")
    return value


def layer_dir_from(value: object) -> Path:
    return _repo_path(value, DEFAULT_LAYER_DIR)


def console_dir_from(value: object) -> Path:
    return _repo_path(value, DEFAULT_CONSOLE_DIR)


def _repo_path(value: object, default: str) -> Path:
    path = Path(str(value) if value is not None else default)
    # The CDK CLI runs the app from the cdk.json folder, but tests and scripts may not.
    return path if path.is_absolute() else ROOT / path


def string_list_from(value: object) -> tuple[str, ...]:
    """A context list: `-c key=a,b` arrives as a string, cdk.json may hold a JSON list (or its text)."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else text.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return tuple(item.strip() for item in value if item.strip())


def oidc_from(
    issuer: object, audience: object, jwks_url: object = None, roles_claim: object = None
) -> OidcSettings | None:
    """External-OIDC mode from the context (all of issuer, audience and JWKS URL), or None: the own issuer."""
    audiences = string_list_from(audience)
    named = {"oidcIssuer": issuer, "oidcAudience": audiences, "oidcJwksUrl": jwks_url, "oidcRolesClaim": roles_claim}
    if not any(named.values()):
        return None
    missing = [key for key in ("oidcIssuer", "oidcAudience", "oidcJwksUrl") if not named[key]]
    if missing:
        raise ValueError(
            "external-OIDC mode needs all of -c oidcIssuer=<https://issuer> -c oidcAudience=<aud> "
            f"-c oidcJwksUrl=<https://.../jwks.json>; missing: {', '.join(missing)}"
        )
    if len(audiences) != 1:
        raise ValueError(
            f"name exactly one oidcAudience, not {list(audiences)}: the functions verify tokens against one "
            "audience (SLOTWISE_OIDC_AUDIENCE), so the gateway accepts that one only"
        )
    optional = {"roles_claim": str(roles_claim)} if roles_claim else {}
    return OidcSettings(issuer=str(issuer), audience=audiences[0], jwks_url=str(jwks_url), **optional)


def build_app(context: dict[str, Any] | None = None) -> cdk.App:
    app = cdk.App(context=context)
    stage = stage_from(app.node.try_get_context("stage"))
    alarm_email = app.node.try_get_context("alarmEmail")
    backend = SlotwiseStack(
        app,
        f"Slotwise-{stage}",
        stage=stage,
        layer_dir=layer_dir_from(app.node.try_get_context("layerDir")),
        cors_origins=string_list_from(app.node.try_get_context("corsOrigins")),
        oidc=oidc_from(
            app.node.try_get_context("oidcIssuer"),
            app.node.try_get_context("oidcAudience"),
            app.node.try_get_context("oidcJwksUrl"),
            app.node.try_get_context("oidcRolesClaim"),
        ),
        alarm_email=str(alarm_email) if alarm_email else None,
        description=f"Slotwise booking backend ({stage})",
        termination_protection=stage == "prod",
    )
    SlotwiseConsoleStack(
        app,
        f"SlotwiseConsole-{stage}",
        stage=stage,
        dist_dir=console_dir_from(app.node.try_get_context("consoleDir")),
        api_url=backend.http_api.url,
        description=f"Slotwise web console ({stage})",
    )
    cdk.Tags.of(app).add("project", "slotwise")
    cdk.Tags.of(app).add("stage", stage)
    # cdk-nag 3 is a policy-validation plugin (as an Aspect it fails: "aspect.visit is not a function").
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
