"""The local runtime's static path for the console (infra/local/console.py): files, the SPA fallback, nothing
outside dist, and a clear answer when the console was not built."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.local import console


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    built = tmp_path / "dist"
    (built / "assets").mkdir(parents=True)
    (built / "index.html").write_text("<html>console</html>")
    (built / "assets" / "index-abc.js").write_text("console.log(1)")
    (built / "config.json").write_text('{"apiBase": "https://api.example"}')
    (tmp_path / "secret.txt").write_text("not the console's")
    return built


def test_paths_outside_the_console_are_left_to_the_api(dist: Path) -> None:
    assert console.answer("GET", "/api/v1/health", dist) is None
    assert console.answer("GET", "/consoles", dist) is None


def test_assets_are_served_with_their_type_and_cached_for_ever(dist: Path) -> None:
    status, headers, body = console.answer("GET", "/console/assets/index-abc.js", dist) or (0, [], b"")
    assert (status, body) == (200, b"console.log(1)")
    assert dict(headers)["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert "immutable" in dict(headers)["cache-control"]


def test_index_and_config_are_never_cached(dist: Path) -> None:
    for path in ("/console/", "/console/config.json"):
        status, headers, _ = console.answer("GET", path, dist) or (0, [], b"")
        assert status == 200
        assert dict(headers)["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/console/calendar", "/console/bookings/bk-1", "/console/../secret.txt"])
def test_unknown_and_escaping_paths_get_the_index(dist: Path, path: str) -> None:
    status, headers, body = console.answer("GET", path, dist) or (0, [], b"")
    assert (status, body) == (200, b"<html>console</html>")
    assert dict(headers)["content-type"].startswith("text/html")


def test_the_bare_prefix_redirects_to_the_directory(dist: Path) -> None:
    assert console.answer("GET", "/console", dist) == (308, [("location", "/console/")], b"")


def test_only_reads_are_allowed(dist: Path) -> None:
    status, headers, _ = console.answer("POST", "/console/", dist) or (0, [], b"")
    assert status == 405
    assert dict(headers)["allow"] == "GET, HEAD"


def test_an_unbuilt_console_says_how_to_build_it(tmp_path: Path) -> None:
    status, _, body = console.answer("GET", "/console/", tmp_path / "missing") or (0, [], b"")
    assert status == 503
    assert b"make console" in body
