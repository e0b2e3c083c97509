"""The sandbox over real HTTP: a threaded stdlib server on loopback, in the background or in
the foreground."""

from __future__ import annotations

import contextlib
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TextIO

from statusync.errors import StatusyncError
from statusync.sandbox.admin import ADMIN_PREFIX, SandboxAdmin
from statusync.sandbox.api import API_PREFIX, Reply, SandboxApi, SandboxOptions, credential_list, error_reply
from statusync.sandbox.oauth import TOKEN_PATH, TokenEndpoint
from statusync.sandbox.payloads import not_found, rejection
from statusync.sandbox.seed import DEMO_CREDENTIALS
from statusync.sandbox.store import SandboxStore
from statusync.sendcloud.credentials import (
    PARTNER_HEADER,
    PUBLIC_KEY_ENV,
    SECRET_KEY_ENV,
    Credentials,
)
from statusync.sendcloud.ratelimit import Clock, Sleep
from statusync.sendcloud.urls import API_URL_ENV, is_loopback
from statusync.text import plural

# Where `statusync sandbox` serves unless told otherwise (the CLI's --port default).
DEFAULT_PORT = 8765


# How long stop() waits for the requests still being answered, after hanging up on their clients:
# enough for one that was about to finish (an answer takes milliseconds), short enough that Ctrl-C
# ends the sandbox within a second, on a loaded machine too, whatever holds a request (a test's
# gate). Their threads are daemons: none outlives the process.
STOP_GRACE = 0.2


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops the connects of a parallel client, which then
    # waits a second to retry its SYN.
    request_queue_size = 128

    def __init__(
        self, host: str, port: int, api: SandboxApi, admin: SandboxAdmin, tokens: TokenEndpoint
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.api, self.admin, self.tokens = api, admin, tokens
        # Open connections, so that stop() can end idle keep-alive ones and wait for their threads
        # instead of leaving them to serve a stopped sandbox or to die midway at interpreter exit.
        self._connections: set[socket.socket] = set()
        self._all_closed = threading.Condition()
        super().__init__((host, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall where DNS is slow.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._all_closed:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        with self._all_closed:
            self._connections.discard(request)
            self._all_closed.notify_all()

    def close_connections(self, wait: float) -> None:
        """Hang up on every client, then give their threads up to `wait` seconds to finish."""
        with self._all_closed:
            for connection in self._connections:
                with contextlib.suppress(OSError):  # already gone
                    connection.shutdown(socket.SHUT_RDWR)
            self._all_closed.wait_for(lambda: not self._connections, wait)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up or goes quiet is normal, not worth a traceback; so is any error
        # of its socket (the sandbox's own errors are caught, and shown, in _Handler._serve).
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


# The largest request body the sandbox reads (a mapping upsert is a few hundred bytes); a
# larger Content-Length is refused with 413 before anything is read.
MAX_BODY = 1 << 20


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API; every reply has a length
    # Headers and body go out in two writes; with Nagle the body would wait ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server_version = "statusync-sandbox"
    sys_version = ""
    timeout = 60  # seconds an idle keep-alive connection may hold a thread
    # Buffered: an answer's status line, headers and body leave in one write when the request is
    # done (handle_one_request flushes), not in two; one packet for the client to read, not two.
    wbufsize = 64 * 1024

    def handle_expect_100(self) -> bool:
        # The 100 Continue must reach the client before the body is read: a buffered one would
        # wait for the final answer, and the client for it.
        if not super().handle_expect_100():
            return False
        self.wfile.flush()
        return True

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...) reaches the API too, which answers 405 with the
        # methods the endpoint takes, as the real API does; http.server would answer 501 with
        # an HTML page.
        if name.startswith("do_"):
            return self.do_GET
        raise AttributeError(name)

    def _serve(self) -> None:
        if int(_digits(self.headers.get("Content-Length")) or 0) > MAX_BODY:
            self.close_connection = True  # not read: the rest of the stream cannot be framed
            self._send(error_reply(rejection(413, "invalid", "Request body too large")))
            return
        body = self._read_body()
        if body is None:
            self.close_connection = True  # the rest of the stream cannot be framed
            self._send(error_reply(rejection(400, "invalid", "Malformed request body framing")))
            return
        path = urllib.parse.urlsplit(self.path).path
        reply: Reply | None
        try:
            if _is_under(path, API_PREFIX):
                reply = self.server.api.handle(
                    self.command,
                    self.path,
                    self.headers.get("Authorization"),
                    body,
                    partner_id=self.headers.get(PARTNER_HEADER),
                )
            elif _is_under(path, TOKEN_PATH):
                reply = self.server.tokens.handle(
                    self.command,
                    path,
                    self.headers.get("Authorization"),
                    self.headers.get("Content-Type"),
                    body,
                )
            elif _is_under(path, ADMIN_PREFIX):
                reply = self.server.admin.handle(self.command, self.path, body)
            else:
                reply = error_reply(not_found("Not found."))
        except Exception:  # a sandbox bug: show it, and answer rather than hang up
            traceback.print_exc()
            reply = error_reply(rejection(500, "invalid", "The sandbox failed; see its stderr."))
        if reply is None:
            self.close_connection = True  # an injected drop: hang up without a word
        else:
            self._send(reply)

    def _read_body(self) -> bytes | None:
        """The request body (with a Content-Length or chunked), or None when it is malformed."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            try:
                while size := int(self.rfile.readline(1024).split(b";")[0], 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline(1024)  # the CRLF after each chunk
            except ValueError:
                return None
            while self.rfile.readline(65536).strip():
                pass  # trailer fields, up to the blank line
            return b"".join(chunks)
        length = self.headers.get("Content-Length") or "0"
        return self.rfile.read(int(length)) if length.isascii() and length.isdigit() else None

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            if reply.body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except ConnectionError:
            self.close_connection = True  # the client left; nothing to tell it

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the request log is at /_sandbox/requests, stderr is for the sandbox's bugs


def _digits(value: str | None) -> str | None:
    return value if value is not None and value.isascii() and value.isdigit() else None


def _is_under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


# The default options: frozen, so one shared instance is safe.
_DEFAULT_OPTIONS = SandboxOptions()


class SandboxServer:
    """The fake API on `host`:`port` (0: any free port), bound as soon as it is made."""

    def __init__(
        self,
        store: SandboxStore,
        credentials: Credentials | Sequence[Credentials],
        options: SandboxOptions = _DEFAULT_OPTIONS,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep | None = None,
        on_request: Callable[[str, str], None] | None = None,  # SandboxApi's
    ) -> None:
        if not is_loopback(host):
            raise StatusyncError(
                f"the sandbox serves only on loopback (127.0.0.1, ::1, "
                f"localhost), not on {host!r}: it is a local tool"
            )
        self.store = store
        # The latency is waited out on an event that stop() sets: a request held by it is
        # answered at once when the sandbox stops, rather than holding the stop up.
        self._stopping = threading.Event()
        api = SandboxApi(
            store, credentials, options, clock=clock, sleep=sleep or self._wait, on_request=on_request
        )
        tokens = TokenEndpoint(api, store, credentials, options.token_lifetime, clock)
        try:
            self._httpd = _HttpServer(host.strip("[]"), port, api, SandboxAdmin(store), tokens)
        except (OSError, OverflowError) as exc:  # OverflowError: a port outside 0-65535
            raise StatusyncError(
                f"cannot serve on {host}:{port}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        for rule in options.faults:
            store.add_fault(rule)
        self._thread: threading.Thread | None = None
        self._serving = False
        self._stopped = False

    @property
    def base_url(self) -> str:
        host, port = str(self._httpd.server_address[0]), int(self._httpd.server_address[1])
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    @property
    def url(self) -> str:
        """The API base URL to give statusync (STATUSYNC_API_URL)."""
        return self.base_url + API_PREFIX

    @property
    def token_url(self) -> str:
        """The OAuth2 token endpoint (an account's token_url in statusync.yaml)."""
        return self.base_url + TOKEN_PATH + "/"

    @property
    def admin_url(self) -> str:
        return self.base_url + ADMIN_PREFIX

    def start(self) -> SandboxServer:
        """Serve in a background thread."""
        self._serving = True  # before the thread runs, so that an early stop() still shuts it down
        self._thread = threading.Thread(
            target=self._serve_in_background, name="statusync-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def _serve_in_background(self) -> None:
        # Ctrl-C and SIGTERM go to the main thread, which Python runs their handlers in: a signal
        # the kernel gave this thread (or the request threads it starts, which inherit the mask)
        # would wait until the main thread next runs Python code, which a blocking wait never does.
        if hasattr(signal, "pthread_sigmask"):  # not on Windows, where it does not apply
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        self.serve_forever()

    def serve_forever(self) -> None:
        self._serving = True
        try:
            self._httpd.serve_forever(poll_interval=0.02)
        finally:
            self._serving = False

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        if self._serving:
            self._httpd.shutdown()
        self._httpd.close_connections(wait=STOP_GRACE)
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> SandboxServer:
        return self if self._thread is not None else self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve(
    host: str,
    port: int,
    store: SandboxStore,
    credentials: Credentials | Sequence[Credentials],
    options: SandboxOptions,
    out: TextIO,
    *,
    sleep: Sleep | None = None,
) -> None:
    """Serve in the foreground, with a start-up banner on `out`, until Ctrl-C; `sleep` waits
    out the latency (tests hold requests with it)."""
    server = SandboxServer(store, credentials, options, host, port, sleep=sleep)
    try:
        _banner(server, credential_list(credentials), out)
        # Served from a thread, and the main thread only waits: Ctrl-C (KeyboardInterrupt, which
        # Python raises in the main thread) then never lands inside the loop that hands a new
        # connection to its thread, where it would close the socket under that thread.
        server.start()
        while True:
            time.sleep(1)  # the serving threads block the stop signals: they wake this sleep
    except KeyboardInterrupt:
        server.stop()
        out.write("\nstatusync sandbox stopped\n")  # once it has: the port is free again
    finally:
        server.stop()  # after any other error (stopping twice does nothing)


def _banner(server: SandboxServer, accepted: tuple[Credentials, ...], out: TextIO) -> None:
    credentials, more = accepted[0], len(accepted) - 1
    count = len(server.store.integrations())
    lines = [f"statusync sandbox: a fake Sendcloud API at {server.url} ({plural(count, 'integration')})"]
    if credentials == DEMO_CREDENTIALS:
        # The demo pair is not a secret; a real key pair is never printed.
        lines += [
            "Demo key pair (set it for statusync):",
            f"  export {PUBLIC_KEY_ENV}={credentials.public_key}",
            f"  export {SECRET_KEY_ENV}={credentials.secret_key}",
        ]
    else:
        lines.append(f"Accepting the key pair from {PUBLIC_KEY_ENV} / {SECRET_KEY_ENV} (not shown).")
    if more:
        lines.append(f"Accepting {plural(more, 'more key pair')} from the seed file (not shown).")
    lines += [
        "Point statusync at it:",
        f"  export {API_URL_ENV}={server.url}",
        f"OAuth2: the same pair as client id and secret, token_url: {server.token_url}",
        f"Request log and test controls: {server.admin_url}/requests",
        "Press Ctrl-C to stop.",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()
