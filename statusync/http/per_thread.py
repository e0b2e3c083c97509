"""A connection pool per worker thread behind one httpx.Client.

httpcore's pool scans every connection it holds, twice per request, and for each idle one counts
the whole pool again (and polls its socket): with the 30 to 60 connections that an account's
workers keep alive at thousands of requests a minute, that cost more CPU than the rest of the
request. Each worker thread sends on its own pool of a few connections instead, so a request
costs the same however many workers there are. The httpx.Client stays one per account (its auth,
headers, timeouts and hooks); only its transport hands each thread a pool of its own.
"""

from __future__ import annotations

import ssl
import threading

import httpx

from statusync.http.tls import shared_context

# A worker sends one request at a time; the OAuth2 token request it may send first can go to
# another host, and its connection is kept too.
CONNECTIONS_PER_THREAD = 2


class PoolPerThread(httpx.BaseTransport):
    """An httpx transport that sends each thread's requests over an httpx.HTTPTransport of its
    own; safe to share between threads. The pool of a thread that ended is closed when the next
    thread gets its own, so that runs one after another do not pile up idle connections."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        # One context for all, and for every account (statusync.http.tls).
        self._ssl_context = ssl_context or shared_context()
        self._limits = httpx.Limits(
            max_connections=CONNECTIONS_PER_THREAD, max_keepalive_connections=CONNECTIONS_PER_THREAD
        )
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pools: dict[threading.Thread, httpx.HTTPTransport] = {}
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        pool: httpx.HTTPTransport | None = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = self._new_pool()
        return pool.handle_request(request)

    def _new_pool(self) -> httpx.HTTPTransport:
        pool = httpx.HTTPTransport(verify=self._ssl_context, limits=self._limits)
        with self._lock:
            if self._closed:
                pool.close()
                raise RuntimeError("the transport was closed")
            ended = [t for t in self._pools if not t.is_alive()]
            finished = [self._pools.pop(t) for t in ended]
            self._pools[threading.current_thread()] = pool
        for old in finished:
            old.close()
        return pool

    def pools(self) -> int:
        """How many pools are open (one per thread that sent and has not been swept)."""
        with self._lock:
            return len(self._pools)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
