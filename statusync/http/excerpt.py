"""A short excerpt of an error answer's body, fit for a one-line message."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from statusync.text import cut, printable

EXCERPT_CHARS = 200
# The API's own error details are read whole up to this: they say what is wrong, in a sentence
# or a few (one per field); a broken server's megabyte of them would swamp the terminal and log.
DETAIL_CHARS = 1000


def body_excerpt(response: httpx.Response, redact: Callable[[str], str] = str) -> str:
    """The body's text on one line, cut to EXCERPT_CHARS; the reason phrase when the body is empty
    or an HTML page (a proxy's error page says nothing its status line does not).

    The server's own words, escaped where they enter a message: a newline or an escape sequence
    in them must not reach a terminal or a log as itself. `redact` hides the secrets a server
    may echo, before the cut: a secret cut in two would no longer be recognised, and its first
    part would be shown."""
    text = redact(" ".join(response.text.split()))
    if not text or "html" in response.headers.get("Content-Type", ""):
        return response.reason_phrase or "no details"
    return printable(cut(text, EXCERPT_CHARS))
