"""PoolPerThread: each worker thread sends over connections of its own, behind one httpx.Client."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

import httpx
import pytest

from statusync.http.per_thread import PoolPerThread


class _Echo(BaseHTTPRequestHandler):
    """Answers with the client's port: which connection the request came over."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = str(self.client_address[1]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


T = TypeVar("T")


def _in_threads(count: int, call: Callable[[], T]) -> list[T]:
    """`call` in `count` threads, each alive until all have called; their results."""
    results: dict[int, T] = {}
    all_called = threading.Barrier(count)

    def run(n: int) -> None:
        results[n] = call()
        all_called.wait()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [results[n] for n in range(count)]


def test_each_thread_keeps_its_own_connection_alive(url: str) -> None:
    transport = PoolPerThread()
    with httpx.Client(transport=transport) as client:

        def twice() -> tuple[str, str]:
            return client.get(url).text, client.get(url).text

        ports = _in_threads(3, twice)
        # A thread's second request reuses its connection; no two threads share one.
        assert all(first == second for first, second in ports)
        assert len({first for first, _ in ports}) == 3
        assert transport.pools() == 3


def test_the_pools_of_ended_threads_are_closed_when_a_new_thread_sends(url: str) -> None:
    transport = PoolPerThread()
    with httpx.Client(transport=transport) as client:
        _in_threads(4, lambda: client.get(url).status_code)
        assert transport.pools() == 4
        assert _in_threads(1, lambda: client.get(url).status_code) == [200]
        assert transport.pools() == 1


def test_closing_the_client_closes_every_pool(url: str) -> None:
    transport = PoolPerThread()
    client = httpx.Client(transport=transport)
    _in_threads(2, lambda: client.get(url).status_code)
    client.close()
    assert transport.pools() == 0


def test_every_transport_shares_one_context_that_verifies_certificates() -> None:
    # Building a context loads the CA bundle: made once, not once per account.
    first, second = PoolPerThread(), PoolPerThread()
    context = first._ssl_context
    assert second._ssl_context is context
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
