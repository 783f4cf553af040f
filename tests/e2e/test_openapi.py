"""The OpenAPI document and Swagger UI page the local API serves."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from devicekeys.inputs import SCHEMAS, journey_request_schema
from devicekeys_local.template import function_definitions

from .conftest import LocalApi

pytestmark = pytest.mark.e2e


def fetch(local_api: LocalApi, path: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(local_api.url + path, timeout=30) as response:  # noqa: S310
        return response.headers["content-type"], response.read()


@pytest.fixture(scope="module")
def document(local_api: LocalApi) -> dict[str, Any]:
    content_type, body = fetch(local_api, "/openapi.json")
    assert content_type == "application/json"
    return dict(json.loads(body))


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_template_route_is_documented_with_its_access(document: dict[str, Any]) -> None:
    for function in function_definitions():
        for route in function.routes:
            operation = document["paths"][route.path][route.method.lower()]
            expected = [] if route.open else [{route.authorizer or "JwtAuthorizer": []}]
            assert operation["security"] == expected, route
            assert operation["summary"], route
    scheme = document["components"]["securitySchemes"]["JwtAuthorizer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")


def test_request_bodies_are_the_schemas_the_functions_enforce(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name, schema in SCHEMAS.items():
        assert schemas[name] == schema
    register = document["paths"]["/v1/users/{user_id}/device-keys"]["post"]
    assert register["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RegisterRequest"
    }
    assert set(register["responses"]) >= {"201", "400", "401", "403", "409", "413"}
    listing = document["paths"]["/v1/users/{user_id}/device-keys"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"user_id", "status", "limit", "next_token"}
    delete = document["paths"]["/v1/users/{user_id}/device-keys/{key_id}"]["delete"]
    assert "content" not in delete["responses"]["204"]


def test_each_journey_is_documented_with_its_own_body_and_outcomes(document: dict[str, Any]) -> None:
    journeys = {path: item["post"] for path, item in document["paths"].items() if path.startswith("/v1/journeys/")}
    assert len(journeys) == 8
    assert len({operation["summary"] for operation in journeys.values()}) == 8  # not eight identical entries
    schemas = document["components"]["schemas"]
    for path, operation in journeys.items():
        name = path.rsplit("/", 1)[-1]
        request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert request == journey_request_schema(name) and schemas[request] == SCHEMAS[request]
        outcome = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        outcomes = schemas[outcome].get("anyOf", [schemas[outcome]])
        assert all("outcome" in shape["properties"] for shape in outcomes), name
    assert "user_id" in schemas["LoginRegisteredDeviceJourneyRequest"]["required"]  # open: the body names the user
    assert "user_id" not in schemas["CountDevicesJourneyRequest"]["properties"]  # the token's sub


def test_swagger_ui_page_loads_the_document_and_its_assets_from_the_local_api(local_api: LocalApi) -> None:
    content_type, body = fetch(local_api, "/docs")
    assert content_type.startswith("text/html")
    assert b'url: "/openapi.json"' in body
    assert b"https://" not in body and b"http://" not in body  # nothing from a CDN: works offline
    for asset, kind in (("/docs/swagger-ui-bundle.js", "text/javascript"), ("/docs/swagger-ui.css", "text/css")):
        assert asset.encode() in body
        content_type, content = fetch(local_api, asset)
        assert content_type.startswith(kind) and len(content) > 10_000
