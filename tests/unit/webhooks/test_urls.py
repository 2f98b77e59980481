"""The SSRF rules: a table of URLs and DNS answers, on a deployed stage and on the local/test stages."""

from __future__ import annotations

import pytest

from slotwise.webhooks import urls

# What the fake DNS answers (the real resolver is never asked in unit tests).
DNS: dict[str, list[str]] = {
    "hooks.example.com": ["93.184.216.34"],
    "v6.example.com": ["2606:4700::1111"],
    "both.example.com": ["93.184.216.34", "2606:4700::1111"],
    "private.example.com": ["10.0.0.5"],
    "mixed.example.com": ["93.184.216.34", "192.168.1.10"],  # one bad answer refuses the name
    "metadata.example.com": ["169.254.169.254"],
    "loop.example.com": ["127.0.0.1"],
    "cgnat.example.com": ["100.64.0.7"],
    "zero.example.com": ["0.0.0.0"],
    "multicast.example.com": ["224.0.0.251"],
    "reserved.example.com": ["240.0.0.1"],
    "ula.example.com": ["fd12:3456::1"],
    "linklocal6.example.com": ["fe80::1%eth0"],
    "mapped.example.com": ["::ffff:10.0.0.1"],
    "mapped-public.example.com": ["::ffff:93.184.216.34"],
    "sixtofour.example.com": ["2002:a00:1::1"],  # 6to4 of 10.0.0.1
    "benchmark.example.com": ["198.18.0.1"],
    "documentation.example.com": ["192.0.2.10"],
    "localhost": ["127.0.0.1", "::1"],
    "2130706433": ["127.0.0.1"],  # the decimal form of 127.0.0.1, resolved by getaddrinfo
    "nowhere.example.com": [],
}


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(host: str, port: int) -> list[str]:
        if host not in DNS:
            raise OSError(f"unknown host {host}")
        return DNS[host]

    monkeypatch.setattr(urls, "resolve", resolve)


ACCEPTED_EVERYWHERE = [
    "https://hooks.example.com/slotwise",
    "https://hooks.example.com",
    "https://HOOKS.example.com./in?source=slotwise&x=1",
    "https://hooks.example.com:443/x",
    "https://hooks.example.com:8443/x",
    "https://v6.example.com/x",
    "https://both.example.com/x",
]

REFUSED_EVERYWHERE = [
    ("ftp://hooks.example.com/x", "https"),
    ("file:///etc/passwd", "https"),
    ("gopher://hooks.example.com/", "https"),
    ("https://user:pass@hooks.example.com/x", "user info"),
    ("https://user@hooks.example.com/x", "user info"),
    ("https://hooks.example.com/x#frag", "fragment"),
    ("https://hooks.example.com/a b", "whitespace"),
    ("https://hooks.example.com\\@evil.com/", "backslash"),
    ("https:///x", "no host"),
    ("https://hooks.example.com:99999/x", "port"),
    ("https://hooks.example.com:0/x", "port"),
    ("https://" + "a" * 2100 + ".com/", "longer"),
    ("https://private.example.com/x", "private"),
    ("https://mixed.example.com/x", "private"),
    ("https://metadata.example.com/latest/meta-data", "link-local"),
    ("https://cgnat.example.com/x", "not a public"),
    ("https://zero.example.com/x", "unspecified"),
    ("https://multicast.example.com/x", "multicast"),
    ("https://reserved.example.com/x", "reserved"),
    ("https://ula.example.com/x", "private"),
    ("https://linklocal6.example.com/x", "link-local"),
    ("https://mapped.example.com/x", "IPv4-mapped"),
    ("https://mapped-public.example.com/x", "IPv4-mapped"),
    ("https://sixtofour.example.com/x", "embeds"),
    ("https://benchmark.example.com/x", "private"),
    ("https://documentation.example.com/x", "private"),
    ("https://nowhere.example.com/x", "does not resolve"),
    ("https://unknown.example.com/x", "does not resolve"),
    ("https://exa_mple.com/x", "valid name"),
    ("https://10.0.0.1/x", ""),
    ("https://169.254.169.254/latest/meta-data", ""),
    ("https://[fe80::1]/x", ""),
    ("https://[::ffff:127.0.0.1]/x", ""),
    ("https://0.0.0.0/x", ""),
]

# Refused on deployed stages, accepted on local/test (a receiver on the same machine).
LOCAL_ONLY = [
    "http://hooks.example.com/x",
    "https://hooks.example.com:9000/x",
    "http://127.0.0.1:8080/hook",
    "https://127.0.0.1:8443/hook",
    "http://[::1]:8080/hook",
    "http://localhost:3000/hook",
    "https://loop.example.com/x",
    "https://2130706433/x",
    "https://93.184.216.34/x",  # an IP literal: names only outside local
]


@pytest.mark.parametrize("url", ACCEPTED_EVERYWHERE)
@pytest.mark.parametrize("stage", ["prod", "dev", "test", "local"])
def test_public_https_names_pass(url: str, stage: str) -> None:
    target, address = urls.check(url, stage=stage)
    assert target.scheme == "https" and target.port in (443, 8443)
    assert address in DNS[target.host]
    assert target.path.startswith("/")


@pytest.mark.parametrize(("url", "why"), REFUSED_EVERYWHERE)
@pytest.mark.parametrize("stage", ["prod", "local"])
def test_dangerous_urls_are_refused(url: str, why: str, stage: str) -> None:
    with pytest.raises(urls.UrlRefused) as refused:
        urls.check(url, stage=stage)
    assert why in str(refused.value)


@pytest.mark.parametrize("url", LOCAL_ONLY)
def test_local_conveniences_are_refused_on_deployed_stages(url: str) -> None:
    with pytest.raises(urls.UrlRefused):
        urls.check(url, stage="prod")
    urls.check(url, stage="test")
    urls.check(url, stage="local")


def test_the_request_goes_to_the_checked_address_and_keeps_the_name() -> None:
    target, address = urls.check("https://Hooks.Example.com:8443/in?x=1", stage="prod")
    assert (target.host, target.port, target.path, address) == ("hooks.example.com", 8443, "/in?x=1", "93.184.216.34")


def test_a_rebinding_answer_at_delivery_time_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The name passed when saved; at delivery it resolves somewhere private, and the attempt is refused."""
    target = urls.parse("https://hooks.example.com/x", stage="prod")
    assert urls.checked_address(target, stage="prod") == "93.184.216.34"
    monkeypatch.setitem(DNS, "hooks.example.com", ["127.0.0.1"])
    with pytest.raises(urls.UrlRefused, match="loopback"):
        urls.checked_address(target, stage="prod")
