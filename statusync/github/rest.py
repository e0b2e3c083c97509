"""A small client for the few GitHub REST endpoints statusync calls (issue comments, issues,
labels), over httpx.

The token comes from GITHUB_TOKEN and is sent only as a header, to the API host alone (a
pagination link to anywhere else is refused); no message, error or log line ever contains it.
The transport is injectable, so tests can serve the API from a fake.
"""

from __future__ import annotations

import math
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from statusync import __version__
from statusync.environment import env_value
from statusync.errors import StatusyncError
from statusync.sendcloud.urls import is_loopback

DEFAULT_API_URL = "https://api.github.com"
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
# GET and PATCH are idempotent and retried on a 5xx or a failed connection; a POST only when
# the connection failed before anything was sent, so a flaky network cannot post a comment twice.
# A rate limit is retried whatever the method: GitHub refused the request, so nothing was done.
_ATTEMPTS = 3
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
# The longest wait for a rate limit; GitHub asks for "at least one minute" when it names none.
# A primary limit that resets later than this fails the job rather than hold it for an hour.
_MAX_RETRY_AFTER = 60.0


class GitHubError(StatusyncError):
    """A GitHub API request that did not succeed; `status` is None when no answer came."""

    def __init__(self, message: str, *, status: int | None, write: bool = False,
                 rate_limited: bool = False) -> None:
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

    def __init__(self, api_url: str, repository: str, token: str, *,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        if problem := _api_url_problem(api_url):
            raise StatusyncError(problem)
        if not _REPOSITORY.fullmatch(repository):
            raise StatusyncError(f"GITHUB_REPOSITORY {repository!r} is not of the form OWNER/NAME")
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self._sleep = sleep
        self._clock = clock  # wall-clock seconds: x-ratelimit-reset is a Unix time
        self._http = httpx.Client(
            base_url=self.api_url, transport=transport, timeout=30.0,
            headers={"Authorization": f"Bearer {token}",
                     "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28",
                     "User-Agent": f"statusync/{__version__}"})

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time) -> GitHub:
        token = env_value(env, "GITHUB_TOKEN", "set it from github.token")
        if token is None:
            raise StatusyncError("GITHUB_TOKEN is not set: the statusync action passes the job's "
                                 "token; in a step of your own, set it from github.token")
        repository = env_value(env, "GITHUB_REPOSITORY", "set it to OWNER/NAME")
        if repository is None:
            raise StatusyncError("GITHUB_REPOSITORY is not set (GitHub Actions sets it: "
                                 "elsewhere, set it to OWNER/NAME)")
        api_url = env_value(env, "GITHUB_API_URL", f"set it to the GitHub API's URL ({DEFAULT_API_URL} "
                            "for github.com)")
        return cls(api_url or DEFAULT_API_URL, repository, token,
                   transport=transport, sleep=sleep, clock=clock)

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
            raise GitHubError("GitHub API: a pagination link points away from the API; stopped",
                              status=None)
        return url

    def request(self, method: str, url: str, *, params: Mapping[str, str | int] | None = None,
                json: Mapping[str, Any] | None = None) -> httpx.Response:
        label = f"{method} {urllib.parse.urlsplit(url).path}"
        for attempt in range(1, _ATTEMPTS + 1):
            last = attempt == _ATTEMPTS
            try:
                response = self._http.request(method, url, params=params, json=json)
            except httpx.TransportError as exc:
                sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                if last or (method == "POST" and sent):
                    raise GitHubError(f"GitHub API: {label} failed ({type(exc).__name__}); "
                                      f"no answer from {self.api_url}", status=None,
                                      write=method != "GET") from None
                self._sleep(float(attempt))
                continue
            wait = _retry_wait(response, method, attempt, self._clock())
            if wait is None or last:
                break
            self._sleep(wait)
        if response.is_success:
            return response
        limited = rate_limited(response)
        why = " (GitHub's rate limit: try again later)" if limited else ""
        raise GitHubError(f"GitHub API: {label} answered {response.status_code}: "
                          f"{_message(response)}{why}", status=response.status_code,
                          write=method != "GET", rate_limited=limited)


def rate_limited(response: httpx.Response) -> bool:
    """Whether GitHub refused the request for a rate limit, primary or secondary, which it
    signals with a 429, or a 403 that carries Retry-After, `x-ratelimit-remaining: 0`, or a
    message about the rate limit ("You have exceeded a secondary rate limit"). A 403 without
    any of them is a refusal of the token."""
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    headers = response.headers
    return ("retry-after" in headers or headers.get("x-ratelimit-remaining") == "0"
            or "rate limit" in _message(response).lower())


def _retry_wait(response: httpx.Response, method: str, attempt: int, now: float) -> float | None:
    """How long to wait before asking again, or None when the answer is final."""
    if rate_limited(response):
        return _rate_limit_wait(response.headers, now)
    if response.status_code in _RETRY_STATUSES and method != "POST":
        return float(attempt)
    return None


def _rate_limit_wait(headers: httpx.Headers, now: float) -> float | None:
    # GitHub's order: Retry-After; else, with no requests left, the reset time; else at least
    # a minute (a secondary limit that names no time).
    if (retry_after := _seconds(headers.get("retry-after"))) is not None:
        return min(max(retry_after, 0.0), _MAX_RETRY_AFTER)
    reset = _seconds(headers.get("x-ratelimit-reset"))
    if headers.get("x-ratelimit-remaining") == "0" and reset is not None:
        wait = max(reset - now, 0.0) + 1.0
        return wait if wait <= _MAX_RETRY_AFTER else None
    return _MAX_RETRY_AFTER


def _seconds(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _json(response: httpx.Response, method: str, path: str) -> Any:
    """The JSON body of a 2xx answer; one that is not JSON (a proxy's page, or a number longer
    than Python converts) is GitHub's failure, said as such rather than as a crash."""
    try:
        return response.json()
    except ValueError:
        raise GitHubError(f"GitHub API: {method} {path} answered HTTP {response.status_code} with a "
                          "body that is not readable JSON", status=response.status_code,
                          write=method != "GET") from None


def _message(response: httpx.Response) -> str:
    """GitHub's own explanation from an error body (`message`), or the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    text = message if isinstance(message, str) and message else response.reason_phrase
    return text.replace("\n", " ")[:300]
