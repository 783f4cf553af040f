"""One OpenAPI document for the whole API, and a Swagger UI page to try it.

Each function's Powertools resolver (its module's ``app``) describes its own route; their
descriptions are merged, then completed with what the resolvers cannot know: the request
bodies (the very JSON Schemas the functions validate with, ``devicekeys.inputs.SCHEMAS``),
the responses and error codes of DESIGN.md, and the JWT authorizer from ``template.yaml``.
"""

from __future__ import annotations

import copy
import html
import json
from dataclasses import dataclass
from typing import Any

from .events import route_pattern
from .functions import LocalFunctions
from .template import TEMPLATE, Route, load_template

SECURITY_SCHEME = "JwtAuthorizer"
SWAGGER_UI_VERSION = "5.17.14"


@dataclass(frozen=True)
class OperationDoc:
    success: int
    response: str | None
    request: str | None = None
    query: str | None = None
    errors: tuple[str, ...] = ()


# What each function accepts and answers (DESIGN.md section 1); keyed by template logical id.
OPERATIONS = {
    "IssueChallengeFunction": OperationDoc(
        201, "Challenge", request="IssueChallengeRequest", errors=("invalid_request", "forbidden", "payload_too_large")
    ),
    "RegisterDeviceKeyFunction": OperationDoc(
        201,
        "DeviceKey",
        request="RegisterRequest",
        errors=(
            "invalid_request",
            "unsupported_key",
            "invalid_proof",
            "challenge_expired",
            "challenge_not_found",
            "forbidden",
            "device_key_exists",
            "device_limit_reached",
            "payload_too_large",
        ),
    ),
    "VerifyDeviceKeyFunction": OperationDoc(
        200,
        "Verification",
        request="VerifyRequest",
        errors=(
            "invalid_request",
            "invalid_proof",
            "challenge_expired",
            "challenge_not_found",
            "device_blocked",
            "device_not_found",
            "payload_too_large",
        ),
    ),
    "GetDeviceKeyFunction": OperationDoc(200, "DeviceKey", errors=("invalid_request", "forbidden", "device_not_found")),
    "ListDeviceKeysFunction": OperationDoc(
        200, "DeviceKeyPage", query="ListQuery", errors=("invalid_request", "forbidden")
    ),
    "UpdateDeviceKeyFunction": OperationDoc(
        200,
        "DeviceKey",
        request="UpdateRequest",
        errors=("invalid_request", "forbidden", "device_not_found", "payload_too_large"),
    ),
    "DeleteDeviceKeyFunction": OperationDoc(204, None, errors=("invalid_request", "forbidden", "device_not_found")),
    "BlockDeviceKeyFunction": OperationDoc(
        200, "DeviceKey", request="BlockRequest", errors=("invalid_request", "forbidden", "device_not_found")
    ),
    "UnblockDeviceKeyFunction": OperationDoc(
        200, "DeviceKey", errors=("invalid_request", "forbidden", "device_not_found")
    ),
}


