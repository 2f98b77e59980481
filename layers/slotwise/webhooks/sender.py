"""One webhook POST with the standard library's http.client (the layer gains no dependency).

The connection goes to the address `slotwise.webhooks.urls` checked, not to a second DNS lookup: the TCP socket is
opened to that IP, while TLS still sends the host name (SNI) and verifies the certificate against it, and the
`Host` header names it. Redirects are not followed (a 3xx is a failed attempt), and the answer's body is not read
beyond a few bytes. `TIMEOUT_SECONDS` bounds the connection and each read; the whole attempt is given the same
budget again at most (a peer trickling its status line byte by byte is cut off at the deadline).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any

from slotwise.webhooks.urls import Target

TIMEOUT_SECONDS = 5.0
USER_AGENT = "Slotwise-Webhooks/1"


@dataclass(frozen=True)
class Result:
    status_code: int | None
    error: str | None
    duration_ms: int


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _connection(target: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    return kind(target.host, target.port, address, timeout)


def post(target: Target, address: str, body: bytes, headers: dict[str, str]) -> Result:
    """POST `body` to the target through `address`; never raises for network trouble (it is the result)."""
    started = time.monotonic()
    connection = _connection(target, address, TIMEOUT_SECONDS)
    status: int | None = None
    error: str | None = None
    try:
        connection.request("POST", target.path, body=body, headers={"User-Agent": USER_AGENT, **headers})
        sock: Any = connection.sock
        if sock is not None:
            sock.settimeout(max(0.1, TIMEOUT_SECONDS - (time.monotonic() - started)))
        response = connection.getresponse()
        status = response.status
        response.read(1024)
    except TimeoutError:
        error = "timeout"
    except ssl.SSLError as exc:
        error = f"tls: {exc.reason or exc}"
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        connection.close()
    return Result(status_code=status, error=error, duration_ms=int((time.monotonic() - started) * 1000))
