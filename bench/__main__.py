"""`python -m bench [name ...]` — run benchmarks; each writes docs/bench/<name>.md, and docs/performance.md is
rebuilt from every section present, so running one benchmark keeps the others' last figures."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import revision

BENCH_DIR = Path(__file__).parent
DOCS = BENCH_DIR.parent / "docs"
SECTIONS = DOCS / "bench"
REPORT = DOCS / "performance.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)
    available = sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))
    SECTIONS.mkdir(parents=True, exist_ok=True)
    for name in args.names or available:
        print(f"running {name}…", flush=True)
        section = importlib.import_module(f"bench.bench_{name}").run()
        stamp = (
            f"\n_Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {revision.commit()}; Python "
            f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores._\n"
        )
        (SECTIONS / f"{name}.md").write_text(section + stamp, encoding="utf-8")
    parts = [
        (SECTIONS / f"{name}.md").read_text(encoding="utf-8")
        for name in available
        if (SECTIONS / f"{name}.md").exists()
    ]
    REPORT.write_text(
        "# Performance\n\nWritten by `make bench` (`python -m bench [name]` for one section). Every figure comes "
        "from the run stamped under its section; no test asserts timings.\n\n" + "\n".join(parts),
        encoding="utf-8",
    )
    print(f"wrote {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
