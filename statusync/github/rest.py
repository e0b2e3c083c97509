"""A small client for the few GitHub REST endpoints statusync calls (issue comments, issues,
labels), over httpx.

The token comes from GITHUB_TOKEN and is sent only as a header, to the API host alone (a
pagination link to anywhere else is refused); no message, error or log line ever contains it.
The transport is injectable, so tests can serve the API from a fake.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from statusync import __version__
from statusync.environment import env_value
from statusync.errors import StatusyncError
from statusync.http.proxy import environment_proxy_checked
from statusync.http.retry_policy import Answer, Backoff, GiveUp, Loss, Lost, Profile, Tally, decide, loss_of
from statusync.http.tls import shared_context
from statusync.sendcloud.urls import is_loopback

DEFAULT_API_URL = "https://api.github.com"
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
# Three attempts in all, rate limits included, 1 s and then 2 s apart. GET and PATCH are
# idempotent and retried on a 5xx or any lost connection; a POST only when the connection failed
# before anything was sent, so a flaky network cannot post a comment twice. A rate limit (a 429,
# or a 403 that says so) is retried whatever the method: GitHub refused the request, so nothing
# was done. Its wait is Retry-After (in seconds), else the reset time when no requests are left,
# else "at least one minute", as GitHub asks; never longer than a minute: a primary limit that
# resets later than that fails the job rather than hold it for an hour.
_MAX_RETRY_AFTER = 60.0
RETRY = Profile(
    max_attempts=3,
    backoff=Backoff(1.0, 2.0, jitter=False),
    server_errors=frozenset({500, 502, 503, 504}),
    resent_losses=frozenset(Loss),
    rate_limit_wait=_MAX_RETRY_AFTER,
    max_wait=_MAX_RETRY_AFTER,
    rate_limit_waits=None,
    rate_limited_403=True,
    read_ratelimit_reset=True,
    retry_after_dates=False,
    server_error_retry_after=False,
    sent_once=frozenset({"POST"}),
    may_apply=False,
)


# A 401 says nothing more than "Bad credentials": an expired, revoked or mistyped token.
_BAD_TOKEN = (
    "GitHub does not take the token (expired, revoked or mistyped): give a current one, "
    "through the action's github-token input (by default the job's own) or GITHUB_TOKEN"
)


class GitHubError(StatusyncError):
    """A GitHub API request that did not succeed; `status` is None when no answer came."""

    def __init__(
        self, message: str, *, status: int | None, write: bool = False, rate_limited: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.write = write  # the request would have changed something (not a GET)
        self.rate_limited = rate_limited

    @property
    def denied(self) -> bool:
        """403 or 404: the token may not do this (GitHub answers 404 for what it hides).
        A 403 for an exhausted rate limit is no such answer: it says nothing about the token."""
        return self.status in (403, 404) and not self.rate_limited


def _api_url_problem(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return None  # a local fake of the API, in tests
    return f"GITHUB_API_URL {url!r} must be an https:// URL"


class GitHub:
    """The REST API of one repository, as `GITHUB_TOKEN` may use it."""

    def __init__(
        self,
        api_url: str,
        repository: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if problem := _api_url_problem(api_url):
            raise StatusyncError(problem)
        if not _REPOSITORY.fullmatch(repository):
            raise StatusyncError(f"GITHUB_REPOSITORY {repository!r} is not of the form OWNER/NAME")
        if not (token.isascii() and token.isprintable() and " " not in token):
            # A secret pasted with a line break or a stray character: no header can carry it
            # (httpx would crash, or fail as if the API never answered). Never shown: a token.
            raise StatusyncError(
                "GITHUB_TOKEN holds white space, a line break or a character that is not ASCII, "
                "which no GitHub token has: set it again (the github-token input, or the secret "
                "it comes from), copied without them"
            )
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self._sleep = sleep
        self._clock = clock  # wall-clock seconds: x-ratelimit-reset is a Unix time
        with environment_proxy_checked():
            self._http = httpx.Client(
                base_url=self.api_url,
                transport=transport,
                verify=shared_context() if transport is None else True,  # statusync.http.tls
                timeout=30.0,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/vnd.github+json",
                    "X-GitHub-Api-Version": "2022-11-28",
                    "User-Agent": f"statusync/{__version__}",
                },
            )

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> GitHub:
        token = env_value(env, "GITHUB_TOKEN", "set it from github.token")
        if token is None:
            raise StatusyncError(
                "GITHUB_TOKEN is not set: the statusync action passes the job's "
                "token; in a step of your own, set it from github.token"
            )
        repository = env_value(env, "GITHUB_REPOSITORY", "set it to OWNER/NAME")
        if repository is None:
            raise StatusyncError(
                "GITHUB_REPOSITORY is not set (GitHub Actions sets it: elsewhere, set it to OWNER/NAME)"
            )
        api_url = env_value(
            env, "GITHUB_API_URL", f"set it to the GitHub API's URL ({DEFAULT_API_URL} for github.com)"
        )
        return cls(
            api_url or DEFAULT_API_URL, repository, token, transport=transport, sleep=sleep, clock=clock
        )

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def repo_path(self, *parts: str | int) -> str:
        return "/".join([f"/repos/{self.repository}", *(str(p) for p in parts)])

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        return _json(self.request("GET", path, params=params), "GET", path)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return _json(self.request("POST", path, json=body), "POST", path)

    def patch(self, path: str, body: Mapping[str, Any]) -> Any:
        return _json(self.request("PATCH", path, json=body), "PATCH", path)

    def pages(self, path: str, params: Mapping[str, str | int]) -> Iterator[dict[str, Any]]:
        """Every item of a listing, following the `Link: <…>; rel="next"` of each page."""
        url: str | None = path
        query: Mapping[str, str | int] | None = {"per_page": 100, **params}
        while url is not None:
            response = self.request("GET", url, params=query)
            items = _json(response, "GET", path)
            if not isinstance(items, list):
                raise GitHubError(f"GitHub API: GET {path} did not answer a list", status=None)
            yield from (item for item in items if isinstance(item, dict))
            url = self._next_page(response)
            query = None  # the next link carries the query

    def _next_page(self, response: httpx.Response) -> str | None:
        url = response.links.get("next", {}).get("url")
        if url is None:
            return None
        if not url.startswith(self.api_url + "/"):
            # The token goes nowhere but the API it was given for.
            raise GitHubError("GitHub API: a pagination link points away from the API; stopped", status=None)
        return url

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        label = f"{method} {urllib.parse.urlsplit(url).path}"
        tally = Tally()
        while True:
            try:
                response = self._http.request(method, url, params=params, json=json)
            except httpx.TransportError as exc:
                decision = decide(RETRY, method, tally, Lost(loss_of(exc)))
                if isinstance(decision, GiveUp):
                    raise GitHubError(
                        f"GitHub API: {label} failed ({type(exc).__name__}); no answer from {self.api_url}",
                        status=None,
                        write=method != "GET",
                    ) from None
            else:
                if response.is_success:
                    return response
                decision = decide(
                    RETRY,
                    method,
                    tally,
                    Answer(response.status_code, response.headers, _message(response)),
                    now=self._clock(),
                )
                if isinstance(decision, GiveUp):
                    why = " (GitHub's rate limit: try again later)" if decision.rate_limited else ""
                    if response.status_code == 401:
                        why = f"; {_BAD_TOKEN}"
                    raise GitHubError(
                        f"GitHub API: {label} answered {response.status_code}: {_message(response)}{why}",
                        status=response.status_code,
                        write=method != "GET",
                        rate_limited=decision.rate_limited,
                    )
            tally = decision.tally
            self._sleep(decision.seconds)


def _json(response: httpx.Response, method: str, path: str) -> Any:
    """The JSON body of a 2xx answer; one that is not JSON (a proxy's page, or a number longer
    than Python converts) is GitHub's failure, said as such rather than as a crash."""
    try:
        return response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep to parse
        raise GitHubError(
            f"GitHub API: {method} {path} answered HTTP {response.status_code} with a "
            "body that is not readable JSON",
            status=response.status_code,
            write=method != "GET",
        ) from None


def _message(response: httpx.Response) -> str:
    """GitHub's own explanation from an error body (`message`), or the reason phrase."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    text = message if isinstance(message, str) and message else response.reason_phrase
    return text.replace("\n", " ")[:300]
