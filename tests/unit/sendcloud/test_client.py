"""SendcloudClient against httpx.MockTransport: requests, pacing, retries, errors; never a real wait."""

from __future__ import annotations

import base64
import email.utils
import gzip
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from statusync import __version__
from statusync.errors import ApiError, StatusyncError
from statusync.http.excerpt import EXCERPT_CHARS
from statusync.sendcloud import client as client_module
from statusync.sendcloud.auth import MIN_REDACTED
from statusync.sendcloud.client import SendcloudClient
from statusync.sendcloud.credentials import Credentials
from statusync.sendcloud.ratelimit import TokenBucket
from statusync.sendcloud.retry import BACKOFF_CAP, MAX_RATE_LIMITED_WAITS, backoff_delay
from tests.support.fake_time import FakeTime

PUBLIC = "pk-3c9f0b7e21d54a68"
SECRET = "sk-8e1d4c7a90b2f365"
TOKEN = base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()
BASE = "https://panel.sendcloud.sc/api/v3"
NOW = 1_767_225_600.0  # the injected wall clock: 2026-01-01T00:00:00Z
MAPPING = {"READY_TO_SEND": "11", "IN_TRANSIT": "11", "DELIVERED": "12", "CANCEL": None}

Step = Callable[[httpx.Request], httpx.Response]


def reply(status: int, **kwargs: Any) -> Step:
    return lambda request: httpx.Response(status, **kwargs)


def fail(exc_type: type[httpx.TransportError]) -> Step:
    def step(request: httpx.Request) -> httpx.Response:
        raise exc_type("boom", request=request)

    return step


class Api:
    """A client over a scripted transport: the answers come in order, the last one repeats."""

    def __init__(self, *steps: Step, base_url: str = BASE, **kwargs: Any) -> None:
        self.requests: list[httpx.Request] = []
        self.waits: list[float] = []
        self._steps = steps or (reply(200, json=None),)
        self.now = 0.0  # the buckets' clock: it moves only when they wait (a 429's Retry-After)

        def bucket_sleep(seconds: float) -> None:
            self.waits.append(seconds)
            self.now += seconds

        unlimited = TokenBucket(10**6, 10**6, clock=lambda: self.now, sleep=bucket_sleep)
        kwargs.setdefault("post_limiter", unlimited)
        kwargs.setdefault("get_limiter", unlimited)
        kwargs.setdefault("random", lambda: 0.5)
        self.client = SendcloudClient(
            base_url,
            Credentials(PUBLIC, SECRET),
            transport=httpx.MockTransport(self._handle),
            sleep=self.waits.append,
            clock=lambda: NOW,
            **kwargs,
        )

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._steps[min(len(self.requests), len(self._steps)) - 1](request)


def jsonapi(detail: str, status: str = "400") -> dict[str, Any]:
    return {"errors": [{"status": status, "code": "invalid", "title": "Invalid", "detail": detail}]}


def test_upsert_sends_all_four_categories_with_basic_auth() -> None:
    api = Api()
    api.client.upsert_mapping(
        123, {"CANCEL": None, "DELIVERED": "12", "IN_TRANSIT": "11", "READY_TO_SEND": "11"}
    )
    [request] = api.requests
    assert (request.method, str(request.url)) == ("POST", f"{BASE}/shop-order-statuses/mapping")
    assert request.headers["Authorization"] == f"Basic {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert json.loads(request.content) == {
        "integration_id": 123,
        "mapping": [
            {"status_category": "READY_TO_SEND", "external_id": "11"},
            {"status_category": "IN_TRANSIT", "external_id": "11"},
            {"status_category": "DELIVERED", "external_id": "12"},
            {"status_category": "CANCEL", "external_id": None},
        ],
    }


def test_user_agent_names_statusync_and_httpx() -> None:
    api = Api(reply(200, json={"data": []}))
    api.client.list_integrations()
    assert api.requests[0].headers["User-Agent"] == (
        f"statusync/{__version__} (+python-httpx/{httpx.__version__})"
    )


