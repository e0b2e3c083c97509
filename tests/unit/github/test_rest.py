"""The small GitHub REST client: retries, pagination, and a token that goes nowhere else."""

from __future__ import annotations

import httpx
import pytest

from statusync.errors import StatusyncError
from statusync.github.rest import GitHub, GitHubError

TOKEN = "ghs-never-shown-0123"
API = "https://api.github.example"


def client(handler: object, sleeps: list[float] | None = None) -> GitHub:
    waits = sleeps if sleeps is not None else []
    return GitHub(
        API,
        "acme/maps",
        TOKEN,
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        sleep=waits.append,
    )


def test_a_get_is_retried_after_a_server_error_a_post_is_not() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        return httpx.Response(502 if len(seen) < 3 else 200, json={"ok": True})

    sleeps: list[float] = []
    assert client(handler, sleeps).get("/x") == {"ok": True}
    assert seen == ["GET"] * 3 and sleeps == [1.0, 2.0]
    seen.clear()
    with pytest.raises(GitHubError) as failed:
        client(lambda request: httpx.Response(502)).post("/x", {})  # might have been created
    assert failed.value.status == 502 and failed.value.write


def test_a_secondary_rate_limit_waits_for_retry_after() -> None:
    answers = iter(
        [
            httpx.Response(403, headers={"retry-after": "7"}, json={"message": "secondary rate limit"}),
            httpx.Response(201, json={"id": 1}),
        ]
    )
    sleeps: list[float] = []
    assert client(lambda request: next(answers), sleeps).post("/x", {}) == {"id": 1}
    assert sleeps == [7.0]


def test_an_exhausted_rate_limit_is_not_a_denial() -> None:
    response = httpx.Response(
        403, headers={"x-ratelimit-remaining": "0"}, json={"message": "API rate limit exceeded"}
    )
    with pytest.raises(GitHubError) as failed:
        client(lambda request: response).patch("/x", {})
    assert not failed.value.denied
    assert "403: API rate limit exceeded" in str(failed.value)


def test_pages_are_followed_but_only_on_the_api_host() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        links = {
            1: f'<{API}/repos/acme/maps/issues?page=2>; rel="next"',
            2: '<https://elsewhere.example/steal?page=3>; rel="next"',
        }
        return httpx.Response(200, json=[{"n": page}], headers={"Link": links[page]})

    github = client(handler)
    items = github.pages(github.repo_path("issues"), {})
    assert next(items) == {"n": 1} and next(items) == {"n": 2}
    with pytest.raises(GitHubError, match="points away from the API"):
        next(items)


def test_errors_never_show_the_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(GitHubError) as failed:
        client(handler).get("/x")
    assert TOKEN not in str(failed.value) and "no answer from" in str(failed.value)


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "GITHUB_TOKEN is not set"),
        ({"GITHUB_TOKEN": TOKEN}, "GITHUB_REPOSITORY is not set"),
        ({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "nope"}, "is not of the form OWNER/NAME"),
        (
            {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "a/b", "GITHUB_API_URL": "http://api.x"},
            "must be an https:// URL",
        ),
        # Set but empty (a secret that does not exist, a mapping left blank) is never the default.
        (
            {"GITHUB_TOKEN": ""},
            "^the environment variable GITHUB_TOKEN is set but empty; set it from github.token, or unset it$",
        ),
        ({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": " "}, "GITHUB_REPOSITORY is set but empty"),
        (
            {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "a/b", "GITHUB_API_URL": ""},
            "^the environment variable GITHUB_API_URL is set but empty; set it to the GitHub API's URL "
            r"\(https://api.github.com for github.com\), or unset it$",
        ),
    ],
)
def test_the_environment_is_checked_before_any_request(env: dict[str, str], message: str) -> None:
    with pytest.raises(StatusyncError, match=message) as failed:
        GitHub.from_env(env)
    assert TOKEN not in str(failed.value)


