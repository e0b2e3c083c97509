"""The OAuth2 client credentials flow through SendcloudClient, over httpx.MockTransport with a fake
clock: one token per client, renewed before it expires and once on a 401, shared by threads,
its failures worded for people, and no secret or token in any message."""

from __future__ import annotations

import base64
import logging
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from statusync.errors import ApiError, CredentialsRejected, StatusyncError, StopRun, TokenRequestFailed
from statusync.http.excerpt import EXCERPT_CHARS
from statusync.sendcloud.auth import ClientCredentialsAuth, KeyPairAuth
from statusync.sendcloud.client import SendcloudClient
from statusync.sendcloud.credentials import ClientCredentials, Credentials
from statusync.sendcloud.ratelimit import TokenBucket

CLIENT_ID = "client-id-7f3a90c2"
CLIENT_SECRET = "client-secret-5b18e6d4"
BASIC = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
TOKEN_URL = "https://account.sendcloud.com/oauth2/token/"
BASE = "https://panel.sendcloud.sc/api/v3"
SOURCE = "SENDCLOUD_CLIENT_ID / SENDCLOUD_CLIENT_SECRET (account 'default')"
MAPPING = {"READY_TO_SEND": "11", "IN_TRANSIT": "11", "DELIVERED": "12", "CANCEL": None}

Answer = Callable[[httpx.Request], httpx.Response]


def token(value: str, **extra: Any) -> Answer:
    body = {"access_token": value, "token_type": "bearer", "expires_in": 3600, "scope": "api", **extra}
    return lambda request: httpx.Response(200, json={k: v for k, v in body.items() if v is not None})


def reply(status: int, **kwargs: Any) -> Answer:
    return lambda request: httpx.Response(status, **kwargs)


