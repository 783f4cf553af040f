"""A function's HTTP API route, resolved as Powertools' ``APIGatewayHttpResolver`` resolves it.

Why not the resolver itself: it lives in ``aws_lambda_powertools.event_handler``, whose
``__init__`` imports every resolver Powertools offers (AppSync's pulls in ``asyncio``, then
Bedrock's, VPC Lattice's, the OpenAPI models...). That package costs about 0.18x of
``import boto3`` at every cold start (``benchmarks/``, docs/benchmarks.md), for one route per
function. ``HttpRoutes`` does what the resolver did for our routes, with the same rules:

- routes are declared ``@app.post("/v1/users/<user_id>/device-keys")``; ``<name>`` matches what
  Powertools' does (its character class, the whole path, the request context's stage removed
  unless it is ``$default``), and the method must be equal, upper-cased;
- path parameters are percent-decoded, as API Gateway decodes ``pathParameters`` (Powertools
  matches ``rawPath`` and would pass ``alice%40example.com`` on encoded);
- ``current_event`` reads the event as Powertools' ``APIGatewayProxyEventV2`` reads it: the
  members every function reads are written out here, with its rules (its module imports
  ``utilities.data_classes``, ~40 event classes, another ~0.07x of ``import boto3``); any other
  member (``headers``, ``cookies``...) is read through that class, imported on first use;
- an exception raised by a route (or the not-found handler) goes to the handler registered for
  the nearest class in its MRO; one a handler raises propagates;
- a ``Response`` becomes the payload 2.0 result Powertools builds for it (``statusCode``,
  ``body``, ``isBase64Encoded``, ``headers``, ``cookies``).

What Powertools' resolver offers beyond that (CORS, compression, middlewares, validation,
OpenAPI, ``POWERTOOLS_DEV`` printing) was never configured here. ``tests/test_http_routes.py``
resolves the same events through both and compares the results.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from re import Match, Pattern
from typing import Any
from urllib.parse import unquote

# Powertools' route syntax (aws_lambda_powertools/event_handler/api_gateway.py).
_DYNAMIC_ROUTE_PATTERN = r"(<\w+>)"
_SAFE_URI = "-._~()'!*:@,;=+&$"
_UNSAFE_URI = r"%<> \[\]{}|^"
_NAMED_GROUP_BOUNDARY_PATTERN = rf"(?P\1[{_SAFE_URI}{_UNSAFE_URI}\\w]+)"

RouteHandler = Callable[..., "Response"]
ExceptionHandler = Callable[[Any], "Response"]  # takes the exception class it is registered for


class RouteNotMatched(Exception):
    """No route of this function matches the request's method and path (Powertools': NotFoundError)."""


class Response:
    """An HTTP response, as Powertools' ``Response`` (a string or no body, headers; no cookies)."""

    def __init__(
        self,
        status_code: int,
        content_type: str | None = None,
        body: str | None = None,
        headers: Mapping[str, str | list[str]] | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.headers: dict[str, str | list[str]] = dict(headers) if headers else {}
        if content_type:
            self.headers.setdefault("Content-Type", content_type)

    def to_http_api(self) -> dict[str, Any]:
        """The Lambda result for an HTTP API (payload 2.0), as Powertools' ResponseBuilder builds it."""
        return {
            "statusCode": self.status_code,
            "body": self.body,
            "isBase64Encoded": False,
            "headers": {
                name: value if isinstance(value, str) else ", ".join(value)
                for name, value in self.headers.items()
                if value is not None
            },
            "cookies": [],
        }


class EventPart:
    """Read-only access to one object of an event, as Powertools' ``DictWrapper`` gives it.

    A member not written out here is read through the Powertools data class named by
    ``POWERTOOLS_CLASS`` (in ``utilities.data_classes.api_gateway_proxy_event``), built on first use.
    """

    __slots__ = ("_data", "_powertools")
    POWERTOOLS_CLASS = "APIGatewayProxyEventV2"

    def __init__(self, data: Any) -> None:
        self._data = data
        self._powertools: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._powertools is None:
            from aws_lambda_powertools.utilities.data_classes import (  # noqa: PLC0415 - only members not written out here
                api_gateway_proxy_event,
            )

            self._powertools = getattr(api_gateway_proxy_event, self.POWERTOOLS_CLASS)(self._data)
        return getattr(self._powertools, name)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self._data[key]
        except KeyError:
            return default

    @property
    def raw_event(self) -> Any:
        return self._data


class Authorizer(EventPart):
    """``requestContext.authorizer``: what the HTTP API's JWT authorizer vouched for."""

    __slots__ = ()
    POWERTOOLS_CLASS = "RequestContextV2Authorizer"

    @property
    def jwt_claim(self) -> dict[str, Any]:
        jwt = self.get("jwt") or {}
        return jwt.get("claims") or {}  # type: ignore[no-any-return]

    @property
    def jwt_scopes(self) -> list[str]:
        jwt = self.get("jwt") or {}
        return jwt.get("scopes", [])  # type: ignore[no-any-return]


class RequestContext(EventPart):
    __slots__ = ()
    POWERTOOLS_CLASS = "RequestContextV2"

    @property
    def authorizer(self) -> Authorizer:
        return Authorizer(self.get("authorizer") or {})

    @property
    def request_id(self) -> str:
        return self["requestId"]  # type: ignore[no-any-return]

    @property
    def stage(self) -> str:
        return self["stage"]  # type: ignore[no-any-return]

    @property
    def http_method(self) -> str:
        return self["http"]["method"]  # type: ignore[no-any-return]


class HttpApiEvent(EventPart):
    """An HTTP API (payload 2.0) event, read as ``APIGatewayProxyEventV2`` reads it."""

    __slots__ = ()

    @property
    def request_context(self) -> RequestContext:
        return RequestContext(self["requestContext"])

    @property
    def http_method(self) -> str:
        return self.request_context.http_method

    @property
    def raw_path(self) -> str:
        return self["rawPath"]  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        """``rawPath`` without the stage, unless the stage is ``$default``."""
        stage = self.request_context.stage
        if stage != "$default":
            return self.raw_path[len("/" + stage) :]
        return self.raw_path

    @property
    def body(self) -> str | None:
        return self.get("body")  # type: ignore[no-any-return]

    @property
    def is_base64_encoded(self) -> bool | None:
        return self.get("isBase64Encoded")  # type: ignore[no-any-return]

    @property
    def query_string_parameters(self) -> dict[str, str]:
        return self.get("queryStringParameters") or {}  # type: ignore[no-any-return]

    @property
    def path_parameters(self) -> dict[str, str]:
        return self.get("pathParameters") or {}  # type: ignore[no-any-return]


def compile_rule(rule: str) -> Pattern[str]:
    """A route rule as Powertools compiles it: ``<name>`` -> a named group, anchored with ``^...$``."""
    return re.compile(f"^{re.sub(_DYNAMIC_ROUTE_PATTERN, _NAMED_GROUP_BOUNDARY_PATTERN, rule)}$")


class HttpRoutes:
    """The routes of one function, and the event being resolved."""

    current_event: HttpApiEvent
    lambda_context: Any

    def __init__(self) -> None:
        self._static: list[tuple[str, Pattern[str], RouteHandler]] = []
        self._dynamic: list[tuple[str, Pattern[str], RouteHandler]] = []
        self._declared: list[tuple[str, str, RouteHandler]] = []  # (rule, method, handler), in order
        self._exception_handlers: dict[type[Exception], ExceptionHandler] = {}

    # --- declaring routes and handlers ------------------------------------------------------

    def route(self, rule: str, method: str) -> Callable[[RouteHandler], RouteHandler]:
        def register(func: RouteHandler) -> RouteHandler:
            routes = self._dynamic if re.search(_DYNAMIC_ROUTE_PATTERN, rule) else self._static
            routes.append((method.upper(), compile_rule(rule), func))
            self._declared.append((rule, method.upper(), func))
            return func

        return register

    def get(self, rule: str) -> Callable[[RouteHandler], RouteHandler]:
        return self.route(rule, "GET")

    def post(self, rule: str) -> Callable[[RouteHandler], RouteHandler]:
        return self.route(rule, "POST")

    def patch(self, rule: str) -> Callable[[RouteHandler], RouteHandler]:
        return self.route(rule, "PATCH")

    def delete(self, rule: str) -> Callable[[RouteHandler], RouteHandler]:
        return self.route(rule, "DELETE")

    def exception_handler(self, exc_class: type[Exception]) -> Callable[[ExceptionHandler], ExceptionHandler]:
        def register(func: ExceptionHandler) -> ExceptionHandler:
            self._exception_handlers[exc_class] = func
            return func

        return register

    def not_found(self, func: ExceptionHandler) -> ExceptionHandler:
        return self.exception_handler(RouteNotMatched)(func)

    def get_openapi_json_schema(self, **options: Any) -> str:
        """Powertools' OpenAPI description of these routes (the local API's ``/openapi.json``).

        Built by its resolver from the same route functions, so the document is what it was;
        the resolver (and the pydantic it needs for this) is imported here only, by tooling.
        """
        from aws_lambda_powertools.event_handler import APIGatewayHttpResolver  # noqa: PLC0415 - documentation tooling only

        resolver = APIGatewayHttpResolver()
        for rule, method, func in self._declared:
            resolver.route(rule, method)(func)
        return resolver.get_openapi_json_schema(**options)

    # --- resolving an event ------------------------------------------------------------------

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """The HTTP API result for ``event``: its route's response, or the not-found handler's."""
        self.current_event = HttpApiEvent(event)
        self.lambda_context = context
        method = self.current_event.http_method.upper()
        path = self.current_event.path
        for route_method, rule, func in self._static + self._dynamic:
            if route_method != method:
                continue
            match = rule.match(path)
            if match:
                return self._call(func, path_parameters(match)).to_http_api()
        return self._call(self._route_not_found, {}).to_http_api()

    def _route_not_found(self) -> Response:
        handler = self._handler_for(RouteNotMatched)
        if handler is None:
            return Response(404, "application/json", '{"statusCode":404,"message":"Not found"}')
        return handler(RouteNotMatched())

    def _call(self, func: Callable[..., Response], arguments: dict[str, str]) -> Response:
        try:
            return func(**arguments)
        except Exception as exc:
            handler = self._handler_for(type(exc))
            if handler is None:
                raise
            return handler(exc)

    def _handler_for(self, exc_type: type[Exception]) -> ExceptionHandler | None:
        for cls in exc_type.__mro__:
            if cls in self._exception_handlers:
                return self._exception_handlers[cls]
        return None


def path_parameters(match: Match[str]) -> dict[str, str]:
    """The route's parameters, percent-decoded as API Gateway decodes ``pathParameters``."""
    return {name: unquote(value) for name, value in match.groupdict().items()}