@pytest.mark.parametrize(
    "token",
    [f"{TOKEN}\n", f" {TOKEN}", f"{TOKEN[:4]}\u00e9{TOKEN[4:]}", f"{TOKEN[:4]}\x01{TOKEN[4:]}"],
    ids=["line-break", "space", "not-ascii", "control"],
)
def test_a_token_that_cannot_be_sent_is_a_clear_error_that_never_shows_it(token: str) -> None:
    # A secret pasted with a line break or a stray character: said as such before any request
    # (not a crash, not "no answer from" the API), and the token's text is never in it.
    env = {"GITHUB_TOKEN": token, "GITHUB_REPOSITORY": "acme/maps", "GITHUB_API_URL": API}
    with pytest.raises(StatusyncError) as failed:
        GitHub.from_env(env, transport=httpx.MockTransport(lambda request: httpx.Response(200, json={})))
    message = str(failed.value)
    assert message.startswith("GITHUB_TOKEN holds ")
    assert "set it again" in message
    assert TOKEN not in message and TOKEN[4:] not in message


@pytest.mark.parametrize(
    "status, headers, message, limited",
    [
        (403, {}, "Resource not accessible by integration", False),
        (403, {"retry-after": "30"}, "You have exceeded a secondary rate limit", True),
        (403, {}, "You have exceeded a secondary rate limit. Please wait a few minutes", True),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1030"}, "API rate limit exceeded", True),
        (429, {}, "Too Many Requests", True),
        (404, {}, "Not Found", False),
    ],
)
def test_a_rate_limit_is_told_from_a_refusal_of_the_token(
    status: int, headers: dict[str, str], message: str, limited: bool
) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(status, headers=headers, json={"message": message})

    sleeps: list[float] = []
    github = GitHub(
        API,
        "acme/maps",
        TOKEN,
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        clock=lambda: 1000.0,
    )
    with pytest.raises(GitHubError) as failed:
        github.post("/x", {"body": "plan"})  # a POST too: GitHub did nothing, so it is retried
    assert failed.value.rate_limited is limited and failed.value.denied is (not limited)
    assert len(calls) == (3 if limited else 1)
    assert ("GitHub's rate limit" in str(failed.value)) is limited


@pytest.mark.parametrize(
    "headers, waits",
    [
        ({"retry-after": "7"}, [7.0, 7.0]),
        ({"retry-after": "3600"}, [60.0, 60.0]),  # bounded
        ({"retry-after": "nan"}, [60.0, 60.0]),  # unreadable: a minute, as GitHub advises
        ({}, [60.0, 60.0]),  # a secondary limit that names no time
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1010"}, [11.0, 11.0]),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4600"}, []),  # an hour: fail now
    ],
)
def test_a_rate_limit_waits_as_github_asks_and_no_longer_than_a_minute(
    headers: dict[str, str], waits: list[float]
) -> None:
    response = httpx.Response(
        403, headers=headers, json={"message": "You have exceeded a secondary rate limit"}
    )
    sleeps: list[float] = []
    github = GitHub(
        API,
        "acme/maps",
        TOKEN,
        transport=httpx.MockTransport(lambda r: response),
        sleep=sleeps.append,
        clock=lambda: 1000.0,
    )
    with pytest.raises(GitHubError) as failed:
        github.get("/x")
    assert sleeps == waits and failed.value.rate_limited


# JSON nested deeper than Python's parser recurses, as a broken proxy might answer.
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("body", [b"<html>proxy</html>", b'{"id": ' + b"9" * 5000 + b"}", DEEP])
def test_an_answer_that_is_not_readable_json_is_a_github_error(body: bytes) -> None:
    answer = httpx.Response(200, content=body)
    for call in (lambda gh: gh.get("/x"), lambda gh: gh.post("/x", {}), lambda gh: list(gh.pages("/x", {}))):
        with pytest.raises(GitHubError) as failed:
            call(client(lambda request: answer))
        assert str(failed.value).endswith("answered HTTP 200 with a body that is not readable JSON")


def test_an_error_answer_nested_too_deep_is_said_by_its_reason() -> None:
    with pytest.raises(GitHubError) as failed:
        client(lambda request: httpx.Response(404, content=DEEP)).get("/x")
    assert str(failed.value) == "GitHub API: GET /x answered 404: Not Found"
