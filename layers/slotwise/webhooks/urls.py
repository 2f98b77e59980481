"""Which URLs a webhook may target (SSRF): checked when a subscription is saved and again at every delivery.

A URL passes when:
- it is `https://` (`http://` too on the `local` and `test` stages only), at most 2,048 characters, with no
  user info (`user:pass@`), no fragment, no whitespace or backslash;
- its port is the default or 8443 (any port on `local`/`test`);
- its host is a name, not an IP literal (loopback literals such as `127.0.0.1`/`[::1]` only on `local`/`test`),
  and **every** address the name resolves to (`socket.getaddrinfo`) is a public unicast address: no private
  (10/8, 172.16/12, 192.168/16, fc00::/7), loopback, link-local (169.254/16 with the cloud metadata endpoint,
  fe80::/10), multicast, reserved, unspecified, shared CGNAT (100.64/10), benchmarking or documentation ranges,
  no IPv4-mapped IPv6 (`::ffff:a.b.c.d`), and no 6to4 (`2002::/16`) address that embeds one of those. On
  `local`/`test`, loopback (`localhost`, 127/8, ::1) is allowed so a receiver on the same machine can be used.

At delivery time the name is resolved again, checked again (an attacker's DNS may answer differently the second
time: DNS rebinding) and the connection goes to the address that passed, never to a fresh lookup
(`slotwise.webhooks.sender`). Redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from slotwise.settings import get_settings

LOCAL_STAGES = frozenset({"local", "test"})
HTTPS_PORTS = frozenset({443, 8443})
MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"https": 443, "http": 80}
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(ValueError):
    """The URL, or an address its host resolves to, breaks a rule; the message says which."""


@dataclass(frozen=True)
class Target:
    """A URL that passed the syntactic rules: where to connect and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def is_ip_literal(self) -> bool:
        return _ip(self.host) is not None


def local_rules(stage: str | None = None) -> bool:
    """Whether the relaxed rules of the local runtime and the tests apply (http, any port, loopback)."""
    return (stage or get_settings().stage) in LOCAL_STAGES


def _ip(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def address_problem(address: IpAddress, *, allow_loopback: bool) -> str | None:
    """Why a connection to this address is refused, or None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"{address} is an IPv4-mapped IPv6 address"
        embedded = address.sixtofour
        if embedded is not None:
            problem = address_problem(embedded, allow_loopback=False)
            if problem:
                return f"{address} embeds {problem}"
    if address.is_loopback:
        return None if allow_loopback else f"{address} is a loopback address"
    checks = (
        ("is_unspecified", "unspecified"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    )
    for attribute, what in checks:
        if getattr(address, attribute):
            return f"{address} is a {what} address"
    if not address.is_global:  # shared address space (CGNAT 100.64/10) and the rest of the special registries
        return f"{address} is not a public address"
    return None


def _host(raw: str, *, local: bool) -> str:
    """The host as the connection will use it: an IDNA-encoded lowercase name, or a loopback IP locally."""
    host = raw.rstrip(".")
    if not host:
        raise UrlRefused("the URL has no host")
    address = _ip(host)
    if address is not None:
        if not local:
            raise UrlRefused("the URL's host must be a name, not an IP address")
        problem = address_problem(address, allow_loopback=True)
        if problem:
            raise UrlRefused(problem)
        return str(address)
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise UrlRefused("the URL's host is not a valid name") from exc
    if not set(host) <= _HOST_CHARS or ".." in host or host.startswith(("-", ".")):
        raise UrlRefused("the URL's host is not a valid name")
    if (host == "localhost" or host.endswith(".localhost")) and not local:
        raise UrlRefused("localhost is not allowed")
    return host


def _port(parts: SplitResult, scheme: str, *, local: bool) -> int:
    try:
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("the URL's port is not a number between 0 and 65535") from exc
    effective = port if port is not None else _DEFAULT_PORTS[scheme]
    if effective == 0:
        raise UrlRefused("the URL's port must not be 0")
    if not local and effective not in HTTPS_PORTS:
        raise UrlRefused(f"the URL's port must be one of {sorted(HTTPS_PORTS)}")
    return effective


def parse(url: str, *, stage: str | None = None) -> Target:
    """The syntactic rules (no DNS): raises UrlRefused."""
    local = local_rules(stage)
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in url):
        raise UrlRefused("the URL contains whitespace, control characters or a backslash")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (local and scheme == "http"):
        raise UrlRefused("the URL must use https" + ("" if local else " (http is allowed only locally)"))
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise UrlRefused("the URL must not carry user info (user:password@)")
    if parts.fragment or "#" in url:
        raise UrlRefused("the URL must not have a fragment")
    host = _host(parts.hostname or "", local=local)
    port = _port(parts, scheme, local=local)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=host, port=port, path=path)


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (tests replace this function)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def checked_address(target: Target, *, stage: str | None = None) -> str:
    """Resolve the host now and return the address to connect to; every address must pass, else UrlRefused."""
    local = local_rules(stage)
    literal = _ip(target.host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = resolve(target.host, target.port)
        except (OSError, UnicodeError) as exc:
            raise UrlRefused(f"{target.host} does not resolve ({exc})") from exc
    if not addresses:
        raise UrlRefused(f"{target.host} does not resolve")
    for text in addresses:
        address = _ip(text)
        if address is None:
            raise UrlRefused(f"{target.host} resolves to {text!r}, which is not an IP address")
        problem = address_problem(address, allow_loopback=local)
        if problem:
            raise UrlRefused(f"{target.host} resolves to a refused address: {problem}")
    return addresses[0].split("%", 1)[0]


def check(url: str, *, stage: str | None = None) -> tuple[Target, str]:
    """Both checks: the URL's form and, after a DNS lookup, the address to connect to."""
    target = parse(url, stage=stage)
    return target, checked_address(target, stage=stage)
