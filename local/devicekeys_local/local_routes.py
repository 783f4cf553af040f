"""The local API's routes: the gateway's, and the development-only ones beside them.

``/openapi.json`` and ``/docs`` describe the API; ``/_local/health`` says it is ready;
``/_local/issuer/...`` (its sign-in: ``oidc``) and ``/_local/token`` are the development issuer;
``/sdk/``, ``/console/`` and ``/demo/`` are the web apps' files (``static_files``), and
``/console/config.json`` the console's settings for this API; ``/_local/eventbridge`` is the
publisher's EventBridge and ``/_local/events`` what it was sent (``event_stream``). Everything
else goes to the emulated API Gateway.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .event_stream import EVENTBRIDGE_PATH, EVENTS_PATH, LocalEventBus
from .gateway import GatewayResponse, HttpApiGateway
from .http_transport import Request, is_loopback
from .issuer import JWKS_PATH, TOKEN_PATH, DevIssuer
from .oidc import AUTHORIZATION_PATH, DISCOVERY_PATH, OAUTH_TOKEN_PATH, AuthorizationServer
from .openapi import openapi_document, swagger_ui_asset, swagger_ui_page
from .static_files import STATIC

HEALTH_PATH = "/_local/health"
CONSOLE_CONFIG_PATH = "/console/config.json"


class LocalRoutes:
    """The gateway plus the local-only routes: OpenAPI, Swagger UI, health, the development issuer, the web apps."""

    def __init__(
        self,
        gateway: HttpApiGateway,
        authorization_server: AuthorizationServer,
        base_url: str,
        health: dict[str, Any],
        console_config: dict[str, Any],
        event_bus: LocalEventBus,
    ) -> None:
        self.gateway = gateway
        self.authorization_server = authorization_server
        self.issuer: DevIssuer = authorization_server.issuer
        self.base_url = base_url
        self.health = health
        # Generated from this API: it wins over a config.json in clients/web/console/.
        self.console_config = console_config
        self.event_bus = event_bus
        self._openapi: bytes | None = None

    def __call__(self, request: Request) -> GatewayResponse:
        method, path, body = request.method, request.path, request.body
        local: Callable[[], GatewayResponse] | None = {
            ("GET", "/openapi.json"): self._openapi_json,
            ("GET", "/docs"): lambda: GatewayResponse(
                200, [("content-type", "text/html; charset=utf-8")], swagger_ui_page()
            ),
            ("GET", HEALTH_PATH): lambda: _json(200, self.health),
            ("GET", DISCOVERY_PATH): lambda: _json(200, self.authorization_server.discovery(self.base_url)),
            ("GET", JWKS_PATH): lambda: _json(200, self.issuer.jwks()),
            ("POST", TOKEN_PATH): lambda: self._mint(body, request.client),
            ("GET", AUTHORIZATION_PATH): lambda: self._loopback_only(
                request, lambda: self.authorization_server.sign_in_page(request.target.partition("?")[2])
            ),
            ("POST", AUTHORIZATION_PATH): lambda: self._loopback_only(
                request, lambda: self.authorization_server.sign_in(body)
            ),
            ("POST", OAUTH_TOKEN_PATH): lambda: self._loopback_only(
                request, lambda: self.authorization_server.token(body)
            ),
            ("POST", EVENTBRIDGE_PATH): lambda: self._loopback_only(request, lambda: self._put_events(request)),
            ("POST", EVENTBRIDGE_PATH + "/"): lambda: self._loopback_only(request, lambda: self._put_events(request)),
            ("GET", EVENTS_PATH): lambda: _json(200, {"events": self.event_bus.events()}),
            ("GET", CONSOLE_CONFIG_PATH): lambda: GatewayResponse(
                200,
                [("content-type", "application/json"), ("cache-control", "no-store")],
                json.dumps(self.console_config).encode(),
            ),
        }.get((method, path))
        if local is not None:
            return local()
        static = STATIC.response(path) if method in ("GET", "HEAD") else None
        if static is not None:
            return static
        asset = swagger_ui_asset(path) if method == "GET" else None
        if asset is not None:
            content, content_type = asset
            return GatewayResponse(200, [("content-type", content_type), ("cache-control", "max-age=3600")], content)
        return self.gateway.handle(method, request.target, request.headers, body, request.client)

    def _openapi_json(self) -> GatewayResponse:
        if self._openapi is None:
            try:
                with self.gateway.invocation_lock:
                    document = openapi_document(self.gateway.functions, issuer=self.issuer.policy.issuer)
            except ImportError as exc:  # Powertools needs pydantic to describe routes
                return _json(501, {"message": f"OpenAPI generation needs pydantic: {exc}"})
            self._openapi = json.dumps(document, indent=2).encode()
        return GatewayResponse(200, [("content-type", "application/json")], self._openapi)

    def _put_events(self, request: Request) -> GatewayResponse:
        target = {name.lower(): value for name, value in request.headers}.get("x-amz-target")
        if target != "AWSEvents.PutEvents":
            return _json(400, {"__type": "UnknownOperationException", "message": f"{target}: only PutEvents"})
        status, document = self.event_bus.put_events(request.body)
        return GatewayResponse(status, [("content-type", "application/x-amz-json-1.1")], json.dumps(document).encode())

    def _mint(self, body: bytes, client: str) -> GatewayResponse:
        if not is_loopback(client):
            return _json(403, {"message": "tokens are minted for loopback clients only"})
        try:
            return _json(200, self.issuer.token_response(body))
        except ValueError as exc:
            return _json(400, {"message": str(exc)})

    @staticmethod
    def _loopback_only(request: Request, answer: Callable[[], GatewayResponse]) -> GatewayResponse:
        """For this machine only: the sign-in mints tokens for any user name (like ``/_local/token``),
        and only the functions in this process put events on the local bus."""
        if not is_loopback(request.client):
            return _json(403, {"message": f"{request.path} is for loopback clients only"})
        return answer()


def _json(status: int, document: Mapping[str, Any]) -> GatewayResponse:
    return GatewayResponse(status, [("content-type", "application/json")], json.dumps(document).encode())
