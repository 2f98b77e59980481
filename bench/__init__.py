"""Benchmarks: each `bench/bench_*.py` module has `run() -> str` returning a Markdown section.

`make bench` runs them all and writes docs/performance.md. Figures are measured, never asserted in tests.
"""
