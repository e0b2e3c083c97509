"""The proxy set in the environment, as httpx reads it when it builds a client.

httpx takes HTTPS_PROXY, HTTP_PROXY and ALL_PROXY as they are, and raises on one it cannot use
(not a URL, an unknown scheme, SOCKS without its extra package) as it would on a bug of the
caller's: an internal error, when it is the environment that needs fixing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.request import getproxies

import httpx

from statusync.errors import StatusyncError


@contextmanager
def environment_proxy_checked() -> Iterator[None]:
    """Around the making of an httpx client: a proxy of the environment that httpx cannot use is
    a StatusyncError saying so. Never the proxy's URL, which may hold a password, nor httpx's
    words, which may quote it."""
    try:
        yield
    except (httpx.InvalidURL, ValueError, ImportError) as exc:
        if not getproxies():
            raise  # no proxy is set: not the environment's doing
        what = (
            "a SOCKS proxy, which statusync does not support"
            if isinstance(exc, ImportError)
            else "not a proxy URL that can be used"
        )
        raise StatusyncError(
            f"the proxy set in the environment (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY) is {what}: "
            "set it to an http:// or https:// proxy, such as http://proxy.example:3128, or unset it"
        ) from None
