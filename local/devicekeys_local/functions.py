"""Load the template's functions in this process and route requests to them like API Gateway."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .events import LambdaContext, http_event, route_pattern
from .template import TEMPLATE, FunctionDefinition, Route, function_definitions

Handler = Callable[[dict[str, Any], Any], Any]
# The logical id of the function running in this thread, as Lambda would know it: lets tools
# (the IAM policy test, logs) attribute an AWS call to the function that made it.
RUNNING_FUNCTION: ContextVar[str | None] = ContextVar("running_function", default=None)


@contextmanager
def running(logical_id: str) -> Iterator[None]:
    token = RUNNING_FUNCTION.set(logical_id)
    try:
        yield
    finally:
        RUNNING_FUNCTION.reset(token)


@dataclass(frozen=True)
class RouteMatch:
    function: FunctionDefinition
    route: Route
    path_parameters: dict[str, str]


class LocalFunctions:
    """The functions of ``template.yaml``, each imported once, as a warm Lambda container would."""

    def __init__(self, template: Path = TEMPLATE) -> None:
        self.definitions = {fn.logical_id: fn for fn in function_definitions(template)}
        self._modules: dict[str, ModuleType] = {}
        self._routes = [
            (route_pattern(route.path), fn, route) for fn in self.definitions.values() for route in fn.routes
        ]

    def module(self, logical_id: str) -> ModuleType:
        if logical_id not in self._modules:
            fn = self.definitions[logical_id]
            source = fn.code_dir / f"{fn.module.replace('.', '/')}.py"
            spec = importlib.util.spec_from_file_location(f"devicekeys_function_{fn.code_dir.name}", source)
            assert spec and spec.loader, source
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._modules[logical_id] = module
        return self._modules[logical_id]

    def handler(self, logical_id: str) -> Handler:
        fn = self.definitions[logical_id]
        return getattr(self.module(logical_id), fn.handler)  # type: ignore[no-any-return]

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        for pattern, fn, route in self._routes:
            found = pattern.fullmatch(raw_path)
            if found and route.method == method.upper():
                return RouteMatch(fn, route, found.groupdict())
        return None

    def invoke_http(self, match: RouteMatch, *, raw_path: str, **request: Any) -> dict[str, Any]:
        """Invoke the matched function with the event API Gateway would build; return its response."""
        event = self.http_event_for(match, raw_path=raw_path, **request)
        context = LambdaContext(function_name=match.function.logical_id)
        with running(match.function.logical_id):
            return self.handler(match.function.logical_id)(event, context)  # type: ignore[no-any-return]

    @staticmethod
    def http_event_for(
        match: RouteMatch,
        *,
        raw_path: str,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        claims: dict[str, Any] | None = None,
        scopes: list[str] | None = None,
        raw_query_string: str | None = None,
        request_id: str | None = None,
        source_ip: str = "127.0.0.1",
        authorizer_context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The event API Gateway would send the matched function for this request."""
        return http_event(
            method=match.route.method,
            route_path=match.route.path,
            raw_path=raw_path,
            path_parameters=match.path_parameters,
            query=query,
            headers=headers,
            body=body,
            claims=claims,
            scopes=scopes,
            raw_query_string=raw_query_string,
            request_id=request_id,
            source_ip=source_ip,
            authorizer_context=authorizer_context,
        )

    def invoke_direct(self, logical_id: str, document: Any) -> Any:
        """A direct (IAM) invocation, as Step Functions' lambda:invoke makes; the payload round-trips JSON."""
        payload = json.loads(json.dumps(document))
        with running(logical_id):
            result = self.handler(logical_id)(payload, LambdaContext(function_name=logical_id))
        return json.loads(json.dumps(result))
