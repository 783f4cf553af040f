"""``python -m devicekeys_local serve``: the whole API on one machine, without Docker.

Startup: a DynamoDB (embedded moto, or ``--dynamodb-endpoint``), the template's tables, the
functions' environment from the template, the layer on ``sys.path`` as Lambda mounts it, the
development issuer, then an HTTP server. Besides the template's routes it serves
``/openapi.json``, ``/docs`` and a few development routes under ``/_local/``.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from .dynamodb import SNAPSHOT_FILE_NAME, EmbeddedDynamoDB, TableSet, dynamodb_client
from .environment import (
    LOCAL_TABLE_PREFIX,
    Resolver,
    function_environment,
    layer_directories,
    local_table_names,
    resolve_parameters,
)
from .functions import LocalFunctions
from .gateway import GatewayResponse, HttpApiGateway, gateway_message
from .issuer import (
    DEFAULT_AUDIENCE,
    DEFAULT_TOKEN_LIFETIME,
    ISSUER_PATH,
    MAX_TOKEN_LIFETIME,
    TOKEN_PATH,
    DevIssuer,
    JwtAuthorizer,
    TokenPolicy,
    load_or_create_key,
)
from .openapi import openapi_document, swagger_ui_asset, swagger_ui_page
from .template import TEMPLATE, resources

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
HEALTH_PATH = "/_local/health"
# Lambda's defaults for what the template does not set; fake credentials only for local DynamoDBs.
_LOCAL_AWS_ENVIRONMENT = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
_FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}

log = logging.getLogger(__name__)


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    dynamodb_endpoint: str | None = None
    state_dir: Path | None = None
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    table_prefix: str = LOCAL_TABLE_PREFIX
    template: Path = TEMPLATE
    # host names (besides loopback ones) the Host header may carry, for serving to a LAN on purpose
    allowed_hosts: tuple[str, ...] = ()


class LocalApi:
    """Everything ``serve`` runs, started and stopped in order."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.table_names = local_table_names(options.table_prefix, options.template)
        self._embedded: EmbeddedDynamoDB | None = None
        self._tables: TableSet | None = None
        self._httpd: _Server | None = None
        self._journeys: Any = None
        self.journeys_note = ""
        self.dynamodb_endpoint = ""
        self.restored_items = 0
        self.created_tables: list[str] = []

    @property
    def url(self) -> str:
        assert self._httpd is not None
        address, port = self._httpd.server_address[:2]
        host = address.decode() if isinstance(address, bytes) else address
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    @property
    def snapshot_path(self) -> Path | None:
        """Where the embedded tables are saved; None when nothing is (no state dir, or another DynamoDB)."""
        if self.options.state_dir is None or self.options.dynamodb_endpoint:
            return None
        return self.options.state_dir / SNAPSHOT_FILE_NAME

    def start(self) -> None:
        # One process runs every function: Powertools warns that they share its metric state.
        warnings.filterwarnings("ignore", message="Dimension 'operation' has already been added")
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        # Bind first: a busy port fails before anything else starts, and the issuer needs the URL.
        self._httpd = _Server((self.options.host, self.options.port), _RequestHandler)
        self._httpd.allowed_hosts = frozenset(name.lower() for name in self.options.allowed_hosts)
        self._connect_dynamodb()
        routes = self._build_gateway()
        self._start_journeys(routes.gateway.functions)  # before the tables: moto's mock resets its backends
        self._prepare_tables()
        self._httpd.local_api = routes

    def _connect_dynamodb(self) -> None:
        if self.options.dynamodb_endpoint:
            self.dynamodb_endpoint = self.options.dynamodb_endpoint
            if _is_local_endpoint(self.dynamodb_endpoint):
                for name, value in _FAKE_CREDENTIALS.items():
                    os.environ.setdefault(name, value)
        else:
            os.environ.update(_FAKE_CREDENTIALS)
            self._embedded = EmbeddedDynamoDB()
            self.dynamodb_endpoint = self._embedded.start()
        for name, value in _LOCAL_AWS_ENVIRONMENT.items():
            os.environ.setdefault(name, value)

    def _prepare_tables(self) -> None:
        self._tables = TableSet(dynamodb_client(self.dynamodb_endpoint), self.table_names)
        self.created_tables = self._tables.ensure()
        snapshot = self.snapshot_path
        if snapshot is not None and snapshot.exists():
            self.restored_items = self._tables.load_snapshot(snapshot)

    def _build_gateway(self) -> _Routes:
        template = self.options.template
        overrides = dict(self.options.parameter_overrides)
        overrides.setdefault("JwtIssuer", self.url + ISSUER_PATH)
        overrides.setdefault("JwtAudience", DEFAULT_AUDIENCE)
        resolver = Resolver(resolve_parameters(overrides, template), self.table_names, template)
        policy = _token_policy(resolver)
        issuer = DevIssuer(load_or_create_key(self.options.state_dir), policy)
        authorizer = JwtAuthorizer(issuer.public_keys(), policy)

        functions = LocalFunctions(template)
        environments = {}
        for logical_id in functions.definitions:
            environment = function_environment(logical_id, resolver)
            environment["DYNAMODB_ENDPOINT"] = self.dynamodb_endpoint
            # The functions share this process and Powertools' metric state: metrics would be wrong.
            environment["POWERTOOLS_METRICS_DISABLED"] = "true"
            environments[logical_id] = environment
            for directory in reversed(layer_directories(logical_id, template)):
                if str(directory) not in sys.path:
                    sys.path.insert(0, str(directory))
        gateway = HttpApiGateway(functions, authorizer, environments)
        gateway.warm()
        health = {
            "status": "ok",
            "dynamodb_endpoint": self.dynamodb_endpoint,
            "tables": self.table_names,
            "issuer": policy.issuer,
            "audience": list(policy.audiences),
        }
        return _Routes(gateway, issuer, self.url, health)

    def _start_journeys(self, functions: LocalFunctions) -> None:
        """Serve the journey routes with the template's state machines run by moto's Step Functions.

        moto mocks AWS for the whole process while journeys run: with a DynamoDB in AWS itself it
        would take over those requests too, so journeys are left out then.
        """
        if not resources("AWS::Serverless::StateMachine", self.options.template):
            return
        endpoint = self.options.dynamodb_endpoint
        if endpoint and not _is_local_endpoint(endpoint):
            self.journeys_note = "Journeys: off with a DynamoDB in AWS (they run on moto, which would intercept it)"
            return
        from .journeys import LocalJourneys  # noqa: PLC0415 - imports moto's Step Functions

        journeys = LocalJourneys(functions, self.options.template)
        journeys.__enter__()
        self._journeys = journeys
        self.journeys_note = "Journeys: the template's state machines, run by moto's Step Functions"

    def serve_forever(self) -> None:
        assert self._httpd is not None
        self._httpd.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        """Stop accepting requests (from another thread than ``serve_forever``'s)."""
        if self._httpd is not None:
            self._httpd.shutdown()

    def close(self) -> int | None:
        """Release everything; with a state directory, snapshot the embedded tables first.

        Returns the number of items saved, or None when nothing was saved.
        """
        saved = None
        if self._httpd is not None:
            self._httpd.server_close()
            routes = self._httpd.local_api
            if routes is not None and self._tables is not None and self.snapshot_path is not None:
                with routes.gateway.invocation_lock:  # no function is half-way through a write
                    saved = self._tables.save_snapshot(self.snapshot_path)
        if self._journeys is not None:
            self._journeys.__exit__(None, None, None)
        if self._embedded is not None:
            self._embedded.stop()
        return saved

    def banner(self) -> str:
        url = self.url
        routes = self._httpd.local_api if self._httpd else None
        lines = [f"devicekeys local API: {url}", ""]
        lines.append("Routes (from template.yaml):")
        for definition in routes.gateway.functions.definitions.values() if routes else []:
            for route in definition.routes:
                access = "open" if route.open else "token"
                lines.append(f"  {route.method:<6} {route.path:<50} {access:<5} {definition.logical_id}")
        source = self.options.dynamodb_endpoint or "embedded (moto)"
        lines += ["", f"DynamoDB: {source} at {self.dynamodb_endpoint}"]
        for logical_id, name in self.table_names.items():
            note = " (created)" if name in self.created_tables else ""
            lines.append(f"  {logical_id:<17} {name}{note}")
        if self.journeys_note:
            lines.append(self.journeys_note)
        if self.options.state_dir:
            persisted = f"{self.restored_items} items restored, saved on exit" if self.snapshot_path else "issuer key"
            lines.append(f"State: {self.options.state_dir} ({persisted})")
        else:
            lines.append("State: in memory, gone on exit (--state-dir DIR keeps it)")
        default_url = url == "http://127.0.0.1:3000"
        url_option = "" if default_url else f" --url {url}"
        lines += [
            "",
            f"OpenAPI: {url}/openapi.json    Swagger UI: {url}/docs",
            "Get a token (development issuer, valid 1 h):",
            f"  export DEVICEKEYS_TOKEN=$(python -m devicekeys_local token --sub alice{url_option})",
            f"  python -m devicekeys_local token --sub admin --admin{url_option}",
            "",
            "Ctrl-C to stop.",
        ]
        if not _is_loopback(self.options.host):
            lines.append(f"WARNING: bound to {self.options.host}: anyone who reaches it can mint tokens.")
        return "\n".join(lines)