def bearer_ok(*valid: str) -> Answer:
    """The API: 200 for a request with one of the `valid` tokens, else 401."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") in {f"Bearer {t}" for t in valid}:
            return httpx.Response(200, json=None)
        return httpx.Response(
            401,
            json={
                "errors": [
                    {
                        "status": "401",
                        "code": "authentication_failed",
                        "detail": "The access token is invalid.",
                    }
                ]
            },
        )

    return answer


class Api:
    """A client with OAuth2 client credentials over a scripted transport: the token endpoint and
    the API each answer from their own script (the last answer repeats)."""

    def __init__(
        self,
        tokens: list[Answer],
        api: list[Answer] | None = None,
        *,
        token_url: str = TOKEN_URL,
        partner_id: str | None = None,
    ) -> None:
        self.now = 0.0
        self.token_requests: list[httpx.Request] = []
        self.api_requests: list[httpx.Request] = []
        # As each request was sent: a request sent again after a 401 is the same object, renewed.
        self.api_auth: list[str] = []
        self.waits: list[float] = []
        self._tokens = tokens
        self._api = api or [bearer_ok(*(f"t{n}" for n in range(1, 10)))]
        self.auth = ClientCredentialsAuth(
            ClientCredentials(CLIENT_ID, CLIENT_SECRET, token_url), source=SOURCE, clock=lambda: self.now
        )
        # The rate limit's own clock, moved only by its waits (a 429 pauses the bucket).
        self.bucket_now = 0.0
        self.bucket_waits: list[float] = []
        unlimited = TokenBucket(10**6, 10**6, clock=lambda: self.bucket_now, sleep=self._bucket_sleep)
        self.client = SendcloudClient(
            BASE,
            self.auth,
            transport=httpx.MockTransport(self._handle),
            post_limiter=unlimited,
            get_limiter=unlimited,
            sleep=self.waits.append,
            random=lambda: 0.5,
            key_source=SOURCE,
            partner_id=partner_id,
        )

    def _bucket_sleep(self, seconds: float) -> None:
        self.bucket_waits.append(seconds)
        self.bucket_now += seconds

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL or request.url.path.startswith("/oauth2/"):
            self.token_requests.append(request)
            script, count = self._tokens, len(self.token_requests)
        else:
            self.api_requests.append(request)
            self.api_auth.append(request.headers.get("Authorization", ""))
            script, count = self._api, len(self.api_requests)
        return script[min(count, len(script)) - 1](request)

    def upsert(self) -> None:
        self.client.upsert_mapping(7, MAPPING)


def test_the_first_request_fetches_a_token_that_the_next_ones_reuse() -> None:
    api = Api([token("t1")])
    for _ in range(3):
        api.upsert()
    [asked] = api.token_requests
    assert (asked.method, str(asked.url)) == ("POST", TOKEN_URL)
    assert asked.headers["Authorization"] == f"Basic {BASIC}"
    assert asked.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(urllib.parse.parse_qsl(asked.content.decode())) == {
        "grant_type": "client_credentials",
        "scope": "api",
    }
    assert asked.headers["User-Agent"].startswith("statusync/")
    assert api.api_auth == ["Bearer t1"] * 3


@pytest.mark.parametrize(
    ("expires_in", "kept_until", "renewed_at"),
    [
        (3600, 3539.0, 3541.0),  # an hour: renewed a minute before it runs out
        (10, 4.9, 5.1),  # a short one: at half its life
        (None, 3539.0, 3541.0),  # no expires_in: Sendcloud's hour is assumed
        ("soon", 3539.0, 3541.0),
    ],
)
def test_a_token_is_renewed_shortly_before_it_expires(
    expires_in: Any, kept_until: float, renewed_at: float
) -> None:
    api = Api([token("t1", expires_in=expires_in), token("t2", expires_in=expires_in)])
    api.upsert()
    api.now = kept_until
    api.upsert()
    assert len(api.token_requests) == 1
    api.now = renewed_at
    api.upsert()
    assert len(api.token_requests) == 2
    assert api.api_auth == ["Bearer t1", "Bearer t1", "Bearer t2"]


def test_a_401_with_a_token_thought_valid_renews_it_once_and_sends_again() -> None:
    api = Api([token("t1"), token("t2")], [bearer_ok("t2")])
    api.upsert()
    assert len(api.token_requests) == 2
    assert api.api_auth == ["Bearer t1", "Bearer t2"]
    assert api.api_requests[0].content == api.api_requests[1].content  # the same request again
    api.upsert()  # the renewed token serves the next requests
    assert len(api.token_requests) == 2


def test_a_second_401_is_not_renewed_again_and_stops_the_run() -> None:
    api = Api([token("t1"), token("t2"), token("t3")], [bearer_ok()])
    with pytest.raises(CredentialsRejected) as caught:
        api.upsert()
    assert len(api.token_requests) == 2 and len(api.api_requests) == 2
    assert isinstance(caught.value, StopRun)
    assert str(caught.value) == (
        "POST /shop-order-statuses/mapping (integration 7): HTTP 401: Sendcloud rejected the API "
        "credentials (The access token is invalid.); check the OAuth2 client id and secret in "
        f"{SOURCE}"
    )


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            reply(
                401, json={"error": "invalid_client", "error_description": "Client authentication failed."}
            ),
            f"OAuth2 token request to {TOKEN_URL}: HTTP 401: invalid_client: Client authentication failed; "
            f"check the OAuth2 client id and secret in {SOURCE}",
        ),
        (
            reply(400, json={"error": "invalid_scope"}),
            f"OAuth2 token request to {TOKEN_URL}: HTTP 400: invalid_scope; "
            f"check the OAuth2 client id and secret in {SOURCE}",
        ),
        (
            reply(404, text="<html>Not here</html>", headers={"Content-Type": "text/html"}),
            f"OAuth2 token request to {TOKEN_URL}: HTTP 404: Not Found; check the account's token_url",
        ),
        (
            reply(200, text="<html>login</html>", headers={"Content-Type": "text/html"}),
            f"OAuth2 token request to {TOKEN_URL}: HTTP 200 but the answer is not a JSON object; "
            "check the account's token_url",
        ),
        (
            reply(200, json={"token_type": "bearer"}),
            f"OAuth2 token request to {TOKEN_URL}: HTTP 200 but no usable access_token in the answer; "
            "check the account's token_url",
        ),
        (
            reply(200, json={"access_token": "has space", "token_type": "bearer"}),
            f"OAuth2 token request to {TOKEN_URL}: HTTP 200 but no usable access_token in the answer; "
            "check the account's token_url",
        ),
        (
            token("t1", token_type="mac"),
            f"OAuth2 token request to {TOKEN_URL}: HTTP 200 but its token_type 'mac' is not Bearer; "
            "check the account's token_url",
        ),
    ],
)
def test_a_refused_or_unusable_token_request_stops_the_run_before_any_api_request(
    answer: Answer, message: str
) -> None:
    api = Api([answer])
    with pytest.raises(TokenRequestFailed) as caught:
        api.upsert()
    assert str(caught.value) == message
    assert isinstance(caught.value, StopRun) and isinstance(caught.value, ApiError)
    assert api.api_requests == [] and len(api.token_requests) == 1


@pytest.mark.parametrize("status", [200, 400])
def test_a_token_answer_nested_too_deep_is_a_failed_token_request_not_a_crash(status: int) -> None:
    deep = '{"access_token": ' + "[" * 100_000 + "]" * 100_000 + "}"
    api = Api([reply(status, text=deep)])
    with pytest.raises(TokenRequestFailed) as caught:
        api.upsert()
    assert str(caught.value).startswith(f"OAuth2 token request to {TOKEN_URL}: HTTP {status}")
    assert api.api_requests == []


def test_a_token_endpoint_that_fails_for_a_moment_is_retried_like_the_api() -> None:
    api = Api([reply(503), reply(429, headers={"Retry-After": "3"}), token("t1")])
    api.upsert()
    assert len(api.token_requests) == 3 and len(api.api_requests) == 1
    assert api.waits[0] == 0.375  # backoff after the 503 (with jitter 0.5) ...
    assert sum(api.waits + api.bucket_waits) >= 0.375 + 3  # ... and the 429's Retry-After


def test_a_token_endpoint_that_stays_down_is_named_in_the_error_and_stops_the_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = Api([reply(503, text="down for maintenance")])
    with (
        caplog.at_level(logging.WARNING, logger="statusync.api"),
        pytest.raises(TokenRequestFailed) as caught,
    ):
        api.upsert()
    assert str(caught.value) == (
        f"OAuth2 token request to {TOKEN_URL}: HTTP 503: down for maintenance (after 4 attempts)"
    )
    assert isinstance(caught.value, StopRun)  # no request of the account can be authenticated
    assert api.api_requests == [] and len(api.token_requests) == 4
    # The retries name the request that failed, not the API request that needed the token.
    retries = [r.getMessage() for r in caplog.records]
    assert len(retries) == 3 and all(
        line.startswith(f"OAuth2 token request to {TOKEN_URL}: HTTP 503; retrying") for line in retries
    )
    with pytest.raises(TokenRequestFailed):
        api.upsert()  # the account's later requests fail without asking again
    assert len(api.token_requests) == 4


def test_workers_needing_a_token_from_a_failing_endpoint_share_one_fetch_with_its_retries() -> None:
    gate = Gate(reply(503))
    api = Api([gate])
    errors = upserts_at_once(api, gate, 6)
    assert len(api.token_requests) == 4  # one fetch and its 3 retries, not 4 per worker
    assert [type(e) for e in errors] == [TokenRequestFailed] * 6 and api.api_requests == []


@pytest.mark.parametrize("answer", [reply(500), reply(502)], ids=["500", "502"])
def test_a_failed_token_request_never_leaves_the_write_uncertain(answer: Answer) -> None:
    # The API request did not go out: unlike a 5xx from the API itself, nothing may have been
    # applied.
    api = Api([answer])
    with pytest.raises(ApiError) as caught:
        api.upsert()
    assert caught.value.maybe_applied is False and api.api_requests == []


def test_a_token_renewal_refused_after_an_attempt_that_may_have_arrived_leaves_it_uncertain() -> None:
    # The first attempt met a 500 (it may have been carried out); the retry's 401 asks for a
    # new token, which the endpoint refuses: the write is still of unknown outcome.
    refused = reply(401, json={"error": "invalid_client"})
    api = Api([token("t1"), refused], [reply(500), bearer_ok()])
    with pytest.raises(TokenRequestFailed) as caught:
        api.upsert()
    assert caught.value.maybe_applied is True and len(api.api_requests) == 2
    assert str(caught.value).startswith(f"OAuth2 token request to {TOKEN_URL}: HTTP 401")
    with pytest.raises(TokenRequestFailed) as again:  # a request that never left is not
        api.upsert()
    assert again.value.maybe_applied is False and len(api.api_requests) == 2


def test_a_401_after_an_attempt_that_may_have_arrived_leaves_the_write_uncertain() -> None:
    api = Api([token("t1"), token("t2")], [reply(500), bearer_ok()])
    with pytest.raises(CredentialsRejected) as caught:
        api.upsert()
    assert caught.value.maybe_applied is True and len(api.api_requests) == 3


def test_a_token_request_that_times_out_never_leaves_the_write_uncertain() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    api = Api([time_out])
    with pytest.raises(ApiError) as caught:
        api.upsert()
    assert caught.value.maybe_applied is False
    assert str(caught.value).startswith(
        f"OAuth2 token request to {TOKEN_URL}: timed out after 4 attempts to "
        "https://account.sendcloud.com (ReadTimeout: timed out)"
    )


def test_a_token_endpoint_that_cannot_be_reached_is_named_in_the_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    api = Api([refuse])
    with pytest.raises(ApiError) as caught:
        api.upsert()
    assert str(caught.value) == (
        f"OAuth2 token request to {TOKEN_URL}: could not connect after 4 attempts to "
        "https://account.sendcloud.com (ConnectError: Connection refused); check the account's "
        "token_url or the network"
    )


class Gate:
    """An answer held back until it is released, so that other threads pile up behind it."""

    def __init__(self, answer: Answer) -> None:
        self.asked = threading.Event()
        self.release = threading.Event()
        self._answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.set()
        self.release.wait(5)
        return self._answer(request)


def upserts_at_once(api: Api, gate: Gate, count: int) -> list[BaseException]:
    """`count` threads upserting through `api` while `gate` holds the token answer; their errors."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            api.upsert()
        except BaseException as exc:  # the test asserts on them
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    assert gate.asked.wait(5)
    gate.release.set()
    for thread in threads:
        thread.join(5)
    return errors


