"""API Gateway (HTTP API, payload 2.0) in front of the local functions.

For each request: answer a CORS preflight when the API has a ``CorsConfiguration``, find the
route of ``template.yaml`` (404 ``{"message":"Not Found"}`` when none), run the JWT authorizer on
protected routes (401 ``{"message":"Unauthorized"}``), or the route's Lambda authorizer (REQUEST,
payload 2.0, simple responses: 401 without its identity headers, 403 ``{"message":"Forbidden"}``
when it refuses, its ``context`` to the function when it allows), build the event API Gateway would send,
invoke the function, and turn its result into the HTTP response as API Gateway does (status,
headers, cookies, base64 bodies, or a bare JSON result), with the CORS headers an allowed origin
gets.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from .events import authorizer_event, new_request_id
from .functions import LocalFunctions, RouteMatch
from .issuer import Authorization, JwtAuthorizer, Unauthorized
from .template import LambdaAuthorizer

log = logging.getLogger(__name__)


@dataclass
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


@dataclass(frozen=True)
class CorsPolicy:
    """An HTTP API's ``CorsConfiguration``, answered as API Gateway answers it.

    API Gateway itself answers every preflight (``OPTIONS`` with ``Origin`` and
    ``Access-Control-Request-Method``), before routes and authorizers: 204, with the
    ``Access-Control-Allow-*`` headers only for an allowed origin, so the browser refuses the
    others. Every other response to an allowed origin gets ``Access-Control-Allow-Origin``, and
    the CORS headers a function sets itself are dropped.
    """

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_configuration(cls, configuration: Mapping[str, Any]) -> CorsPolicy:
        """From the template's ``CorsConfiguration`` (intrinsics resolved)."""
        max_age = configuration.get("MaxAge")
        return cls(
            allow_origins=tuple(configuration.get("AllowOrigins") or ()),
            allow_methods=tuple(configuration.get("AllowMethods") or ()),
            allow_headers=tuple(configuration.get("AllowHeaders") or ()),
            expose_headers=tuple(configuration.get("ExposeHeaders") or ()),
            max_age=int(max_age) if max_age is not None else None,
            allow_credentials=bool(configuration.get("AllowCredentials")),
        )

    def allowed_origin(self, origin: str | None) -> str | None:
        """The ``Access-Control-Allow-Origin`` value for a request from ``origin``; None when not allowed."""
        return origin if origin and origin in self.allow_origins else None

    def preflight(self, origin: str | None) -> GatewayResponse:
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return GatewayResponse(204)
        headers = [("access-control-allow-origin", allowed), ("vary", "origin")]
        if self.allow_methods:
            headers.append(("access-control-allow-methods", ",".join(self.allow_methods)))
        if self.allow_headers:
            headers.append(("access-control-allow-headers", ",".join(self.allow_headers)))
        if self.max_age is not None:
            headers.append(("access-control-max-age", str(self.max_age)))
        if self.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        return GatewayResponse(204, headers)

    def decorate(self, response: GatewayResponse, origin: str | None) -> GatewayResponse:
        """``response`` with the CORS headers ``origin`` gets (none when it is not allowed)."""
        response.headers = [(name, value) for name, value in response.headers if not name.startswith("access-control-")]
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return response
        response.headers += [("access-control-allow-origin", allowed), ("vary", "origin")]
        if self.expose_headers:
            response.headers.append(("access-control-expose-headers", ",".join(self.expose_headers)))
        if self.allow_credentials:
            response.headers.append(("access-control-allow-credentials", "true"))
        return response