_TIMESTAMP = {"type": "string", "format": "date-time"}
_OPTIONAL_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}
_RECORD_FIELDS = {
    "key_id": {"type": "string", "description": "RFC 7638 SHA-256 thumbprint of the public key (base64url)"},
    "user_id": {"type": "string"},
    "status": {"type": "string", "enum": ["active", "blocked"]},
    "display_name": {"type": ["string", "null"]},
    "custom_data": {"type": ["object", "null"]},
    "public_key": {"type": "object", "description": "the device's public key as a JWK (public members only)"},
    "alg": {"type": "string", "description": "the JWS algorithm pinned to this key at registration"},
    "created_at": _TIMESTAMP,
    "updated_at": _TIMESTAMP,
    "last_verified_at": _OPTIONAL_TIMESTAMP,
    "blocked_at": _OPTIONAL_TIMESTAMP,
    "blocked_reason": {"type": ["string", "null"]},
}
RESPONSE_SCHEMAS: dict[str, dict[str, Any]] = {
    "DeviceKey": {"type": "object", "properties": _RECORD_FIELDS, "required": list(_RECORD_FIELDS)},
    "DeviceKeyPage": {
        "type": "object",
        "properties": {
            "device_keys": {"type": "array", "items": {"$ref": "#/components/schemas/DeviceKey"}},
            "next_token": {
                "type": ["string", "null"],
                "description": "pass back to read the next page; null at the end",
            },
            "count": {"type": "integer", "description": "device keys on this page"},
        },
        "required": ["device_keys", "next_token"],
    },
    "Challenge": {
        "type": "object",
        "properties": {
            "challenge": {"type": "string", "description": "base64url of 32 random bytes, to sign once"},
            "purpose": {"type": "string", "enum": ["register", "verify"]},
            "expires_at": _TIMESTAMP,
            "expires_in": {"type": "integer", "description": "seconds"},
        },
        "required": ["challenge", "purpose", "expires_at", "expires_in"],
    },
    "Verification": {
        "type": "object",
        "properties": {
            "known": {"type": "boolean", "const": True},
            "key_id": {"type": "string"},
            "status": {"type": "string", "enum": ["active"]},
            "device_key": {"$ref": "#/components/schemas/DeviceKey"},
        },
        "required": ["known", "key_id", "status", "device_key"],
    },
    "Error": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},  # enum: devicekeys.errors.ERROR_STATUS, added when built
                    "message": {"type": "string"},
                },
                "required": ["code", "message"],
            },
            "request_id": {"type": "string"},
        },
        "required": ["error", "request_id"],
    },
    "GatewayError": {
        "type": "object",
        "description": "an answer from API Gateway itself (authorizer, routing), not from a function",
        "properties": {"message": {"type": "string"}},
        "required": ["message"],
    },
}

_PATH_PARAMETERS = {
    "user_id": "the user's id, or `me` for the caller's own (`me` needs a token, so not on open routes)",
    "key_id": "the device key's id: its RFC 7638 thumbprint",
}


def openapi_document(functions: LocalFunctions, *, issuer: str | None = None) -> dict[str, Any]:
    """The merged document. Imports every function (and pydantic, which Powertools uses for this)."""
    from devicekeys.errors import ERROR_STATUS  # noqa: PLC0415 - the layer is on sys.path once serve has set it up
    from devicekeys.inputs import SCHEMAS  # noqa: PLC0415

    template = load_template(TEMPLATE)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "devicekeys",
            "version": "1.0.0",
            "description": " ".join(str(template.get("Description", "")).split()),
        },
        "servers": [{"url": "/"}],
        "paths": {},
        "components": {
            "schemas": {**copy.deepcopy(SCHEMAS), **copy.deepcopy(RESPONSE_SCHEMAS)},
            "securitySchemes": {SECURITY_SCHEME: _security_scheme(issuer)},
        },
    }
    error_code = document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    error_code["enum"] = list(ERROR_STATUS)
    for logical_id, definition in functions.definitions.items():
        module = functions.module(logical_id)
        generated = json.loads(module.app.get_openapi_json_schema(title="devicekeys", version="1.0.0"))["paths"]
        description = template["Resources"][logical_id]["Properties"].get("Description", "")
        for route in definition.routes:
            operation = _operation(
                logical_id,
                _generated_operation(generated, route),
                description,
                module.__doc__ or "",
                open_route=route.open,
                schemas=SCHEMAS,
            )
            if len(definition.routes) > 1:  # one function behind several routes: ids must stay unique
                operation["operationId"] += "_" + route.path.rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
            document["paths"].setdefault(route.path, {})[route.method.lower()] = operation
    return document


def _generated_operation(generated: dict[str, Any], route: Route) -> dict[str, Any]:
    """The resolver's description of the operation serving a template route (its path may be more general)."""
    for path, methods in generated.items():
        operation = methods.get(route.method.lower())
        if operation is not None and route_pattern(path).fullmatch(route.path):
            kept = [
                p for p in operation.get("parameters", []) if p.get("in") != "path" or f"{{{p['name']}}}" in route.path
            ]
            return {**operation, "parameters": kept}
    return {}


