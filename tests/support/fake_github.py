"""A fake of the few GitHub REST endpoints statusync calls, served over real HTTP on loopback,
so that `statusync github ...` is tested end to end through its own client.

It keeps issues (pull requests are issues with a `pull_request` key, as on GitHub), their
comments and the repository's labels in memory, checks the token on every request, logs every
request, pages listings `page_size` items at a time with `Link` headers, and can play a
read-only token (a pull request from a fork): every write answers 403. A pull request's changed
files (`GET pulls/N/files`) are what a test gives `changed_files`; `files_status` makes that
listing answer an error instead.

As on GitHub, every comment and issue carries its author (`user: {login, type}`): the one of the
token that wrote it. TOKEN is a workflow's installation token, written as `github-actions[bot]`,
and, like the real one, answers 403 "Resource not accessible by integration" to `GET /user`;
APP_TOKEN is the installation token of an App of one's own (`statusync-app[bot]`), and PAT is a
person's token, which `GET /user` names. A body over 65,536 characters answers 422, and
`secondary_limits` answers the next so many requests (of `limited_methods`) with GitHub's
secondary rate limit.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "ghs-fake-token-never-shown-0123"
APP_TOKEN = "ghs-fake-app-token-never-shown-89"
PAT = "github_pat_fake-never-shown-4567"
REPOSITORY = "acme/mappings"
BOT = {"login": "github-actions[bot]", "type": "Bot"}
APP_BOT = {"login": "statusync-app[bot]", "type": "Bot"}
OPS = {"login": "ops-alice", "type": "User"}
MALLORY = {"login": "mallory", "type": "User"}
BODY_LIMIT = 65_536
# Who writes with each token, and whether it may read /user (an installation token may not).
_TOKENS: dict[str, tuple[dict[str, str], bool]] = {
    TOKEN: (BOT, False),
    APP_TOKEN: (APP_BOT, False),
    PAT: (OPS, True),
}
_SECONDARY_LIMIT = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits",
}


@dataclass
class FakeGitHub:
    page_size: int = 2  # small, so that every listing test also pages
    read_only: bool = False
    # The next so many requests answer 403 with the secondary rate limit's body; with
    # `retry_after` set, also its Retry-After header.
    secondary_limits: int = 0
    retry_after: str | None = None
    limited_methods: tuple[str, ...] = ("GET", "POST", "PATCH")
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Each pull request's changed files, as GitHub lists them: {filename, status[, previous_filename]}.
    changed_files: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    files_status: int | None = None
    log: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""
    _next_id: int = 1000
    _author: dict[str, str] = field(default_factory=lambda: dict(BOT))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what a test sets up and looks at ---------------------------------------------------

    def add_pull_request(self) -> int:
        number = len(self.issues) + 1
        self.issues[number] = {
            "number": number,
            "title": f"PR {number}",
            "body": "",
            "state": "open",
            "labels": [],
            "pull_request": {},
            "user": {"login": "dev-bob", "type": "User"},
        }
        return number

    def add_comment(self, number: int, body: str, user: dict[str, str] | None = None) -> int:
        self._next_id += 1
        self.comments[self._next_id] = {
            "id": self._next_id,
            "issue": number,
            "body": body,
            "user": dict(user or {"login": "someone", "type": "User"}),
        }
        return self._next_id

    def add_issue(self, title: str, body: str, labels: list[str], user: dict[str, str] | None = None) -> int:
        number = len(self.issues) + 1
        self.issues[number] = {
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "labels": [self.labels.setdefault(name, {"name": name, "color": "ededed"}) for name in labels],
            "user": dict(user or {"login": "someone", "type": "User"}),
        }
        return number

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["issue"] == number]

    def writes(self) -> list[tuple[str, str]]:
        return [entry for entry in self.log if entry[0] != "GET"]

    def open_issues(self, label: str) -> list[dict[str, Any]]:
        return [
            i
            for i in self.issues.values()
            if i["state"] == "open"
            and "pull_request" not in i
            and label in {lab["name"] for lab in i["labels"]}
        ]

    # --- the API ------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any, token: str = TOKEN
    ) -> tuple[int, Any, dict[str, str]]:
        if self.secondary_limits and method in self.limited_methods:
            self.secondary_limits -= 1
            headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
            return 403, _SECONDARY_LIMIT, headers
        author, is_user = _TOKENS[token]
        if method == "GET" and path == "/user":
            if not is_user:
                return (
                    403,
                    {
                        "message": "Resource not accessible by integration",
                        "documentation_url": "https://docs.github.com/rest/users/users",
                    },
                    {},
                )
            return 200, {**author, "id": 7}, {}
        prefix = f"/repos/{REPOSITORY}/"
        if not path.startswith(prefix):
            return 404, {"message": "Not Found"}, {}
        route = path[len(prefix) :]
        if method != "GET" and self.read_only:
            return 403, {"message": "Resource not accessible by integration"}, {}
        if isinstance(body, dict) and len(str(body.get("body", ""))) > BODY_LIMIT:
            return (
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "IssueComment",
                            "code": "custom",
                            "field": "body",
                            "message": "body is too long (maximum is 65536 characters)",
                        }
                    ],
                },
                {},
            )
        self._author = author
        for pattern, handler in self._routes():
            match = re.fullmatch(pattern, f"{method} {route}")
            if match:
                return handler(query, body, *match.groups())
        return 404, {"message": "Not Found"}, {}

    def _routes(self) -> list[tuple[str, Any]]:
        return [
            (r"GET issues/(\d+)/comments", self._list_comments),
            (r"GET pulls/(\d+)/files", self._list_files),
            (r"POST issues/(\d+)/comments", self._create_comment),
            (r"PATCH issues/comments/(\d+)", self._update_comment),
            (r"GET issues", self._list_issues),
            (r"POST issues", self._create_issue),
            (r"PATCH issues/(\d+)", self._update_issue),
            (r"GET labels/([^/]+)", self._get_label),
            (r"POST labels", self._create_label),
        ]

    def _page(
        self, items: list[dict[str, Any]], query: dict[str, str], path: str
    ) -> tuple[int, Any, dict[str, str]]:
        page = int(query.get("page", "1"))
        start = (page - 1) * self.page_size
        headers = {}
        if start + self.page_size < len(items):
            following = urllib.parse.urlencode({**query, "page": str(page + 1)})
            headers["Link"] = f'<{self.url}/repos/{REPOSITORY}/{path}?{following}>; rel="next"'
        return 200, items[start : start + self.page_size], headers

    def _list_comments(self, query: dict[str, str], body: Any, number: str) -> Any:
        if int(number) not in self.issues:
            return 404, {"message": "Not Found"}, {}
        return self._page(self.comments_on(int(number)), query, f"issues/{number}/comments")

    def _list_files(self, query: dict[str, str], body: Any, number: str) -> Any:
        if self.files_status is not None:
            return self.files_status, {"message": "Resource not accessible by integration"}, {}
        if "pull_request" not in self.issues.get(int(number), {}):
            return 404, {"message": "Not Found"}, {}
        return self._page(self.changed_files.get(int(number), []), query, f"pulls/{number}/files")

    def _create_comment(self, query: dict[str, str], body: Any, number: str) -> Any:
        comment_id = self.add_comment(int(number), body["body"], user=self._author)
        return 201, self.comments[comment_id], {}

    def _update_comment(self, query: dict[str, str], body: Any, comment_id: str) -> Any:
        comment = self.comments.get(int(comment_id))
        if comment is None:
            return 404, {"message": "Not Found"}, {}
        comment["body"] = body["body"]
        return 200, comment, {}

    def _list_issues(self, query: dict[str, str], body: Any) -> Any:
        wanted = set(filter(None, query.get("labels", "").split(",")))
        state = query.get("state", "open")
        found = [
            i
            for i in sorted(self.issues.values(), key=lambda i: i["number"])
            if (state == "all" or i["state"] == state) and wanted <= {lab["name"] for lab in i["labels"]}
        ]
        return self._page(found, query, "issues")

    def _create_issue(self, query: dict[str, str], body: Any) -> Any:
        number = self.add_issue(body["title"], body["body"], body.get("labels", []), user=self._author)
        return 201, self.issues[number], {}

    def _update_issue(self, query: dict[str, str], body: Any, number: str) -> Any:
        issue = self.issues.get(int(number))
        if issue is None:
            return 404, {"message": "Not Found"}, {}
        issue.update({k: v for k, v in body.items() if k in ("body", "state", "state_reason")})
        return 200, issue, {}

    def _get_label(self, query: dict[str, str], body: Any, name: str) -> Any:
        label = self.labels.get(urllib.parse.unquote(name))
        return (200, label, {}) if label else (404, {"message": "Not Found"}, {})

    def _create_label(self, query: dict[str, str], body: Any) -> Any:
        if body["name"] in self.labels:
            return 422, {"message": "Validation Failed"}, {}
        self.labels[body["name"]] = dict(body)
        return 201, self.labels[body["name"]], {}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        fake = self.server.fake
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with fake._lock:
            fake.log.append((self.command, parts.path))
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in _TOKENS:
                status, payload, headers = 401, {"message": "Bad credentials"}, {}
            else:
                status, payload, headers = fake.handle(
                    self.command, parts.path, query, json.loads(raw) if raw else None, token
                )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet tests


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeGitHub) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeGitHubServer:
    """The fake served on a free loopback port until `stop()`."""

    def __init__(self, fake: FakeGitHub | None = None) -> None:
        self.fake = fake or FakeGitHub()
        self._server = _Server(self.fake)
        self.url = self.fake.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def env(self, token: str = TOKEN) -> dict[str, str]:
        """The environment a step of a workflow run gives `statusync github ...`."""
        return {
            "GITHUB_API_URL": self.url,
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_TOKEN": token,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_RUN_ID": "4242",
        }

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