def test_a_cookie_the_api_sets_is_not_sent_back() -> None:
    # Every request carries its own credentials: a cookie would only be kept and sent unasked.
    api = Api(reply(200, json={"data": []}, headers={"Set-Cookie": "session=abc; Path=/"}))
    api.client.list_integrations()
    api.client.list_integrations()
    assert [r.headers.get("Cookie") for r in api.requests] == [None, None]


def test_get_mapping_parses_entries_and_validity() -> None:
    api = Api(
        reply(
            200,
            json={
                "data": {
                    "integration_id": 7,
                    "extra": 1,
                    "mapping": [
                        {"status_category": "CANCEL", "external_id": "9", "is_valid": False},
                        {"status_category": "READY_TO_SEND", "external_id": 11, "is_valid": True},
                    ],
                }
            },
        )
    )
    live = api.client.get_mapping(7)
    assert api.requests[0].url.params["integration_id"] == "7"
    assert live.integration_id == 7
    # Missing categories are unmapped; numbers come back as the strings mapping files hold.
    assert live.as_mapping() == {"READY_TO_SEND": "11", "IN_TRANSIT": None, "DELIVERED": None, "CANCEL": "9"}
    assert [(e.category, e.external_id) for e in live.invalid_entries()] == [("CANCEL", "9")]


@pytest.mark.parametrize(
    ("show_deleted", "language", "query"),
    [
        (False, None, {"integration_id": "5"}),
        (True, None, {"integration_id": "5", "show_deleted": "true"}),
        (True, "nl-nl", {"integration_id": "5", "show_deleted": "true", "language": "nl-nl"}),
    ],
)
def test_list_shop_statuses(show_deleted: bool, language: str | None, query: dict[str, str]) -> None:
    api = Api(
        reply(
            200,
            json={
                "data": [
                    {"external_id": "17-B", "status": "Delivered", "deleted_at": None, "translations": []},
                    {"external_id": "14-A", "status": "Cancelled", "deleted_at": "2023-11-04T14:15:22Z"},
                ]
            },
        )
    )
    statuses = api.client.list_shop_statuses(5, show_deleted=show_deleted, language=language)
    assert dict(api.requests[0].url.params) == query
    assert [(s.external_id, s.status) for s in statuses] == [("17-B", "Delivered"), ("14-A", "Cancelled")]
    assert statuses[0].deleted_at is None
    assert statuses[1].deleted_at is not None and statuses[1].deleted_at.year == 2023


def test_integrations_tolerate_unknown_fields() -> None:
    item = {"id": 1, "shop_name": "ACME", "type": "prestashop_v2", "webhook_url": None, "new": [1]}
    api = Api(reply(200, json={"data": [item]}), reply(200, json={"data": item}))
    [listed] = api.client.list_integrations()
    fetched = api.client.get_integration(1)
    assert listed == fetched
    assert (fetched.id, fetched.shop_name, fetched.type) == (1, "ACME", "prestashop_v2")
    assert [r.url.path for r in api.requests] == ["/api/v3/integrations", "/api/v3/integrations/1"]


def test_unexpected_success_body_is_an_api_error() -> None:
    api = Api(reply(200, json={"data": {"mapping": "nope"}}))
    with pytest.raises(
        ApiError,
        match=r"^GET /shop-order-statuses/mapping \(integration 3\): "
        r"unexpected response",
    ) as caught:
        api.client.get_mapping(3)
    assert caught.value.status == 200
    assert len(api.requests) == 1 and api.waits == []  # a malformed answer is not retried


def test_503_then_success_is_retried(caplog: pytest.LogCaptureFixture) -> None:
    api = Api(reply(503, text="busy"), reply(200, json=None))
    with caplog.at_level(logging.INFO, logger="statusync.api"):
        api.client.upsert_mapping(123, MAPPING)
    assert len(api.requests) == 2
    assert api.waits == [backoff_delay(1, 0.5)]
    assert "HTTP 503; retrying" in caplog.text
    assert any(r.name == "statusync.api" and r.levelno == logging.WARNING for r in caplog.records)


