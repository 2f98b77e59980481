"""Port checks, so a taken port is reported plainly instead of as a stack trace from deep inside a server."""

from __future__ import annotations

import socket
from contextlib import ExitStack


class PortInUse(RuntimeError):
    def __init__(self, port: int, what: str) -> None:
        super().__init__(
            f"Port {port} (for {what}) is already in use. Stop whatever holds it (`lsof -i :{port}`) "
            f"or pick another port, e.g. `make dev {what.upper().replace(' ', '_')}_PORT=<port>`."
        )
        self.port = port


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers bind with SO_REUSEADDR, so a port left in TIME_WAIT by a stopped server is free for them too.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def ensure_free(port: int, what: str, host: str = "127.0.0.1") -> None:
    if not is_free(port, host):
        raise PortInUse(port, what)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_open(port: int, timeout: float, host: str = "127.0.0.1") -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.1)
    return False


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` different ports nobody listens on now. Each is held until all are picked: closed one by one, the OS
    may hand out the same port twice (two servers of one runtime were once given one port and it failed to start)."""
    with ExitStack() as held:
        ports: list[int] = []
        for _ in range(count):
            sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(sock.getsockname()[1])
        return ports
