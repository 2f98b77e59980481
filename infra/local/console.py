"""The web console's static files on the API port: `/console/*` → `infra/console/dist` (`make console` builds it).

Deployed, CloudFront serves the same files from S3; locally one origin serves the console and the API, so the
console needs no `config.json` and no CORS. A path that names no file gets index.html: the console routes with
`#/...`, but a reload of `/console/anything` still opens it (the single-page-app fallback CloudFront also does).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

PREFIX = "/console"
DIST = Path(__file__).resolve().parents[1] / "console" / "dist"
Answer = tuple[int, list[tuple[str, str]], bytes]

# Vite names every asset by its content hash, so a browser may keep one for ever; index.html names the current
# ones, so it is never cached.
_IMMUTABLE = "public, max-age=31536000, immutable"
_NO_CACHE = "no-cache"
_SECURITY = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
]


def _file(path: Path, cache: str) -> Answer:
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
        content_type += "; charset=utf-8"
    headers = [("content-type", content_type), ("cache-control", cache), *_SECURITY]
    return 200, headers, path.read_bytes()


def answer(method: str, path: str, dist: Path = DIST) -> Answer | None:
    """The console's answer for `path`, or None when the path is not the console's (the API answers it)."""
    if path != PREFIX and not path.startswith(PREFIX + "/"):
        return None
    if method not in ("GET", "HEAD"):
        return 405, [("allow", "GET, HEAD"), ("content-type", "text/plain; charset=utf-8")], b"Method Not Allowed\n"
    if path == PREFIX:
        return 308, [("location", PREFIX + "/")], b""
    index = dist / "index.html"
    if not index.is_file():
        body = b"The console is not built: run `make console` (it builds infra/console into infra/console/dist).\n"
        return 503, [("content-type", "text/plain; charset=utf-8")], body
    root = dist.resolve()
    wanted = (root / path.removeprefix(PREFIX + "/")).resolve()
    # `..` (or a symlink) out of dist is not served: it falls back to index.html like any unknown path.
    if wanted != root and wanted.is_relative_to(root) and wanted.is_file():
        immutable = wanted.is_relative_to(root / "assets")
        return _file(wanted, _IMMUTABLE if immutable else _NO_CACHE)
    return _file(index, _NO_CACHE)
