"""CORS: the template allows exactly the console's origin, and the local API answers as API Gateway does.

Over real HTTP and in a browser: tests/e2e/browser/test_cross_origin.py.
"""

from __future__ import annotations

import pytest
from devicekeys_local.environment import Resolver, resolve_parameters
from devicekeys_local.gateway import CorsPolicy, GatewayResponse
from devicekeys_local.server import cors_policy

CONSOLE = "https://console.example.com"


def policy_for(**parameters: str) -> CorsPolicy | None:
    return cors_policy(Resolver(resolve_parameters(parameters)))


def test_without_a_console_origin_the_api_answers_no_cors() -> None:
    assert policy_for() is None


def test_the_console_origin_is_the_one_origin_allowed() -> None:
    policy = policy_for(ConsoleOrigin=CONSOLE)
    assert policy is not None
    assert policy.allow_origins == (CONSOLE,)
    assert set(policy.allow_methods) == {"GET", "POST", "PATCH", "DELETE"}
    assert {header.lower() for header in policy.allow_headers} == {"authorization", "content-type"}
    assert "www-authenticate" in policy.expose_headers  # the SDK reads why a token was refused
    assert policy.max_age is not None and policy.max_age > 0
    assert not policy.allow_credentials  # bearer tokens, no cookies


def test_a_hosted_console_without_an_origin_allows_its_distributions_origin() -> None:
    resolver = Resolver(resolve_parameters({"ConsoleHosting": "cloudfront"}))
    policy = cors_policy(resolver)
    distribution = resolver.resolve({"Fn::GetAtt": ["ConsoleDistribution", "DomainName"]})
    assert policy is not None and policy.allow_origins == (f"https://{distribution}",)


def test_a_given_origin_wins_over_the_distributions() -> None:
    policy = policy_for(ConsoleHosting="cloudfront", ConsoleOrigin=CONSOLE)
    assert policy is not None and policy.allow_origins == (CONSOLE,)


# --- the emulation of API Gateway's answers -------------------------------------------------

POLICY = CorsPolicy(
    allow_origins=(CONSOLE,),
    allow_methods=("GET", "POST"),
    allow_headers=("authorization", "content-type"),
    expose_headers=("www-authenticate",),
    max_age=600,
)


def test_a_preflight_from_the_allowed_origin_is_answered_with_the_configuration() -> None:
    response = POLICY.preflight(CONSOLE)
    assert response.status == 204
    assert dict(response.headers) == {
        "access-control-allow-origin": CONSOLE,
        "vary": "origin",
        "access-control-allow-methods": "GET,POST",
        "access-control-allow-headers": "authorization,content-type",
        "access-control-max-age": "600",
    }


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://console.example.com",  # another scheme is another origin
        "https://console.example.com:8443",
        "https://console.example.com.evil.example",
        "null",
        None,
    ],
)
def test_any_other_origin_gets_no_cors_headers(origin: str | None) -> None:
    assert POLICY.preflight(origin).headers == []
    response = POLICY.decorate(GatewayResponse(200, [("content-type", "application/json")]), origin)
    assert response.headers == [("content-type", "application/json")]


def test_responses_to_the_allowed_origin_carry_its_headers_and_not_the_functions_own() -> None:
    response = GatewayResponse(401, [("content-type", "application/json"), ("access-control-allow-origin", "*")], b"{}")
    headers = POLICY.decorate(response, CONSOLE).headers
    assert headers == [
        ("content-type", "application/json"),
        ("access-control-allow-origin", CONSOLE),
        ("vary", "origin"),
        ("access-control-expose-headers", "www-authenticate"),
    ]