def gateway_message(status: int, message: str, **headers: str) -> GatewayResponse:
    """A response API Gateway itself produces (not the function): ``{"message": ...}``."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return GatewayResponse(status, [("content-type", "application/json"), *headers.items()], body)


class HttpApiGateway:
    """Routes requests to the functions, one invocation at a time.

    Lambda runs one request per execution environment; here the functions share one
    process, and Powertools keeps per-process state (the resolver's current event, logger keys,
    metrics), so invocations are serialized. Each runs with its own environment variables.
    """

    def __init__(
        self,
        functions: LocalFunctions,
        authorizer: JwtAuthorizer,
        environments: Mapping[str, Mapping[str, str]],
        cors: CorsPolicy | None = None,
        lambda_authorizers: Mapping[str, LambdaAuthorizer] | None = None,
        forwarded_proto: str = "http",
    ) -> None:
        self.functions = functions
        self.authorizer = authorizer
        self.cors = cors
        self.lambda_authorizers = dict(lambda_authorizers or {})
        self.forwarded_proto = forwarded_proto
        self._environments = environments
        self._managed_names = {name for env in environments.values() for name in env}
        self.invocation_lock = threading.Lock()

    @contextmanager
    def function_scope(self, logical_id: str) -> Iterator[None]:
        """Hold the invocation lock with ``logical_id``'s environment applied (imports read settings)."""
        with self.invocation_lock:
            environment = self._environments[logical_id]
            for name in self._managed_names - environment.keys():
                os.environ.pop(name, None)
            os.environ.update(environment)
            yield

    def warm(self) -> None:
        """Import every function now (its cold start), so the first requests are as fast as the rest."""
        for logical_id in self.functions.definitions:
            with self.function_scope(logical_id):
                self.functions.module(logical_id)

    def handle(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        source_ip: str = "127.0.0.1",
    ) -> GatewayResponse:
        merged = _merge_headers(headers)
        if self.cors is None:
            return self._route(method, target, merged, body, source_ip)
        origin = merged.get("origin")
        if method == "OPTIONS" and origin is not None and "access-control-request-method" in merged:
            return _with_request_id(self.cors.preflight(origin), new_request_id())
        return self.cors.decorate(self._route(method, target, merged, body, source_ip), origin)

    def _route(
        self, method: str, target: str, merged: dict[str, str], body: bytes | None, source_ip: str
    ) -> GatewayResponse:
        raw_path, _, raw_query = target.partition("?")
        request_id = new_request_id()
        match = self.functions.match(method, raw_path)
        if match is None:
            return _with_request_id(gateway_message(404, "Not Found"), request_id)
        authorization: Authorization | None = None
        authorizer_context: dict[str, Any] | None = None
        merged.setdefault("x-forwarded-for", source_ip)
        merged.setdefault("x-forwarded-proto", self.forwarded_proto)
        lambda_authorizer = self.lambda_authorizers.get(match.route.authorizer or "")
        if lambda_authorizer is not None:
            decision = self._lambda_authorize(
                lambda_authorizer, match, raw_path, raw_query, merged, source_ip, request_id
            )
            if isinstance(decision, GatewayResponse):
                return _with_request_id(decision, request_id)
            authorizer_context = decision
        elif not match.route.open:
            try:
                authorization = self.authorizer.authorize(merged.get("authorization"))
            except Unauthorized as exc:
                challenge = f'Bearer scope="" error="invalid_token" error_description="{exc.reason}"'
                return _with_request_id(
                    gateway_message(401, "Unauthorized", **{"www-authenticate": challenge}), request_id
                )
        try:
            with self.function_scope(match.function.logical_id):
                result = self.functions.invoke_http(
                    match,
                    raw_path=raw_path,
                    query=_query_parameters(raw_query),
                    raw_query_string=raw_query,
                    headers=merged,
                    body=body if body else None,
                    claims=authorization.claims if authorization else None,
                    scopes=authorization.scopes if authorization else None,
                    request_id=request_id,
                    source_ip=source_ip,
                    authorizer_context=authorizer_context,
                )
            response = lambda_result_to_response(result)
        except Exception:
            log.exception("%s failed (API Gateway answers 500)", match.function.logical_id)
            response = gateway_message(500, "Internal Server Error")
        return _with_request_id(response, request_id)

    def _lambda_authorize(
        self,
        authorizer: LambdaAuthorizer,
        match: RouteMatch,
        raw_path: str,
        raw_query: str,
        merged: dict[str, str],
        source_ip: str,
        request_id: str,
    ) -> GatewayResponse | dict[str, Any]:
        """Run a REQUEST authorizer as API Gateway does: its ``context`` when it allows, else the answer."""
        identity = [merged.get(name, "") for name in authorizer.identity_headers]
        if not all(identity):  # API Gateway refuses before invoking the authorizer
            return gateway_message(401, "Unauthorized")
        http = self.functions.http_event_for(
            match,
            raw_path=raw_path,
            query=_query_parameters(raw_query),
            raw_query_string=raw_query,
            headers=merged,
            request_id=request_id,
            source_ip=source_ip,
        )
        try:
            with self.function_scope(authorizer.function):
                result = self.functions.invoke_direct(
                    authorizer.function, authorizer_event(http, identity_source=identity)
                )
        except Exception:
            log.exception("%s failed (API Gateway answers 500)", authorizer.function)
            return gateway_message(500, "Internal Server Error")
        if not isinstance(result, dict) or result.get("isAuthorized") is not True:
            return gateway_message(403, "Forbidden")
        context = result.get("context")
        return dict(context) if isinstance(context, dict) else {}


def lambda_result_to_response(result: Any) -> GatewayResponse:
    """Map a function's result to HTTP as API Gateway does with payload format 2.0.

    A dict with ``statusCode`` is a structured response; anything else is a JSON body with
    status 200. A malformed structured response is API Gateway's 500.
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        body = json.dumps(result).encode()
        return GatewayResponse(200, [("content-type", "application/json")], body)
    status = result["statusCode"]
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"invalid statusCode {status!r}")
    headers = [(str(name).lower(), str(value)) for name, value in (result.get("headers") or {}).items()]
    headers += [("set-cookie", str(cookie)) for cookie in result.get("cookies") or []]
    raw_body = result.get("body")
    if raw_body is None:
        body = b""
    elif result.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw_body, validate=True)
        except binascii.Error as exc:
            raise ValueError("isBase64Encoded body is not base64") from exc
    else:
        body = str(raw_body).encode("utf-8")
    return GatewayResponse(status, headers, body)


def _merge_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Header names lowercased, repeated headers joined by commas, as in a payload 2.0 event."""
    merged: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    return merged


def _query_parameters(raw_query: str) -> dict[str, str] | None:
    """``queryStringParameters``: decoded, repeated names joined by commas."""
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters or None


def _with_request_id(response: GatewayResponse, request_id: str) -> GatewayResponse:
    response.headers.append(("apigw-requestid", request_id))
    return response
