"""A proxy in the environment that httpx cannot use is said as such, for both API clients,
without its URL (which may hold a password)."""

from collections.abc import Callable

import httpx
import pytest

from statusync.errors import StatusyncError
from statusync.github.rest import GitHub
from statusync.http.proxy import environment_proxy_checked
from statusync.sendcloud.client import SendcloudClient
from statusync.sendcloud.credentials import Credentials
from statusync.sendcloud.ratelimit import TokenBucket

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def sendcloud() -> object:
    return SendcloudClient(
        "https://panel.sendcloud.sc/api/v3",
        Credentials("public", "secret"),
        post_limiter=TokenBucket(100),
        get_limiter=TokenBucket(1000),
    )


def github() -> object:
    return GitHub("https://api.github.com", "acme/maps", "ghs_token")


@pytest.mark.parametrize("make", [sendcloud, github], ids=["Sendcloud", "GitHub"])
@pytest.mark.parametrize(
    ("proxy", "said"),
    [
        ("http://someone:hunter2@proxy.example:port", "is not a proxy URL that can be used"),
        ("ftp://someone:hunter2@proxy.example", "is not a proxy URL that can be used"),
        ("http://someone:hunter2@pro\x1bxy.example:3128", "is not a proxy URL that can be used"),
        ("socks5://someone:hunter2@proxy.example:1080", "is a SOCKS proxy, which statusync does not support"),
    ],
)
def test_a_proxy_that_cannot_be_used_is_an_error_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch, make: Callable[[], object], proxy: str, said: str
) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    with pytest.raises(StatusyncError) as caught:
        make()
    message = str(caught.value)
    assert message.startswith(
        f"the proxy set in the environment (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY) {said}"
    )
    assert "hunter2" not in message and "someone" not in message


@pytest.mark.parametrize("make", [sendcloud, github], ids=["Sendcloud", "GitHub"])
def test_a_usable_proxy_makes_a_client(monkeypatch: pytest.MonkeyPatch, make: Callable[[], object]) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://someone:hunter2@proxy.example:3128")
    make()


def test_without_a_proxy_a_bad_argument_is_not_taken_for_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(httpx.InvalidURL), environment_proxy_checked():
        raise httpx.InvalidURL("a caller's own mistake")
