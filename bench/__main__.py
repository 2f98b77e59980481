"""`python -m bench [name ...]` — run the benchmarks and write docs/performance.md."""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).parent
REPORT = BENCH_DIR.parent / "docs" / "performance.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)
    available = sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))
    chosen = args.names or available
    sections = []
    for name in chosen:
        print(f"running {name}…", flush=True)
        sections.append(importlib.import_module(f"bench.bench_{name}").run())
    header = (
        "# Performance\n\n"
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}, "
        f"{platform.machine()}, {_cores()} cores. Re-run it to refresh; every figure below comes from that run.\n"
    )
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(header + "\n" + "\n".join(sections), encoding="utf-8")
    print(f"wrote {REPORT}")
    return 0


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
