"""Which API base URLs statusync will talk to: https, or http only on loopback."""

from __future__ import annotations

import ipaddress

import urllib.parse


def api_url_problem(url: str) -> str | None:
    """Why `url` must not be used as the API base URL, or None when it is fine."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"API URL {url!r} is not an http(s) URL; use e.g. https://panel.sendcloud.sc/api/v3"
    if parts.username is not None or parts.password is not None:
        # Credentials in the URL would end up in logs and plans; they come from env variables.
        return "API URL must not contain credentials; set them in the account's env variables"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return (f"API URL {url!r} uses plain http; only https is allowed "
                "(http only for loopback hosts such as the local sandbox)")
    return None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
