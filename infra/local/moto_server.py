"""moto's server for the local runtime (`python -m infra.local.moto_server -H 127.0.0.1 -p PORT`): `moto.server`
with two of its per-request costs taken out, since one moto process must serve every queue and the bus (its state
lives in that one interpreter, so it cannot be spread over processes like the workers).

Profiled under `python -m bench load` (py-spy on the moto process, 50 users), moto spent:

- **about 35 % of its CPU building JSONPath parsers.** For every event and every rule target, EventBridge's
  `EventTemplateParser.parse` calls `jsonpath_ng.ext.parse`, which builds a new PLY parser (its LALR tables)
  before parsing the same two default paths again. A parsed path is an immutable expression tree, so the same
  path string parsed once per process is the same result: `parse` is memoised here.
- **about 6 % writing the request log** (one line per request, to moto.log): the log keeps warnings and errors.

Neither changes what moto answers; both are patches of moto's process alone, never of the functions' code.
"""

from __future__ import annotations

import functools
import logging
import sys
from typing import Any


def memoise_jsonpath() -> None:
    """`jsonpath_ng.ext.parse` remembered per path string (moto imports it inside the function on each call, so
    replacing the module attribute is enough)."""
    import jsonpath_ng.ext

    parse = getattr(jsonpath_ng.ext, "parse")  # noqa: B009 - the package does not declare it exported
    if isinstance(parse, functools._lru_cache_wrapper):
        return
    cached: Any = functools.lru_cache(maxsize=512)(parse)
    setattr(jsonpath_ng.ext, "parse", cached)  # noqa: B010 - as above


def quiet_request_log() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> None:
    memoise_jsonpath()
    quiet_request_log()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