def _security_scheme(issuer: str | None) -> dict[str, Any]:
    scheme: dict[str, Any] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "an access token of the API's JWT authorizer (issuer and audience are template parameters); "
        "the `device-keys/admin` scope manages any user's keys",
    }
    if issuer:
        scheme["description"] += f". Locally: the development issuer {issuer} (python -m devicekeys_local token)"
    return scheme


def _operation(
    logical_id: str,
    generated: dict[str, Any],
    summary: str,
    module_doc: str,
    *,
    open_route: bool,
    schemas: dict[str, Any],
) -> dict[str, Any]:
    doc = OPERATIONS.get(logical_id)
    name = logical_id.removesuffix("Function")
    operation: dict[str, Any] = {
        "operationId": name[0].lower() + name[1:],
        "summary": summary,
        "description": module_doc.strip(),
        "tags": ["device keys" if doc else "other"],
        "parameters": [
            {**parameter, "description": _PATH_PARAMETERS.get(parameter["name"], "")}
            for parameter in generated.get("parameters", [])
        ],
        "security": [] if open_route else [{SECURITY_SCHEME: []}],
    }
    if doc and doc.query:
        for parameter, schema in schemas[doc.query]["properties"].items():
            operation["parameters"].append({"name": parameter, "in": "query", "required": False, "schema": schema})
    if doc and doc.request:
        required = bool(schemas[doc.request].get("required") or schemas[doc.request].get("minProperties"))
        operation["requestBody"] = {"required": required, "content": _json_content(doc.request)}
    operation["responses"] = _responses(doc, open_route=open_route)
    return operation


def _json_content(schema_name: str | None) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{schema_name}"} if schema_name else {}
    return {"application/json": {"schema": schema}}


def _responses(doc: OperationDoc | None, *, open_route: bool) -> dict[str, Any]:
    """Success, the documented error codes grouped by status, and the authorizer's 401 on protected routes."""
    if doc is None:  # a function DESIGN.md does not describe: what every function may answer
        responses: dict[str, Any] = {
            "200": {"description": "success", "content": _json_content(None)},
            "default": {"description": "error", "content": _json_content("Error")},
        }
    else:
        success = {"description": "success", "content": _json_content(doc.response)}
        responses = {str(doc.success): success if doc.response else {"description": "success, no content"}}
        from devicekeys.errors import ERROR_STATUS  # noqa: PLC0415 - see openapi_document

        by_status: dict[int, list[str]] = {}
        for code in (*doc.errors, "service_unavailable"):
            by_status.setdefault(ERROR_STATUS[code], []).append(code)
        for status, codes in by_status.items():
            responses[str(status)] = {"description": "error: " + ", ".join(codes), "content": _json_content("Error")}
    if not open_route:
        # The authorizer answers before the function runs; a function's own 401s share the status.
        gateway = {"$ref": "#/components/schemas/GatewayError"}
        own = responses.get("401")
        schema = {"oneOf": [{"$ref": "#/components/schemas/Error"}, gateway]} if own else gateway
        description = 'missing or invalid token: API Gateway answers {"message": "Unauthorized"}'
        responses["401"] = {
            "description": f"{own['description']}; {description}" if own else description,
            "content": {"application/json": {"schema": schema}},
        }
    return dict(sorted(responses.items()))


def swagger_ui_page(openapi_url: str = "/openapi.json") -> bytes:
    """A Swagger UI page; its assets come from a CDN, the browser fetches them."""
    cdn = f"https://unpkg.com/swagger-ui-dist@{SWAGGER_UI_VERSION}"
    page = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>devicekeys API (local)</title>
  <link rel="stylesheet" href="{cdn}/swagger-ui.css" crossorigin="anonymous">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{cdn}/swagger-ui-bundle.js" crossorigin="anonymous"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{html.escape(openapi_url)}", dom_id: "#swagger-ui", persistAuthorization: true
    }});
  </script>
</body>
</html>
"""
    return page.encode()
