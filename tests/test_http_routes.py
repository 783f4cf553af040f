"""devicekeys.http_routes resolves HTTP API events exactly as Powertools' APIGatewayHttpResolver did.

The functions used to route through Powertools' resolver (with path parameters percent-decoded);
``HttpRoutes`` replaces it to keep ``aws_lambda_powertools.event_handler`` out of every cold
start. Here the same routes, handlers and events go through both, and the results (or the
exception raised) must be equal, for every route the functions declare and for odd paths,
methods, stages and authorizer shapes. The event view is compared member by member with
Powertools' own ``APIGatewayProxyEventV2``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from re import Match
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler import Response as PowertoolsResponse
from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import APIGatewayProxyEventV2
from devicekeys.http_routes import HttpApiEvent, HttpRoutes
from devicekeys.http_routes import Response as OurResponse

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"
_DECLARED = re.compile(r"@app\.(get|post|patch|delete)\(\"([^\"]+)\"\)")


def declared_routes() -> list[tuple[str, str]]:
    """(METHOD, rule) of every route a function declares."""
    routes = {
        (method.upper(), rule)
        for app in FUNCTIONS.glob("*/app.py")
        for method, rule in _DECLARED.findall(app.read_text())
    }
    return sorted(routes)


ROUTES = declared_routes()


class Refused(ValueError):
    """Stands for a domain error: a handler answers it with a 4xx and extra headers."""


class _PowertoolsResolver(APIGatewayHttpResolver):
    """What devicekeys.lambda_api used before: Powertools' resolver, path parameters decoded."""

    def _convert_matches_into_route_keys(self, match: Match[str]) -> dict[str, str]:
        from urllib.parse import unquote

        return {name: unquote(value) for name, value in match.groupdict().items()}


def _name(exc: Exception) -> str:
    """The exception's class name; the two not-found exceptions under one name."""
    name = type(exc).__name__
    return "NotFound" if name in ("NotFoundError", "RouteNotMatched") else name


def build(kind: str, routes: list[tuple[str, str]], *, not_found: bool = True) -> Any:
    """A resolver of ``kind`` ("ours" or "powertools") with ``routes``, wired as FunctionRuntime wires it."""
    app: Any = HttpRoutes() if kind == "ours" else _PowertoolsResolver()
    response_class: Callable[..., Any] = OurResponse if kind == "ours" else PowertoolsResponse

    def json_response(status: int, body: object | None) -> Any:
        return response_class(
            status_code=status,
            content_type="application/json" if body is not None else None,
            body=json.dumps(body, separators=(",", ":")) if body is not None else None,
        )

    def error(status: int, code: str) -> Any:
        request_id = app.current_event.request_context.request_id  # KeyError without one, in both
        return json_response(status, {"error": code, "request_id": request_id})

    def refused(exc: Refused) -> Any:
        response = error(409, "refused")
        response.headers["Retry-After"] = "1"
        response.headers.update({"X-Reason": str(exc)})
        return response

    app.exception_handler(Refused)(refused)
    app.exception_handler(Exception)(lambda exc: error(500, _name(exc)))
    if not_found:
        app.not_found(lambda exc: error(404, "route_not_found"))

    for index, (method, rule) in enumerate(routes):

        def route(index: int = index, **params: str) -> Any:
            value = " ".join(params.values())
            if "refuse" in value:
                raise Refused(value)
            if "boom" in value:
                raise RuntimeError(value)
            if "nobody" in value:
                return json_response(204, None)
            event = app.current_event
            return json_response(
                200,
                {
                    "route": index,
                    "params": params,
                    "query": event.query_string_parameters,
                    "body": event.body,
                    "b64": event.is_base64_encoded,
                    "claims": event.request_context.authorizer.jwt_claim,
                    "scopes": event.request_context.authorizer.jwt_scopes,
                    "authorized": bool(event.request_context.authorizer),
                },
            )

        getattr(app, method.lower())(rule)(route)
    return app


def event(method: str, raw_path: str, *, stage: str = "$default", **extra: Any) -> dict[str, Any]:
    context = {
        "http": {"method": method, "path": raw_path},
        "requestId": "req-1",
        "stage": stage,
        **extra.pop("context", {}),
    }
    return {"version": "2.0", "rawPath": raw_path, "requestContext": context, **extra}


def outcome(app: Any, request: dict[str, Any]) -> Any:
    try:
        return app.resolve(request, None)
    except Exception as exc:  # the exception raised is part of the behaviour compared
        return ("raised", type(exc).__name__, str(exc))


def assert_same(request: dict[str, Any], routes: list[tuple[str, str]] = ROUTES, **options: Any) -> None:
    ours, theirs = (
        outcome(build("ours", routes, **options), request),
        outcome(build("powertools", routes, **options), request),
    )
    assert ours == theirs, request


VALUES = [
    "alice",
    "me",
    "alice%40example.com",
    "a%2Fb",
    "%E2%82%AC",
    "é",
    "a b",
    "a+b",
    "~!$&'()*+,;=:@",
    "[x]{y}|^<>",
    'a"b',
    "a#b",
    "a?b",
    "a\\b",
    "%zz",
    "x" * 300,
    "refuse",
    "boom",
    "nobody",
]


def test_routes_are_found():
    assert len(ROUTES) >= 10 and ("POST", "/v1/users/<user_id>/device-keys/verify") in ROUTES


