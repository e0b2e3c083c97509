"""The process's one TLS context, shared by every account's transport.

Building a context loads the CA bundle, about 30 ms. Each account's client built its own, one
after another on the way to the first request: with four accounts, a tenth of a second before
anything was sent. It is httpx's own default (`httpx.create_ssl_context`: certifi's bundle, or
SSL_CERT_FILE / SSL_CERT_DIR), made once.
"""

from __future__ import annotations

import ssl
import threading

import httpx

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def shared_context() -> ssl.SSLContext:
    """The context, built by the first caller."""
    global _context
    with _lock:
        if _context is None:
            _context = httpx.create_ssl_context()
        return _context