def test_persistent_503_gives_up_after_four_attempts() -> None:
    api = Api(reply(503, json=jsonapi("Service unavailable", "503")))
    with pytest.raises(ApiError) as caught:
        api.client.upsert_mapping(123, MAPPING)
    assert len(api.requests) == 4
    assert len(api.waits) == 3
    error = caught.value
    assert (error.status, error.detail) == (503, "Service unavailable")
    assert str(error) == (
        "POST /shop-order-statuses/mapping (integration 123): HTTP 503: "
        "Service unavailable (after 4 attempts)"
    )


@pytest.mark.parametrize(
    "exc_type", [httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError, httpx.WriteError]
)
def test_dropped_connection_is_retried(exc_type: type[httpx.TransportError]) -> None:
    api = Api(fail(exc_type), reply(200, json=None))
    api.client.upsert_mapping(123, MAPPING)
    assert len(api.requests) == 2 and len(api.waits) == 1


@pytest.mark.parametrize(
    ("exc_type", "what"),
    [
        (httpx.RemoteProtocolError, "connection dropped"),
        (httpx.ReadError, "connection dropped"),
        (httpx.ConnectError, "could not connect"),
        (httpx.ReadTimeout, "timed out"),
        (httpx.ConnectTimeout, "timed out"),
    ],
)
def test_persistent_transport_failure_says_what_happened(
    exc_type: type[httpx.TransportError], what: str
) -> None:
    api = Api(fail(exc_type))
    with pytest.raises(ApiError) as caught:
        api.client.upsert_mapping(123, MAPPING)
    assert len(api.requests) == 4
    error = caught.value
    assert error.status is None
    assert str(error).startswith(
        f"POST /shop-order-statuses/mapping (integration 123): {what} after 4 attempts"
    )
    assert error.__cause__ is None and error.__suppress_context__  # no httpx object rides along


@pytest.mark.parametrize("bypassed", [False, True], ids=["proxied", "NO_PROXY"])
def test_a_connection_that_fails_through_a_proxy_names_the_proxy(
    monkeypatch: pytest.MonkeyPatch, bypassed: bool
) -> None:
    # The proxy refuses the connection, not the API: the message must not send the user to the
    # API's URL alone. The proxy by its origin: its URL may carry a user and password.
    for name in ("https_proxy", "http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://someone:hunter2@proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "panel.sendcloud.sc" if bypassed else "elsewhere.example")
    api = Api(fail(httpx.ConnectError))
    with pytest.raises(ApiError) as caught:
        api.client.list_integrations()
    message = str(caught.value)
    assert "hunter2" not in message and "someone" not in message
    if bypassed:
        assert "proxy" not in message
    else:
        assert "through the proxy http://proxy.example:3128 (HTTPS_PROXY or ALL_PROXY)" in message


def test_timeout_is_retried() -> None:
    api = Api(fail(httpx.ReadTimeout), fail(httpx.WriteTimeout), reply(200, json={"data": []}))
    assert api.client.list_integrations() == []
    assert len(api.requests) == 3


def test_unsupported_protocol_is_not_retried() -> None:
    api = Api(fail(httpx.UnsupportedProtocol))
    with pytest.raises(ApiError, match="after 1 attempt ") as caught:
        api.client.list_integrations()
    assert len(api.requests) == 1 and api.waits == []
    assert caught.value.status is None


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        ("3", 3.0),
        (email.utils.formatdate(NOW + 7, usegmt=True), 7.0),
        (email.utils.formatdate(NOW - 30, usegmt=True), 0.0),
        (None, 2.0),
        ("soon", 2.0),
        ("86400", 120.0),
    ],
)
def test_429_waits_for_retry_after(retry_after: str | None, wait: float) -> None:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    api = Api(reply(429, headers=headers), reply(200, json=None))
    api.client.upsert_mapping(123, MAPPING)
    assert api.waits == ([wait] if wait else [])  # a date gone by asks for no wait at all
    assert len(api.requests) == 2


