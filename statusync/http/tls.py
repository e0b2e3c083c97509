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

from statusync.errors import StatusyncError
from statusync.text import printable

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def shared_context() -> ssl.SSLContext:
    """The context, built by the first caller. CA certificates that cannot be loaded (SSL_CERT_FILE
    naming a file that is missing or holds no certificate) are a StatusyncError saying so, not a
    crash: nothing could be sent over TLS."""
    global _context
    with _lock:
        if _context is None:
            try:
                _context = httpx.create_ssl_context()
            except OSError as exc:  # ssl.SSLError too
                detail = exc.strerror or str(exc) or type(exc).__name__
                raise StatusyncError(
                    f"cannot load the CA certificates that TLS connections are checked against "
                    f"({printable(detail)}): SSL_CERT_FILE or SSL_CERT_DIR, when set, must name "
                    "a readable PEM file or directory of CA certificates; fix or unset it"
                ) from None
        return _context
