"""An httpx.Client that keeps no cookie an answer sets.

The APIs statusync talks to authenticate every request on its own (a key pair, a bearer token),
so a cookie one of them set would only be kept and sent back unasked. Looking for one cost
httpx 8% of the client's CPU per request: every answer, and the request it answers, is wrapped
in urllib's types for http.cookiejar to read their headers. Fast drift is bound by that CPU.
"""

from __future__ import annotations

from typing import Any

import httpx


class _NoCookies(httpx.Cookies):
    """Cookies that no answer adds to."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class CookielessClient(httpx.Client):
    """httpx.Client, but an answer's Set-Cookie is neither kept nor sent back."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._kept: httpx.Cookies = _NoCookies(kwargs.get("cookies"))

    @property
    def cookies(self) -> httpx.Cookies:
        return self._kept

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._kept = _NoCookies(cookies)