def test_429_is_bounded_and_apart_from_error_attempts() -> None:
    api = Api(reply(429, headers={"Retry-After": "1"}))
    with pytest.raises(ApiError) as caught:
        api.client.upsert_mapping(123, MAPPING)
    assert api.waits == [1.0] * MAX_RATE_LIMITED_WAITS
    assert len(api.requests) == MAX_RATE_LIMITED_WAITS + 1
    assert caught.value.status == 429
    assert "HTTP 429" in str(caught.value) and "still rate limited" in str(caught.value)

    # Being throttled does not use up the attempts that 5xx and dropped connections get.
    api = Api(reply(429), reply(503), fail(httpx.ReadError), reply(502), reply(200, json=None))
    api.client.upsert_mapping(123, MAPPING)
    assert len(api.requests) == 5


def test_503_with_retry_after_waits_as_asked() -> None:
    api = Api(reply(503, headers={"Retry-After": "4"}), reply(200, json=None))
    api.client.upsert_mapping(1, MAPPING)
    assert api.waits == [4.0]


def test_400_is_not_retried_and_shows_the_api_detail() -> None:
    api = Api(
        reply(
            400,
            json={
                "errors": [
                    {"status": "400", "code": "invalid", "detail": "Wrong request format, expected object"},
                    {
                        "status": "400",
                        "code": "invalid_choice",
                        "detail": "'99' is not a valid choice",
                        "source": {"pointer": "/mapping/2/external_id"},
                    },
                ]
            },
        )
    )
    with pytest.raises(ApiError) as caught:
        api.client.upsert_mapping(123, MAPPING)
    assert len(api.requests) == 1 and api.waits == []
    error = caught.value
    assert error.status == 400
    assert str(error) == (
        "POST /shop-order-statuses/mapping (integration 123): HTTP 400: "
        "Wrong request format, expected object; "
        "/mapping/2/external_id: '99' is not a valid choice"
    )


@pytest.mark.parametrize(
    ("kwargs", "detail"),
    [
        ({"text": "integration   not\nfound"}, "integration not found"),
        ({"text": "x" * 500}, "x" * 199 + "…"),
        ({"content": b""}, "Not Found"),
        ({"html": "<html><body><h1>404</h1></body></html>"}, "Not Found"),
        ({"json": {"detail": "Not found."}}, '{"detail":"Not found."}'),
    ],
)
def test_error_without_jsonapi_body(kwargs: dict[str, Any], detail: str) -> None:
    api = Api(reply(404, **kwargs))
    with pytest.raises(ApiError) as caught:
        api.client.get_integration(9)
    assert caught.value.detail == detail
    assert str(caught.value) == f"GET /integrations/9: HTTP 404: {detail}"


# JSON nested deeper than Python's parser recurses: a hostile or broken server's error page.
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("body", [DEEP, '{"errors": ' + DEEP + "}"])
def test_an_error_body_nested_too_deep_is_an_api_error_not_a_crash(body: str) -> None:
    api = Api(reply(400, text=body, headers={"Content-Type": "application/json"}))
    with pytest.raises(ApiError) as caught:
        api.client.get_integration(9)
    assert str(caught.value).startswith("GET /integrations/9: HTTP 400: " + body[:20])


def test_an_error_detail_of_a_megabyte_is_cut_in_the_message() -> None:
    api = Api(reply(422, json={"errors": [{"detail": "x" * (1 << 20)}]}))
    with pytest.raises(ApiError) as caught:
        api.client.get_integration(9)
    assert caught.value.detail == "x" * 999 + "…"


