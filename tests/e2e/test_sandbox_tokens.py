"""The sandbox's OAuth2 token endpoint over real HTTP on 127.0.0.1: it issues Bearer tokens for
its key pair as Sendcloud's account service does (RFC 6749 answers), the API takes them until they
expire or a test expires them, and its controls count and expire them."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from statusync.sandbox import FaultRule, SandboxOptions, SandboxServer, SandboxStore, StoredIntegration
from statusync.sendcloud.credentials import Credentials

KEYS = Credentials("client-id-test", "client-secret-test")
SHOP = 5
FORM = {"grant_type": "client_credentials", "scope": "api"}
HTTP_ONLY = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # plain http: no CA certificates to load

Start = Callable[..., SandboxServer]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def start(start_sandbox: Start) -> Start:
    """A sandbox with one shop: start(clock=..., **SandboxOptions fields)."""

    def _start(clock: Clock | None = None, **options: Any) -> SandboxServer:
        return start_sandbox(
            SandboxStore([StoredIntegration(SHOP, "ACME NL")]),
            KEYS,
            SandboxOptions(**options),
            **({"clock": clock} if clock else {}),
        )

    return _start


@pytest.fixture
def server(start: Start) -> SandboxServer:
    return start()


def ask(
    server: SandboxServer, auth: tuple[str, str] | None = (KEYS.public_key, KEYS.secret_key), **kwargs: Any
) -> httpx.Response:
    kwargs.setdefault("data", FORM)
    return httpx.post(server.token_url, auth=auth, verify=HTTP_ONLY, trust_env=False, **kwargs)


def api_get(server: SandboxServer, authorization: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/integrations/{SHOP}",
        headers={"Authorization": authorization},
        verify=HTTP_ONLY,
        trust_env=False,
    )


def issue(server: SandboxServer) -> str:
    response = ask(server)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def test_the_key_pair_as_client_credentials_gets_a_bearer_token(server: SandboxServer) -> None:
    response = ask(server)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "scope", "token_type"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("bearer", 3600, "api")
    assert response.headers["Cache-Control"] == "no-store"
    assert api_get(server, f"Bearer {body['access_token']}").status_code == 200
    assert ask(server, data={"grant_type": "client_credentials"}).status_code == 200  # scope optional
    assert server.token_url.endswith("/oauth2/token/")


def test_every_token_is_new_and_all_stay_valid(server: SandboxServer) -> None:
    first, second = issue(server), issue(server)
    assert first != second
    assert api_get(server, f"Bearer {first}").status_code == 200
    assert api_get(server, f"Bearer {second}").status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"auth": ("client-id-test", "wrong")}, 401, "invalid_client"),
        ({"auth": None}, 401, "invalid_client"),
        ({"data": {"grant_type": "password"}}, 400, "unsupported_grant_type"),
        ({"data": {"scope": "api"}}, 400, "unsupported_grant_type"),
        ({"data": {"grant_type": "client_credentials", "scope": "api admin"}}, 400, "invalid_scope"),
        ({"data": None, "json": FORM}, 400, "invalid_request"),
    ],
)
def test_refusals_are_rfc_6749_errors(
    server: SandboxServer, kwargs: dict[str, Any], status: int, error: str
) -> None:
    response = ask(server, **kwargs)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["error_description"]
    assert server.store.tokens_issued() == 0


def test_only_post_is_allowed(server: SandboxServer) -> None:
    response = httpx.get(
        server.token_url, auth=(KEYS.public_key, KEYS.secret_key), verify=HTTP_ONLY, trust_env=False
    )
    assert response.status_code == 405 and response.headers["Allow"] == "POST"


@pytest.mark.parametrize("authorization", ["Bearer not-a-token-it-issued", "Bearer"])
def test_the_api_refuses_a_bearer_token_it_did_not_issue(server: SandboxServer, authorization: str) -> None:
    assert api_get(server, authorization).status_code == 401


def test_expiring_tokens_through_the_admin_endpoint(server: SandboxServer) -> None:
    token = issue(server)
    admin = httpx.Client(base_url=server.admin_url, verify=HTTP_ONLY, trust_env=False)
    assert admin.get("/tokens").json() == {"issued": 1}
    assert admin.delete("/tokens").status_code == 204
    refused = api_get(server, f"Bearer {token}")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.json()["errors"][0]["detail"] == "The access token is invalid or has expired."
    assert api_get(server, f"Bearer {issue(server)}").status_code == 200  # a new one works
    assert admin.get("/tokens").json() == {"issued": 2}


def test_a_token_expires_after_its_lifetime(start: Start) -> None:
    clock = Clock()
    server = start(token_lifetime=60, clock=clock)
    response = ask(server)
    assert response.json()["expires_in"] == 60
    token = response.json()["access_token"]
    clock.now += 59
    assert api_get(server, f"Bearer {token}").status_code == 200
    clock.now += 1
    assert api_get(server, f"Bearer {token}").status_code == 401


def test_an_oauth2_only_sandbox_refuses_the_key_pair_over_basic(start: Start) -> None:
    server = start(oauth2_only=True)
    refused = httpx.get(
        f"{server.url}/integrations/{SHOP}",
        auth=(KEYS.public_key, KEYS.secret_key),
        verify=HTTP_ONLY,
        trust_env=False,
    )
    assert refused.status_code == 401
    assert "OAuth2" in refused.json()["errors"][0]["detail"]
    assert api_get(server, f"Bearer {issue(server)}").status_code == 200


def test_token_requests_are_logged_and_can_be_made_to_fail(server: SandboxServer) -> None:
    server.store.add_fault(FaultRule(method="POST", path="/oauth2/token", status=503, times=1))
    assert ask(server).status_code == 503
    assert ask(server).status_code == 200
    assert ask(server, auth=None).status_code == 401
    assert [(r.method, r.path, r.status) for r in server.store.requests()] == [
        ("POST", "/oauth2/token/", 503),
        ("POST", "/oauth2/token/", 200),
        ("POST", "/oauth2/token/", 401),
    ]


def test_the_partner_id_header_is_logged(server: SandboxServer) -> None:
    token = issue(server)
    httpx.get(
        f"{server.url}/integrations/{SHOP}",
        verify=HTTP_ONLY,
        trust_env=False,
        headers={"Authorization": f"Bearer {token}", "Sendcloud-Partner-Id": "p-42"},
    )
    api_get(server, f"Bearer {token}")
    assert [r.partner_id for r in server.store.requests()] == [None, "p-42", None]
