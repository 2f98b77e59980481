"""CDK app entry: `cdk synth -c stage=prod`, or `python -m infra.app` / `python infra/app.py` from the repo root.

Context: `stage` (dev | prod, default dev) and `layerDir` (default build/layer, relative to the repo root; build it
with `python -m infra.layer_build`).
"""

from __future__ import annotations

import importlib.util
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

from infra.stacks import STAGES, SlotwiseStack, Stage  # noqa: E402

DEFAULT_STAGE: Stage = "dev"
DEFAULT_LAYER_DIR = "build/layer"


def stage_from(value: object) -> Stage:
    if value is None:
        return DEFAULT_STAGE
    if value not in STAGES:
        raise ValueError(f"unknown stage {value!r}: use -c stage=<{'|'.join(STAGES)}>")
    return value


def layer_dir_from(value: object) -> Path:
    path = Path(str(value) if value is not None else DEFAULT_LAYER_DIR)
    # The CDK CLI runs the app from the cdk.json folder, but tests and scripts may not.
    return path if path.is_absolute() else ROOT / path


def build_app(context: dict[str, Any] | None = None) -> cdk.App:
    app = cdk.App(context=context)
    stage = stage_from(app.node.try_get_context("stage"))
    SlotwiseStack(
        app,
        f"Slotwise-{stage}",
        stage=stage,
        layer_dir=layer_dir_from(app.node.try_get_context("layerDir")),
        description=f"Slotwise booking backend ({stage})",
        termination_protection=stage == "prod",
    )
    cdk.Tags.of(app).add("project", "slotwise")
    cdk.Tags.of(app).add("stage", stage)
    return app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