def test_workers_that_need_a_token_at_once_share_one_request() -> None:
    gate = Gate(token("t1"))
    api = Api([gate])
    assert upserts_at_once(api, gate, 8) == []
    assert len(api.token_requests) == 1 and len(api.api_requests) == 8


def test_workers_waiting_for_a_token_that_is_refused_are_refused_without_asking_again() -> None:
    gate = Gate(reply(401, json={"error": "invalid_client"}))
    api = Api([gate])
    errors = upserts_at_once(api, gate, 4)
    assert len(api.token_requests) == 1 and api.api_requests == []
    assert [type(e) for e in errors] == [TokenRequestFailed] * 4
    assert len({id(e) for e in errors}) == 4  # each thread its own exception
    assert len({str(e) for e in errors}) == 1


def test_workers_that_meet_the_same_401_renew_the_token_once() -> None:
    barrier = threading.Barrier(4, timeout=5)

    def api_answer(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer t1":
            barrier.wait()  # all four are out with t1 when the API stops taking it
            return httpx.Response(401, json=None)
        return bearer_ok("t2")(request)

    api = Api([token("t1"), token("t2")], [api_answer])
    threads = [threading.Thread(target=api.upsert) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(api.token_requests) == 2
    assert sorted(api.api_auth) == (["Bearer t1"] * 4 + ["Bearer t2"] * 4)


def test_no_secret_or_token_in_an_error_message() -> None:
    bearer = "ory_at_0123456789abcdef"
    echo = "; ".join([CLIENT_SECRET, CLIENT_ID, BASIC, f"Bearer {bearer}"])
    api = Api([token(bearer)], [reply(400, json={"errors": [{"detail": f"you sent {echo}"}]})])
    with pytest.raises(ApiError) as caught:
        api.upsert()
    text = str(caught.value)
    assert CLIENT_SECRET not in text and CLIENT_ID not in text and BASIC not in text
    assert bearer not in text and text.count("***") == 4


def test_no_secret_in_a_refused_token_requests_message() -> None:
    api = Api(
        [
            reply(
                401,
                json={
                    "error": "invalid_client",
                    "error_description": f"unknown client {CLIENT_ID}:{CLIENT_SECRET}",
                },
            )
        ]
    )
    with pytest.raises(TokenRequestFailed) as caught:
        api.upsert()
    assert CLIENT_SECRET not in str(caught.value) and CLIENT_ID not in str(caught.value)


@pytest.mark.parametrize("before", range(180, 200))
def test_a_secret_echoed_where_the_excerpt_of_a_token_answer_is_cut_is_hidden_whole(before: int) -> None:
    api = Api([reply(401, text="x" * before + CLIENT_SECRET)])
    with pytest.raises(TokenRequestFailed) as caught:
        api.upsert()
    assert CLIENT_SECRET[:8] not in str(caught.value)
    assert f"HTTP 401: {('x' * before + '***')[: EXCERPT_CHARS - 1]}" in str(caught.value)


def test_the_partner_id_goes_to_the_api_not_to_the_token_endpoint() -> None:
    api = Api([token("t1")], partner_id="partner-42")
    api.upsert()
    assert api.api_requests[0].headers["Sendcloud-Partner-Id"] == "partner-42"
    assert "Sendcloud-Partner-Id" not in api.token_requests[0].headers
    plain = Api([token("t1")])
    plain.upsert()
    assert "Sendcloud-Partner-Id" not in plain.api_requests[0].headers


@pytest.mark.parametrize(
    "url",
    [
        "http://account.example.com/oauth2/token/",
        "ftp://x/token",
        "https://user:pw@account.sendcloud.com/oauth2/token/",
    ],
)
def test_a_token_url_that_must_not_be_used_is_refused_before_any_request(url: str) -> None:
    with pytest.raises(StatusyncError, match="token URL"):
        Api([token("t1")], token_url=url)


def test_the_sandbox_may_serve_the_token_endpoint_over_loopback_http() -> None:
    Api([token("t1")], token_url="http://127.0.0.1:8765/oauth2/token/")


def test_reprs_hide_the_credentials() -> None:
    creds = ClientCredentials(CLIENT_ID, CLIENT_SECRET)
    for text in (repr(creds), str(creds), repr([creds])):
        assert CLIENT_ID not in text and CLIENT_SECRET not in text and TOKEN_URL in text


def test_the_key_pair_auth_redacts_its_basic_token_first() -> None:
    auth = KeyPairAuth(Credentials("pk-3c9f0b7e21d54a68", "sk-8e1d4c7a90b2f365"))
    pair = base64.b64encode(b"pk-3c9f0b7e21d54a68:sk-8e1d4c7a90b2f365").decode()
    assert auth.secrets()[0] == pair  # longest first: the keys inside it come after
    assert set(auth.secrets()) == {pair, "sk-8e1d4c7a90b2f365", "pk-3c9f0b7e21d54a68"}
    # Too short to be real keys, they are left alone (only their Basic token is long enough).
    short = base64.b64encode(b"short:keys").decode()
    assert KeyPairAuth(Credentials("short", "keys")).secrets() == (short,)
