import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.stacks.slotwise_stack import FUNCTIONS_DIR
from tests.infra.support import QUEUE, SCHEDULE

# jsii prints a multi-line end-of-life banner for Node 20 on every synth; the version is known and accepted here.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="module")
def layer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in layer folder: the stack only needs `python/` to exist (the real one comes from `make synth`)."""
    layer = tmp_path_factory.mktemp("layer")
    (layer / "python").mkdir()
    (layer / "python" / "placeholder.txt").write_text("the real layer comes from infra.layer_build\n")
    return layer


@pytest.fixture(scope="module")
def console_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in console build (the real one comes from `make console`): an index and one hashed asset."""
    dist = tmp_path_factory.mktemp("console") / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(
        '<!doctype html><title>Slotwise</title><script src="/assets/app-1a2b.js"></script>\n'
    )
    (dist / "assets" / "app-1a2b.js").write_text("document.title = 'Slotwise';\n")
    return dist


@pytest.fixture(scope="module")
def app_dirs(layer_dir: Path, console_dir: Path) -> dict[str, str]:
    """The folders `infra.app.build_app` reads from its context: the built layer and the built console."""
    return {"layerDir": str(layer_dir), "consoleDir": str(console_dir)}


@pytest.fixture(scope="module")
def extended_functions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every real function plus stub handlers for the extended topology's consumer and job."""
    functions = tmp_path_factory.mktemp("functions") / "functions"
    shutil.copytree(FUNCTIONS_DIR, functions, ignore=shutil.ignore_patterns("__pycache__"))
    for group in (QUEUE.consumer_group, SCHEDULE.group):
        if (functions / group / "handler.py").exists():
            continue  # a real function of that group exists (the notifier)
        (functions / group).mkdir()
        (functions / group / "handler.py").write_text("def lambda_handler(event, context):\n    return None\n")
    return functions


@pytest.fixture(scope="module")
def no_cdk_context() -> Iterator[None]:
    # The CDK CLI passes context through this variable; a developer's shell must not change the tests.
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CDK_CONTEXT_JSON", raising=False)
        yield None
