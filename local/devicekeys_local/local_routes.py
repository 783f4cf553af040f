"""The local API's routes: the gateway's, and the development-only ones beside them.

``/openapi.json`` and ``/docs`` describe the API; ``/_local/health`` says it is ready;
``/_local/issuer/...`` and ``/_local/token`` are the development issuer; ``/sdk/``,
``/console/`` and ``/demo/`` are the web apps' files (``static_files``). Everything else goes to
the emulated API Gateway.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .gateway import GatewayResponse, HttpApiGateway
from .http_transport import Request, is_loopback
from .issuer import ISSUER_PATH, TOKEN_PATH, DevIssuer
from .openapi import openapi_document, swagger_ui_asset, swagger_ui_page
from .static_files import STATIC

HEALTH_PATH = "/_local/health"


class LocalRoutes:
    """The gateway plus the local-only routes: OpenAPI, Swagger UI, health and the development issuer."""

    def __init__(self, gateway: HttpApiGateway, issuer: DevIssuer, base_url: str, health: dict[str, Any]) -> None:
        self.gateway = gateway
        self.issuer = issuer
        self.base_url = base_url
        self.health = health
        self._openapi: bytes | None = None

    def __call__(self, request: Request) -> GatewayResponse:
        method, path, body = request.method, request.path, request.body
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
            ("POST", TOKEN_PATH): lambda: self._mint(body, request.client),
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

    def _mint(self, body: bytes, client: str) -> GatewayResponse:
        if not is_loopback(client):
            return _json(403, {"message": "tokens are minted for loopback clients only"})
        try:
            return _json(200, self.issuer.token_response(body))
        except ValueError as exc:
            return _json(400, {"message": str(exc)})


def _json(status: int, document: Mapping[str, Any]) -> GatewayResponse:
    return GatewayResponse(status, [("content-type", "application/json")], json.dumps(document).encode())