def test_a_gzip_bomb_is_read_no_further_than_the_largest_body(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_BODY", 1 << 20)
    bomb = gzip.compress(b'{"data": [' + b" " * (4 << 20) + b"]}")  # 4 KiB that inflate to 4 MiB
    api = Api(reply(200, content=bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(ApiError) as caught:
        api.client.list_integrations()
    assert str(caught.value) == (
        "GET /integrations: connection dropped after 4 attempts to https://panel.sendcloud.sc "
        "(ReadError: the answer's body is larger than 1 MiB)"
    )
    small = Api(reply(200, content=gzip.compress(b'{"data": []}'), headers={"Content-Encoding": "gzip"}))
    assert small.client.list_integrations() == []


def test_answers_are_asked_for_uncompressed_and_a_large_one_is_cut_off_as_it_arrives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Identity: the bytes on the wire are the body, so its size is counted as it arrives.
    monkeypatch.setattr(client_module, "MAX_BODY", 1 << 20)
    body = [b'{"data": [', b" " * (2 << 20), b"]}"]  # as it arrives from the network, in chunks
    api = Api(lambda request: httpx.Response(200, content=iter(body)))
    with pytest.raises(ApiError, match="ReadError: the answer's body is larger than 1 MiB"):
        api.client.list_integrations()
    assert api.requests[0].headers["Accept-Encoding"] == "identity"


def test_a_body_that_drips_for_ever_times_out() -> None:
    now = [0.0]

    def drip() -> Iterator[bytes]:
        yield b'{"data": ['
        while True:  # a byte every 10 s: httpx's read timeout alone never ends it
            now[0] += 10.0
            yield b" "

    api = Api(lambda request: httpx.Response(200, content=drip()), monotonic=lambda: now[0])
    with pytest.raises(ApiError) as caught:
        api.client.upsert_mapping(123, MAPPING)
    assert str(caught.value) == (
        "POST /shop-order-statuses/mapping (integration 123): timed out after 4 attempts to "
        "https://panel.sendcloud.sc (ReadTimeout: the answer's body took longer than 120 s)"
    )
    assert caught.value.maybe_applied  # the request itself arrived


def test_401_explains_without_any_key(caplog: pytest.LogCaptureFixture) -> None:
    # Even a server that echoes the request headers back does not get the keys into the message.
    echo = {
        "errors": [
            {
                "status": "401",
                "code": "authentication_failed",
                "detail": f"Invalid credentials in 'Basic {TOKEN}' ({PUBLIC}/{SECRET})",
            }
        ]
    }
    with caplog.at_level(logging.DEBUG):
        api = Api(reply(401, json=echo))
        with pytest.raises(ApiError) as caught:
            api.client.upsert_mapping(123, MAPPING)
    error = caught.value
    assert (error.status, len(api.requests), api.waits) == (401, 1, [])
    assert "rejected the API credentials" in str(error)
    assert "SENDCLOUD_PUBLIC_KEY / SENDCLOUD_SECRET_KEY" in str(error)
    seen = [str(error), repr(error), error.detail, caplog.text, repr(api.client), repr(error.args)]
    for text in seen:
        for secret in (SECRET, PUBLIC, TOKEN):
            assert secret not in text


@pytest.mark.parametrize("status", [400, 401, 503])
@pytest.mark.parametrize("before", range(180, 200))
def test_a_key_echoed_where_the_excerpt_of_a_body_is_cut_is_hidden_whole(status: int, before: int) -> None:
    # A plain-text body that echoes a key across the excerpt's cut: no first part of it is shown.
    api = Api(reply(status, text="x" * before + SECRET + " " + TOKEN))
    with pytest.raises(ApiError) as caught:
        api.client.upsert_mapping(123, MAPPING)
    error = caught.value
    assert SECRET[:MIN_REDACTED] not in str(error) and TOKEN[:MIN_REDACTED] not in str(error)
    assert error.detail.startswith(("x" * before + "***")[: EXCERPT_CHARS - 1])


@pytest.mark.parametrize(
    "url",
    [
        "http://panel.sendcloud.sc/api/v3",
        "http://10.0.0.8:8765/api/v3",
        "ftp://panel.sendcloud.sc",
        f"https://{PUBLIC}:{SECRET}@example.com",
    ],
)
def test_unsafe_base_url_is_refused_before_any_request(url: str) -> None:
    with pytest.raises(StatusyncError) as caught:
        Api(base_url=url)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765/api/v3",
        "http://localhost:8765/api/v3",
        "http://[::1]:8765/api/v3",
        "https://panel.sendcloud.sc/api/v3/",
    ],
)
def test_loopback_http_and_https_are_accepted(url: str) -> None:
    api = Api(base_url=url)
    api.client.upsert_mapping(1, MAPPING)
    assert str(api.requests[0].url) == url.rstrip("/") + "/shop-order-statuses/mapping"


def test_backoff_grows_within_the_cap() -> None:
    api = Api(reply(500), random=lambda: 0.999, max_attempts=10)
    with pytest.raises(ApiError, match="after 10 attempts"):
        api.client.upsert_mapping(1, MAPPING)
    assert len(api.waits) == 9
    assert api.waits == sorted(api.waits) and api.waits[0] < api.waits[3]
    assert all(0 < w <= BACKOFF_CAP for w in api.waits)
    assert api.waits[-1] > BACKOFF_CAP * 0.99


@pytest.mark.parametrize("retry", range(1, 12))
@pytest.mark.parametrize("rand", [0.0, 0.3, 0.999999])
def test_backoff_delay_has_equal_jitter(retry: int, rand: float) -> None:
    step = min(BACKOFF_CAP, 0.5 * 2 ** (retry - 1))
    assert step / 2 <= backoff_delay(retry, rand) <= step


def test_each_request_takes_one_token_from_its_own_bucket() -> None:
    post_time, get_time = FakeTime(), FakeTime()
    api = Api(
        reply(503),
        reply(200, json=None),
        post_limiter=TokenBucket(60, 1, clock=post_time.clock, sleep=post_time.sleep),
        get_limiter=TokenBucket(60, 1, clock=get_time.clock, sleep=get_time.sleep),
    )
    api.client.upsert_mapping(1, MAPPING)  # a 503 and its retry: two requests, two tokens
    api.client.upsert_mapping(2, MAPPING)
    assert len(api.requests) == 3
    assert post_time.waits == [pytest.approx(1.0)] * 2  # one token a second, the first free
    assert get_time.waits == []


def test_client_is_shared_between_threads() -> None:
    api = Api()
    with api.client as client:
        threads = [threading.Thread(target=client.upsert_mapping, args=(n, MAPPING)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(json.loads(r.content)["integration_id"] for r in api.requests) == list(range(16))


def test_a_proxy_set_in_the_environment_carries_the_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx honours HTTPS_PROXY and the like only with its own transport: a network that needs
    # a proxy must still reach Sendcloud (httpx reads the variables from the process itself).
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def proxy() -> None:
        connection, _ = listener.accept()
        with connection:
            seen.append(connection.recv(65536).split(b"\r\n", 1)[0])
            connection.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=proxy, daemon=True)
    thread.start()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{listener.getsockname()[1]}")
    unlimited = TokenBucket(10**6, 10**6)
    client = SendcloudClient(
        "http://127.0.0.1:9/api/v3",
        Credentials(PUBLIC, SECRET),
        post_limiter=unlimited,
        get_limiter=unlimited,
        max_attempts=1,
        sleep=lambda _: None,
    )
    with client, pytest.raises(ApiError):
        client.list_shop_statuses(7)
    thread.join(timeout=10)
    listener.close()
    assert seen == [b"GET http://127.0.0.1:9/api/v3/shop-order-statuses?integration_id=7 HTTP/1.1"]
