"""The one place that knows Lambda events: what every function shares around its domain call.

A function module builds one ``FunctionRuntime`` at cold start, declares its route on
``runtime.app`` and exports ``runtime.handler(direct=...)``. The handler serves both an API
Gateway HTTP API (payload 2.0) event, through its route (``devicekeys.http_routes``: Powertools'
resolver rules without the cost of importing its package), and a direct invocation
with a plain JSON document (Step Functions), where domain errors are raised under their own
names for a ``Catch`` to match.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from . import snapstart, text
from .access import ANONYMOUS, Caller, direct_caller, granted_scopes, token_caller
from .challenges import ChallengeService
from .device_keys import DeviceKeyService
from .errors import DeviceKeysError, InternalError, InvalidRequest, RouteNotFound
from .http_routes import HttpRoutes, Response
from .inputs import parse_json_body, validate
from .models import build_models
from .settings import Settings

JSON = "application/json"
MAX_LOGGED = 128  # characters of a user or key id in a log line: ids, never a client's essay
# A direct invocation's document (without ``actor``) and who made it -> the function's output.
DirectHandler = Callable[[dict[str, Any], Caller], dict[str, Any] | None]


def is_http_event(event: object) -> bool:
    return isinstance(event, Mapping) and event.get("version") == "2.0" and "requestContext" in event


def request_keys(event: object) -> dict[str, str]:
    """The user and key a request is about, as its path or document names them: tagged on every log line."""
    if not isinstance(event, Mapping):
        return {}
    named = event.get("pathParameters") if is_http_event(event) else event
    if not isinstance(named, Mapping):
        return {}
    keys = {}
    for name in ("user_id", "key_id"):
        value = named.get(name)
        if isinstance(value, str) and value:
            keys[name] = unquote(value)[:MAX_LOGGED] if is_http_event(event) else value[:MAX_LOGGED]
    return keys


def json_response(status: int, body: object | None) -> Response:
    return Response(
        status_code=status,
        content_type=JSON if body is not None else None,
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False) if body is not None else None,
    )


class FunctionRuntime:
    """Settings, observability, resolver and domain services of one function, built once."""

    def __init__(self, operation: str, settings: Settings | None = None) -> None:
        self.operation = operation
        self.settings = settings or Settings.from_env()
        self.logger = Logger(service="devicekeys")
        self.logger.append_keys(operation=operation)
        self.metrics = Metrics(service="devicekeys")
        self.metrics.set_default_dimensions(operation=operation)
        self.app = HttpRoutes()
        self.app.exception_handler(DeviceKeysError)(self._domain_error)
        self.app.exception_handler(Exception)(self._unexpected_error)
        self.app.not_found(self._route_not_found)
        snapstart.protect(self)  # SnapStart's runtime hooks: warm before the snapshot, refresh after a restore

    # Services are built on first use: a function that never issues challenges never builds them.
    @cached_property
    def _models(self) -> Any:
        return build_models(self.settings)

    @cached_property
    def challenges(self) -> ChallengeService:
        return ChallengeService(
            self._models.challenge, self._models.connection, ttl_seconds=self.settings.challenge_ttl_seconds
        )

    @cached_property
    def device_keys(self) -> DeviceKeyService:
        return DeviceKeyService(
            self._models,
            max_devices_per_user=self.settings.max_devices_per_user,
            inactive_key_days=self.settings.inactive_key_days,
        )

    # --- request helpers for routes -----------------------------------------------------

    def caller(self) -> Caller:
        """The principal the HTTP API's JWT authorizer vouched for, or ANONYMOUS on open routes."""
        authorizer = self.app.current_event.request_context.authorizer
        if not authorizer:
            return ANONYMOUS
        claims = authorizer.jwt_claim or {}
        scopes = granted_scopes(authorizer.jwt_scopes, claims)
        return token_caller(claims.get("sub"), scopes, self.settings.admin_scope)

    def raw_body(self) -> bytes | None:
        """The request body's bytes, base64 undone as API Gateway encoded them."""
        event = self.app.current_event
        raw = event.body
        if not raw:
            return None
        try:
            return base64.b64decode(raw, validate=True) if event.is_base64_encoded else raw.encode("utf-8")
        except (binascii.Error, UnicodeError) as exc:
            raise InvalidRequest("the request body could not be decoded") from exc

    def body(self, schema_name: str) -> dict[str, Any]:
        """The request body as a document the named schema allows."""
        return parse_json_body(self.raw_body(), schema_name)

    def ok(self, body: object) -> Response:
        self._count("success")
        return json_response(200, body)

    def created(self, body: object) -> Response:
        self._count("success")
        return json_response(201, body)

    def no_content(self) -> Response:
        self._count("success")
        return json_response(204, None)

    # --- entry point --------------------------------------------------------------------

    def handler(self, direct: DirectHandler) -> Callable[[dict[str, Any], Any], Any]:
        """The Lambda entry point: HTTP API events go to the routes, anything else to ``direct``."""

        @self.metrics.log_metrics
        @self.logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
        def lambda_handler(event: dict[str, Any], context: Any) -> Any:
            # clear_state drops the last invocation's keys; this one's are the request's user and key.
            self.logger.append_keys(operation=self.operation, **request_keys(event))
            if is_http_event(event):
                return self.app.resolve(event, context)
            return self._direct(direct, event)

        return lambda_handler

    def _direct(self, direct: DirectHandler, event: object) -> dict[str, Any] | None:
        try:
            if not isinstance(event, dict):
                raise InvalidRequest("a direct invocation takes a JSON object")
            try:
                text.check(event, what="the invocation")
            except text.JsonTextError as exc:
                raise InvalidRequest(str(exc)) from exc
            caller = direct_caller(event.get("actor"))
            result = direct({name: value for name, value in event.items() if name != "actor"}, caller)
        except DeviceKeysError as exc:
            self._count(exc.code)
            self.logger.info("request refused", extra={"error_code": exc.code})
            raise
        self._count("success")
        return result

    def direct_document(self, event: Mapping[str, Any], schema_name: str, *keys: str) -> dict[str, Any]:
        """The body part of a direct invocation, validated like an HTTP body (identifiers removed)."""
        return validate({k: v for k, v in event.items() if k not in keys}, schema_name)

    # --- responses for failures ---------------------------------------------------------

    def _error(self, status: int, code: str, message: str) -> Response:
        request_id = self.app.current_event.request_context.request_id
        return json_response(status, {"error": {"code": code, "message": message}, "request_id": request_id})

    def _domain_error(self, exc: DeviceKeysError) -> Response:
        self._count(exc.code)
        self.logger.info("request refused", extra={"error_code": exc.code})
        response = self._error(exc.status, exc.code, exc.message)
        response.headers.update(exc.response_headers())
        if exc.retryable:
            response.headers["Retry-After"] = "1"
        return response

    def _unexpected_error(self, exc: Exception) -> Response:
        self.logger.exception("unexpected failure")
        return self._domain_error(InternalError("the service failed unexpectedly; it has been logged"))

    def _route_not_found(self, exc: Exception) -> Response:
        return self._domain_error(RouteNotFound("no such route"))

    def _count(self, outcome: str) -> None:
        self.metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)
