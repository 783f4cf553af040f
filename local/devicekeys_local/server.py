"""``python -m devicekeys_local serve``: the whole API on one machine, without Docker.

Startup: a DynamoDB (embedded moto, or ``--dynamodb-endpoint``), the template's tables, the
functions' environment from the template, the layer on ``sys.path`` as Lambda mounts it, the
development issuer and its sign-in for the device console (``oidc``), the HTTP API's CORS
configuration, the device-keys stream and TTL (``event_stream``: lifecycle events), then an
HTTP server (``http_transport``) with the routes (``local_routes``).
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from .dynamodb import SNAPSHOT_FILE_NAME, EmbeddedDynamoDB, TableSet, dynamodb_client
from .environment import (
    LOCAL_TABLE_PREFIX,
    Resolver,
    TemplateError,
    function_environment,
    layer_directories,
    local_table_names,
    resolve_parameters,
)
from .event_stream import (
    DEFAULT_TTL_SWEEP_SECONDS,
    EVENTBRIDGE_PATH,
    EVENTS_PATH,
    LocalEventBus,
    LocalEventStreams,
    echo_to_stderr,
    event_streams,
)
from .functions import LocalFunctions
from .gateway import CorsPolicy, HttpApiGateway
from .http_transport import LocalHttpServer, is_loopback
from .issuer import DEFAULT_AUDIENCE, ISSUER_PATH, DevIssuer, JwtAuthorizer, TokenPolicy, load_or_create_key
from .local_kms import SIGNING_KEY, SIGNING_KEY_ALIAS, LocalKms
from .local_routes import LocalRoutes
from .oidc import CONSOLE_CLIENT_ID, AuthorizationServer, Client
from .template import LOCAL_ACCOUNT, LOCAL_REGION, TEMPLATE, lambda_authorizers, resources, stream_subscriptions
from .tls import TlsIdentity
from .tls import load_or_create as load_or_create_tls

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
    # how often the local stand-in for DynamoDB's TTL removes expired items
    ttl_sweep_seconds: float = DEFAULT_TTL_SWEEP_SECONDS
    # serve over HTTPS with a self-signed certificate (device-bound sessions need a secure origin)
    https: bool = False


class LocalApi:
    """Everything ``serve`` runs, started and stopped in order."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.table_names = local_table_names(options.table_prefix, options.template)
        self._embedded: EmbeddedDynamoDB | None = None
        self._tables: TableSet | None = None
        self._httpd: LocalHttpServer | None = None
        self._routes: LocalRoutes | None = None
        self._journeys: Any = None
        self.journeys_note = ""
        self.tls: TlsIdentity | None = None
        self._kms: LocalKms | None = None
        self.event_bus = LocalEventBus(echo_to_stderr, account=LOCAL_ACCOUNT, region=LOCAL_REGION)
        self._streams: LocalEventStreams | None = None
        self.events_note = ""
        self.dynamodb_endpoint = ""
        self.restored_items = 0
        self.created_tables: list[str] = []

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return self._httpd.url

    @property
    def console_url(self) -> str:
        return self.url + "/console/"

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
        allowed = frozenset(name.lower() for name in self.options.allowed_hosts)
        self._httpd = LocalHttpServer((self.options.host, self.options.port), allowed)
        self._httpd.quiet_paths = frozenset({EVENTBRIDGE_PATH})  # each event is printed instead
        if self.options.https:
            self.tls = load_or_create_tls(self.options.state_dir)
            self._httpd.tls_context = self.tls.server_context()
        self._connect_dynamodb()
        self._kms = LocalKms(self.dynamodb_endpoint if self._embedded is not None else None)
        self._kms.start()
        self._routes = self._build_gateway()
        self._start_journeys(self._routes.gateway.functions)  # before the tables: moto's mock resets its backends
        self._prepare_tables()
        self._kms.create_signing_key(os.environ.get("AWS_REGION") or LOCAL_REGION)  # after journeys reset moto
        self._start_event_streams(self._routes)
        self._httpd.handler = self._routes

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

    def _build_gateway(self) -> LocalRoutes:
        template = self.options.template
        overrides = dict(self.options.parameter_overrides)
        overrides.setdefault("JwtIssuer", self.url + ISSUER_PATH)
        overrides.setdefault("JwtAudience", DEFAULT_AUDIENCE)
        physical_ids = {**self.table_names, SIGNING_KEY: SIGNING_KEY_ALIAS}
        resolver = Resolver(resolve_parameters(overrides, template), physical_ids, template)
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
            if "DBSC_SIGNING_KEY_ID" in environment and self._kms is not None:  # KMS is moto's
                environment["KMS_ENDPOINT"] = self._kms.endpoint
            if "EVENT_BUS_NAME" in environment:  # EventBridge is this server's local event bus
                environment["EVENTS_ENDPOINT"] = self.url + EVENTBRIDGE_PATH
                if self.tls is not None:  # ...over its own HTTPS: botocore trusts the certificate
                    environment["AWS_CA_BUNDLE"] = str(self.tls.cert_path)
            environments[logical_id] = environment
            for directory in reversed(layer_directories(logical_id, template)):
                if str(directory) not in sys.path:
                    sys.path.insert(0, str(directory))
        gateway = HttpApiGateway(
            functions,
            authorizer,
            environments,
            cors_policy(resolver),
            lambda_authorizers=lambda_authorizers(template),
            forwarded_proto="https" if self.tls is not None else "http",
        )
        gateway.warm()
        health = {
            "status": "ok",
            "dynamodb_endpoint": self.dynamodb_endpoint,
            "tables": self.table_names,
            "issuer": policy.issuer,
            "audience": list(policy.audiences),
        }
        admin_scope = str(resolver.parameters["AdminScope"])
        # The console is served here (static_files), so its redirect URI is its folder on this origin.
        console = Client(CONSOLE_CLIENT_ID, (self.console_url,))
        authorization_server = AuthorizationServer(issuer, [console], admin_scope)
        console_config = {
            "api_base_url": self.url,
            "issuer": policy.issuer,
            "client_id": CONSOLE_CLIENT_ID,
            "scopes": ["openid", admin_scope],
            "admin_scope": admin_scope,
        }
        return LocalRoutes(gateway, authorization_server, self.url, health, console_config, self.event_bus)

    def _start_event_streams(self, routes: LocalRoutes) -> None:
        """Deliver the tables' streams to their functions and sweep expired items, as AWS would."""
        if not stream_subscriptions(self.options.template):
            return
        endpoint = self.dynamodb_endpoint
        if self.options.dynamodb_endpoint and not _is_local_endpoint(endpoint):
            self.events_note = "Events: off with a DynamoDB in AWS (its stream belongs to the deployed stack)"
            return
        gateway = routes.gateway

        def invoke(logical_id: str, event: dict[str, Any]) -> Any:
            with gateway.function_scope(logical_id):
                return gateway.functions.invoke_direct(logical_id, event)

        self._streams = event_streams(
            endpoint=endpoint,
            table_names=self.table_names,
            invoke=invoke,
            template=self.options.template,
            ttl_sweep_seconds=self.options.ttl_sweep_seconds,
        )
        self._streams.start()
        self.events_note = (
            f"Events: the device-keys stream, published as on AWS: GET {EVENTS_PATH} "
            f"(expired items removed every {self.options.ttl_sweep_seconds:g}s, as DynamoDB's TTL does)"
        )

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
        """Stop accepting requests (from another thread than ``serve_forever``'s).

        The event streams stop first: their publisher calls this server's event bus, which
        must still answer until the batch in hand is delivered.
        """
        if self._streams is not None:
            self._streams.stop()
        if self._httpd is not None:
            self._httpd.shutdown()

    def close(self) -> int | None:
        """Release everything; with a state directory, snapshot the embedded tables first.

        Returns the number of items saved, or None when nothing was saved.
        """
        saved = None
        if self._streams is not None:
            self._streams.stop()
        if self._httpd is not None:
            self._httpd.server_close()
            routes = self._routes
            if routes is not None and self._tables is not None and self.snapshot_path is not None:
                with routes.gateway.invocation_lock:  # no function is half-way through a write
                    saved = self._tables.save_snapshot(self.snapshot_path)
        if self._journeys is not None:
            self._journeys.__exit__(None, None, None)
        if self._kms is not None:
            self._kms.stop()
        if self._embedded is not None:
            self._embedded.stop()
        return saved

    def banner(self) -> str:
        url = self.url
        routes = self._routes
        lines = [f"devicekeys local API: {url}", ""]
        lines.append("Routes (from template.yaml):")
        definitions = list(routes.gateway.functions.definitions.values()) if routes else []
        width = max((len(route.path) for definition in definitions for route in definition.routes), default=0)
        for definition in definitions:
            for route in definition.routes:
                access = "open" if route.open else "bound" if route.authorizer else "token"
                lines.append(f"  {route.method:<6} {route.path:<{width}} {access:<5} {definition.logical_id}")
        source = self.options.dynamodb_endpoint or "embedded (moto)"
        lines += ["", f"DynamoDB: {source} at {self.dynamodb_endpoint}"]
        for logical_id, name in self.table_names.items():
            note = " (created)" if name in self.created_tables else ""
            lines.append(f"  {logical_id:<17} {name}{note}")
        if self.journeys_note:
            lines.append(self.journeys_note)
        if self.events_note:
            lines.append(self.events_note)
        if self.options.state_dir:
            persisted = f"{self.restored_items} items restored, saved on exit" if self.snapshot_path else "issuer key"
            lines.append(f"State: {self.options.state_dir} ({persisted})")
        else:
            lines.append("State: in memory, gone on exit (--state-dir DIR keeps it)")
        default_url = url == "http://127.0.0.1:3000"
        url_option = "" if default_url else f" --url {url}"
        cors = routes.gateway.cors if routes else None
        if cors is not None:
            lines.append(f"CORS: requests from {', '.join(cors.allow_origins)} (ConsoleOrigin)")
        if self.tls is not None:
            lines += [
                f"HTTPS: self-signed certificate {self.tls.cert_path}",
                f"  its public key (SHA-256 of the SPKI, base64): {self.tls.spki_sha256}",
                "  Chromium with device-bound sessions (docs/dbsc.md): chromium " + " ".join(self.tls.chromium_flags()),
                f"  Python and curl trust it with SSL_CERT_FILE={self.tls.cert_path} (curl --cacert)",
            ]
        lines += [
            "",
            f"Device console: {self.console_url} (sign in with any user name: the development issuer)",
            f"OpenAPI: {url}/openapi.json    Swagger UI: {url}/docs",
            "Get a token (development issuer, valid 1 h):",
            f"  export DEVICEKEYS_TOKEN=$(python -m devicekeys_local token --sub alice{url_option})",
            f"  python -m devicekeys_local token --sub admin --admin{url_option}",
            "",
            "Ctrl-C to stop.",
        ]
        if not is_loopback(self.options.host):
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


def cors_policy(resolver: Resolver) -> CorsPolicy | None:
    """The HTTP API's ``CorsConfiguration`` (from ``ConsoleOrigin``), or None: no CORS, as on AWS without one."""
    apis = resources("AWS::Serverless::HttpApi", resolver.path)
    declared = next(iter(apis.values()))["Properties"].get("CorsConfiguration")
    configuration = resolver.resolve({"CorsConfiguration": declared}).get("CorsConfiguration")
    if configuration is None:
        return None
    if not isinstance(configuration, dict) or "*" in (configuration.get("AllowOrigins") or []):
        raise TemplateError("CorsConfiguration: only listed origins are emulated locally (devicekeys allows one)")
    return CorsPolicy.from_configuration(configuration)


def _is_local_endpoint(endpoint: str) -> bool:
    host = urlsplit(endpoint).hostname or ""
    return is_loopback(host) or host in ("host.docker.internal", "dynamodb-local")


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