def _token_policy(resolver: Resolver) -> TokenPolicy:
    """The JWT authorizer's issuer and audience, from the HTTP API's default authorizer in the template."""
    apis = resources("AWS::Serverless::HttpApi", resolver.path)
    auth = resolver.resolve(next(iter(apis.values()))["Properties"]["Auth"])
    configuration = auth["Authorizers"][auth["DefaultAuthorizer"]]["JwtConfiguration"]
    audiences = configuration["audience"]
    return TokenPolicy(
        issuer=str(configuration["issuer"]),
        audiences=tuple(audiences) if isinstance(audiences, list) else (str(audiences),),
    )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _is_local_endpoint(endpoint: str) -> bool:
    host = urlsplit(endpoint).hostname or ""
    return _is_loopback(host) or host in ("host.docker.internal", "dynamodb-local")


class _Routes:
    """The gateway plus the local-only routes: OpenAPI, Swagger UI, health and the development issuer."""

    def __init__(self, gateway: HttpApiGateway, issuer: DevIssuer, base_url: str, health: dict[str, Any]) -> None:
        self.gateway = gateway
        self.issuer = issuer
        self.base_url = base_url
        self.health = health
        self._openapi: bytes | None = None

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client: str
    ) -> GatewayResponse:
        path = target.partition("?")[0]
        local: Callable[[], GatewayResponse] | None = {
            ("GET", "/openapi.json"): self._openapi_json,
            ("GET", "/docs"): lambda: GatewayResponse(
                200, [("content-type", "text/html; charset=utf-8")], swagger_ui_page()
            ),
            ("GET", HEALTH_PATH): lambda: _json(200, self.health),
            ("GET", ISSUER_PATH + "/.well-known/openid-configuration"): lambda: _json(
                200, self.issuer.discovery(self.base_url + ISSUER_PATH + "/jwks.json")
            ),
            ("GET", ISSUER_PATH + "/jwks.json"): lambda: _json(200, self.issuer.jwks()),
            ("POST", TOKEN_PATH): lambda: self._mint(body, client),
        }.get((method, path))
        if local is not None:
            return local()
        asset = swagger_ui_asset(path) if method == "GET" else None
        if asset is not None:
            content, content_type = asset
            return GatewayResponse(200, [("content-type", content_type), ("cache-control", "max-age=3600")], content)
        return self.gateway.handle(method, target, headers, body, client)

    def _openapi_json(self) -> GatewayResponse:
        if self._openapi is None:
            try:
                with self.gateway.invocation_lock:
                    document = openapi_document(self.gateway.functions, issuer=self.issuer.policy.issuer)
            except ImportError as exc:  # Powertools needs pydantic to describe routes
                return _json(501, {"message": f"OpenAPI generation needs pydantic: {exc}"})
            self._openapi = json.dumps(document, indent=2).encode()
        return GatewayResponse(200, [("content-type", "application/json")], self._openapi)

    def _mint(self, body: bytes, client: str) -> GatewayResponse:
        if not _is_loopback(client):
            return _json(403, {"message": "tokens are minted for loopback clients only"})
        try:
            request = json.loads(body or b"{}")
            subject = request["sub"]
            scope = request.get("scope") or ""
            lifetime = int(request.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
            if not isinstance(subject, str) or not subject or not isinstance(scope, str):
                raise ValueError("sub and scope must be strings")
            if not 0 < lifetime <= MAX_TOKEN_LIFETIME:
                raise ValueError(f"expires_in must be 1 to {MAX_TOKEN_LIFETIME}")
        except (ValueError, KeyError, TypeError) as exc:
            return _json(400, {"message": f"expected {{'sub', 'scope'?, 'expires_in'?}}: {exc}"})
        token = self.issuer.mint(subject, scope.split(), lifetime)
        return _json(200, {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": scope})


def _json(status: int, document: Mapping[str, Any]) -> GatewayResponse:
    return GatewayResponse(status, [("content-type", "application/json")], json.dumps(document).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    local_api: _Routes | None = None
    allowed_hosts: frozenset[str] = frozenset()


def host_is_allowed(host_header: str | None, allowed: frozenset[str] = frozenset()) -> bool:
    """True when ``Host`` names this machine: localhost, a ``.localhost`` name, a loopback address, or ``allowed``."""
    if not host_header:
        return False
    host = urlsplit(f"//{host_header.strip()}").hostname or ""
    return host in allowed or host == "localhost" or host.endswith(".localhost") or _is_loopback(host)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "devicekeys-local"
    sys_version = ""
    server: _Server

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
        routes = self.server.local_api
        if routes is None:
            return gateway_message(503, "Service Unavailable")
        try:
            return routes.handle(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
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


def serve(options: ServeOptions) -> int:
    """Run until Ctrl-C or SIGTERM; then stop the server, save the state and stop DynamoDB."""
    started = time.perf_counter()
    api = LocalApi(options)
    try:
        api.start()
    except Exception as exc:  # a busy port, a bad parameter, a function that fails its cold start
        log.debug("startup failed", exc_info=True)
        print(f"error: cannot start: {exc}", file=sys.stderr)
        if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
            print(
                f"Port {options.port} on {options.host} is taken (another local API?): stop it, or pass --port "
                f"{options.port + 1} (and DEVICEKEYS_URL=http://127.0.0.1:{options.port + 1} for the CLI).",
                file=sys.stderr,
            )
        api.close()
        return 1
    print(api.banner(), flush=True)
    print(f"Ready in {time.perf_counter() - started:.2f}s.", flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=api.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        api.serve_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("\nStopping...", flush=True)
        saved = api.close()
        if saved is not None:
            print(f"Saved {saved} items to {api.snapshot_path}.", flush=True)
        print("Stopped.", flush=True)
    return 0
