"""The local API's HTTP transport: requests in, ``GatewayResponse``s out, as API Gateway's edge does.

It answers any method (API Gateway never says 501), refuses bodies over API Gateway's 10 MB and
requests whose ``Host`` is not a loopback name (DNS rebinding), and hands everything else to a
``Handler``: the routes, which know nothing of sockets.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .gateway import GatewayResponse, gateway_message

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query, as sent
    headers: list[tuple[str, str]]
    body: bytes
    client: str  # the peer's address

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]


Handler = Callable[[Request], GatewayResponse]


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class LocalHttpServer(ThreadingHTTPServer):
    """An HTTP/1.1 server that hands each request to ``handler`` (None until the API is ready: 503)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], allowed_hosts: frozenset[str] = frozenset()) -> None:
        super().__init__(address, _RequestHandler)
        self.handler: Handler | None = None
        self.allowed_hosts = allowed_hosts
        # paths left out of the access log: the API's own calls to itself, which log their own line
        self.quiet_paths: frozenset[str] = frozenset()
        # serve --https: each connection's TLS handshake runs in its own thread, never in accept()
        self.tls_context: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        address, port = self.server_address[:2]
        host = address.decode() if isinstance(address, bytes) else address
        shown = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls_context else 'http'}://{shown}:{port}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls_context is None:
            super().finish_request(request, client_address)
            return
        try:
            request.settimeout(10)  # a client that never finishes its handshake lets go of the thread
            tls = self.tls_context.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except (ssl.SSLError, OSError):  # a client that does not trust the certificate, or is not TLS
            request.close()
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


def host_is_allowed(host_header: str | None, allowed: frozenset[str] = frozenset()) -> bool:
    """True when ``Host`` names this machine: localhost, a ``.localhost`` name, a loopback address, or ``allowed``."""
    if not host_header:
        return False
    host = urlsplit(f"//{host_header.strip()}").hostname or ""
    return host in allowed or host == "localhost" or host.endswith(".localhost") or is_loopback(host)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "devicekeys-local"
    sys_version = ""
    server: LocalHttpServer

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def __getattr__(self, name: str) -> Any:
        # API Gateway answers any method (an unknown one with 404), never http.server's 501.
        if name.startswith("do_"):
            return self.do_GET
        raise AttributeError(name)

    def _handle(self) -> None:
        started = time.perf_counter()
        response = self._respond()
        self._send(response)
        elapsed = (time.perf_counter() - started) * 1000
        if self.path.partition("?")[0].rstrip("/") in self.server.quiet_paths:
            return
        sys.stderr.write(f"{self.command} {self.path.partition('?')[0]} {response.status} {elapsed:.1f}ms\n")

    def _respond(self) -> GatewayResponse:
        try:
            body = self._read_body()
        except ValueError:  # a Content-Length or chunk size that is not a number
            self.close_connection = True
            return gateway_message(400, "Bad Request")
        if body is None:
            self.close_connection = True
            return gateway_message(413, "Request Entity Too Large")
        if not host_is_allowed(self.headers.get("host"), self.server.allowed_hosts):
            # A web page the developer visits could reach this API by DNS rebinding: its requests
            # carry the page's own host name, never a loopback one.
            return gateway_message(403, "Forbidden: the Host header is not a loopback name (see --allowed-host)")
        handler = self.server.handler
        if handler is None:
            return gateway_message(503, "Service Unavailable")
        request = Request(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
        try:
            return handler(request)
        except Exception:  # a bug here must not hang the client: answer as API Gateway would
            log.exception("%s %s failed", self.command, self.path)
            return gateway_message(500, "Internal Server Error")

    def _read_body(self) -> bytes | None:
        """The request body, or None when it is over API Gateway's limit."""
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            chunks, total = [], 0
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                total += size
                if total > MAX_REQUEST_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return b"".join(chunks)
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_REQUEST_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: GatewayResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        if response.status not in (204, 304):
            self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.status not in (204, 304):
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: ``_handle`` writes one line per request."""
