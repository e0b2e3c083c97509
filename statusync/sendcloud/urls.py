"""Which API base URLs statusync will talk to: https, or http only on loopback."""

from __future__ import annotations

import ipaddress
import urllib.parse

# The environment variable that overrides the settings' api_url (how a test or demo points
# statusync at the sandbox, whose start-up banner names it).
API_URL_ENV = "STATUSYNC_API_URL"


def api_url_problem(url: str) -> str | None:
    """Why `url` must not be used as the API base URL, or None when it is fine."""
    return url_problem(url, "API URL", "https://panel.sendcloud.sc/api/v3")


def url_problem(url: str, what: str, example_url: str) -> str | None:
    """Why `url` must not be used as `what` ("API URL", "token URL"), or None when it is fine:
    the same rules for every URL that credentials are sent to."""
    example = f"use e.g. {example_url}"
    if url != url.strip() or any(c.isspace() for c in url):
        return f"{what} {url!r} contains white space; {example}"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0-65535
    except ValueError:
        # Not echoed: whatever stands where the port should be may be something pasted by mistake.
        return f"the {what}'s port is not a number from 0 to 65535; {example}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{what} {url!r} is not an http(s) URL; {example}"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        # Request paths are appended to the base URL: a query or fragment would swallow them.
        return f"{what} {url!r} must not have a query (?) or fragment (#); {example}"
    if parts.username is not None or parts.password is not None:
        # Credentials in the URL would end up in logs and plans; they come from env variables.
        return f"{what} must not contain credentials; set them in the account's env variables"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return (
            f"{what} {url!r} uses plain http; only https is allowed "
            "(http only for loopback hosts such as the local sandbox)"
        )
    return None


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an IP address, IPv6 with or without brackets) is this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