@pytest.mark.parametrize(("method", "rule"), ROUTES)
def test_every_declared_route_resolves_as_powertools_did(method, rule):
    for value in VALUES:
        path = re.sub(r"<\w+>", value, rule)
        assert_same(event(method, path))
        assert_same(event(method.lower(), path))
        assert_same(event(method, path + "/"))
        assert_same(event(method, path + "\n"))
        assert_same(event(method, "/prod" + path, stage="prod"))
        assert_same(event("PUT" if method != "PUT" else "GET", path))
        assert_same(event("OPTIONS", path))


@pytest.mark.parametrize(
    "raw_path",
    [
        "/",
        "",
        "//v1/users/alice/device-keys",
        "/v1/users//device-keys",
        "/v1/users/alice/device-keys/",
        "/V1/users/alice/device-keys",
        "/v1/users/alice/device-keys/challenges/extra",
        "/prod/v1/users/alice/device-keys",
        "/unknown",
    ],
)
def test_unmatched_paths_resolve_as_powertools_did(raw_path):
    for method in ("GET", "POST", "PATCH", "DELETE", "HEAD"):
        assert_same(event(method, raw_path))
        assert_same(event(method, raw_path), not_found=False)


@pytest.mark.parametrize(
    "authorizer",
    [
        None,
        {},
        {"jwt": None},
        {"jwt": {}},
        {"jwt": {"claims": None, "scopes": None}},
        {"jwt": {"claims": {"sub": "alice", "scope": "a b"}, "scopes": ["device-keys/admin"]}},
        {"jwt": {"claims": {"sub": "alice"}}},
        {"lambda": {"sub": "x"}},
        {"iam": {"accessKey": "AKIA"}},
    ],
)
def test_authorizer_and_body_are_read_as_powertools_did(authorizer):
    extras: list[dict[str, Any]] = [
        {},
        {"body": '{"proof":"x"}', "isBase64Encoded": False},
        {"body": "eyJ9", "isBase64Encoded": True},
        {"queryStringParameters": {"limit": "2", "next_token": "abc"}},
        {"queryStringParameters": None},
    ]
    for extra in extras:
        context = {} if authorizer is None else {"authorizer": authorizer}
        request = event("GET", "/v1/users/alice/device-keys", context=context, **extra)
        assert_same(request)


@pytest.mark.parametrize(
    "request_",
    [
        {"version": "2.0", "rawPath": "/x", "requestContext": {"http": {"method": "GET"}, "stage": "$default"}},
        {"version": "2.0", "rawPath": "/x", "requestContext": {"http": {"method": "GET"}}},
        {"version": "2.0", "rawPath": "/x", "requestContext": {"stage": "$default"}},
        {"version": "2.0", "requestContext": {"http": {"method": "GET"}, "stage": "$default"}},
        {"version": "2.0", "rawPath": "/v1/users/alice/device-keys", "requestContext": {"http": {"method": "GET"}}},
    ],
)
def test_malformed_events_fail_as_powertools_did(request_):
    """No requestId, stage or method: the same exception (or the same answer) from both."""
    assert_same(request_)
    assert_same(request_, not_found=False)


def _members(cls: type) -> list[str]:
    return sorted(name for name in dir(cls) if isinstance(getattr(cls, name), property) and not name.startswith("_"))


def _read(obj: Any, name: str) -> Any:
    """A member's value (data class wrappers by their data), or how reading it failed."""
    try:
        value = getattr(obj, name)
    except Exception as exc:  # a member that fails must fail alike
        return ("raised", type(exc).__name__)
    data = None if isinstance(value, dict | list | str) else getattr(value, "raw_event", None)
    return ("wrapped", data) if data is not None else value


@pytest.mark.parametrize(
    "request_",
    [
        event(
            "POST",
            "/v1/users/alice/device-keys",
            headers={"Content-Type": "application/json", "Origin": "https://a.example"},
            cookies=["a=1", "b=2"],
            body="{}",
            isBase64Encoded=False,
            queryStringParameters={"limit": "2"},
            pathParameters={"user_id": "alice"},
            rawQueryString="limit=2",
            routeKey="POST /v1/users/{user_id}/device-keys",
            context={"authorizer": {"jwt": {"claims": {"sub": "alice"}, "scopes": ["s"]}}, "accountId": "1"},
        ),
        event("GET", "/prod/v1/users/me/device-keys", stage="prod", headers={}),
    ],
)
def test_the_event_view_reads_every_member_as_the_data_class(request_):
    """Members written out in HttpApiEvent and those it reads through Powertools agree with the data class."""
    ours, theirs = HttpApiEvent(request_), APIGatewayProxyEventV2(request_)
    pairs = [
        (ours, theirs),
        (ours.request_context, theirs.request_context),
        (ours.request_context.authorizer, theirs.request_context.authorizer),
    ]
    for mine, powertools in pairs:
        for name in _members(type(powertools)):
            assert _read(mine, name) == _read(powertools, name), name
        assert bool(mine) == bool(powertools) and len(mine) == len(powertools)
    assert ours.headers.get("origin") == theirs.headers.get("ORIGIN")


def test_the_openapi_description_is_the_resolver_s_for_the_same_routes():
    """The local API documents each function from its routes (devicekeys_local.openapi): unchanged."""
    ours, theirs = build("ours", ROUTES), build("powertools", ROUTES)
    assert json.loads(ours.get_openapi_json_schema(title="t", version="1")) == json.loads(
        theirs.get_openapi_json_schema(title="t", version="1")
    )
