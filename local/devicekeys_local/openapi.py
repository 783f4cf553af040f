"""One OpenAPI document for the whole API, and a Swagger UI page to try it, offline.

Each function's Powertools resolver (its module's ``app``) describes its own routes; their
descriptions are merged, then completed from the project's own sources, so the document
cannot drift from what runs:

- request bodies: the JSON Schemas the functions validate with (``devicekeys.inputs.SCHEMAS``);
- records: the domain's dataclasses (``DeviceKey``, ``IssuedChallenge``), field by field;
- error codes and statuses: ``devicekeys.errors.ALL_ERRORS``;
- journeys: each one's request schema, its summary (the state machine's ``Comment``) and its
  outcomes, read from the terminal states of its ASL;
- security: the JWT authorizer of ``template.yaml``, and the bound-session Lambda authorizer
  (the bound cookie) on the routes that name it.
"""

from __future__ import annotations

import copy
import dataclasses
import html
import json
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from .events import route_pattern
from .functions import LocalFunctions
from .template import TEMPLATE, Route, journey_definitions, load_template

SECURITY_SCHEME = "JwtAuthorizer"
BOUND_SESSION_SCHEME = "DbscAuthorizer"  # template.yaml: the bound cookie, checked by a Lambda authorizer
JOURNEY_STARTER = "JourneyStarterFunction"


@dataclass(frozen=True)
class OperationDoc:
    success: int
    response: str | None
    request: str | None = None
    query: str | None = None
    errors: tuple[str, ...] = ()


_PROOF_ERRORS = ("invalid_request", "invalid_proof", "challenge_expired", "challenge_not_found", "payload_too_large")
# What each function accepts and answers (docs/protocol.md); keyed by template logical id.
OPERATIONS = {
    "IssueChallengeFunction": OperationDoc(
        201, "Challenge", request="IssueChallengeRequest", errors=("invalid_request", "forbidden", "payload_too_large")
    ),
    "RegisterDeviceKeyFunction": OperationDoc(
        201,
        "DeviceKey",
        request="RegisterRequest",
        errors=(
            *_PROOF_ERRORS,
            "unsupported_key",
            "forbidden",
            "device_blocked",
            "device_key_exists",
            "device_limit_reached",
        ),
    ),
    "VerifyDeviceKeyFunction": OperationDoc(
        200,
        "Verification",
        request="VerifyRequest",
        errors=(*_PROOF_ERRORS, "device_blocked", "device_expired", "device_not_found"),
    ),
    "RotateDeviceKeyFunction": OperationDoc(
        200,
        "DeviceKey",
        request="RotateRequest",
        errors=(
            *_PROOF_ERRORS,
            "unsupported_key",
            "forbidden",
            "device_blocked",
            "device_expired",
            "device_not_found",
            "device_key_exists",
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
    "DeleteDeviceKeyFunction": OperationDoc(
        204, None, errors=("invalid_request", "forbidden", "device_blocked", "device_not_found")
    ),
    "BlockDeviceKeyFunction": OperationDoc(
        200, "DeviceKey", request="BlockRequest", errors=("invalid_request", "forbidden", "device_not_found")
    ),
    "UnblockDeviceKeyFunction": OperationDoc(
        200, "DeviceKey", errors=("invalid_request", "forbidden", "device_not_found")
    ),
    # Device-bound sessions (docs/dbsc.md)
    "StartBoundSessionFunction": OperationDoc(
        201, "SessionRegistration", request="StartSessionRequest", errors=("invalid_request", "forbidden")
    ),
    "RegisterBoundSessionFunction": OperationDoc(
        200,
        "SessionInstructions",
        errors=(
            "invalid_request",
            "unsupported_key",
            "invalid_proof",
            "challenge_expired",
            "challenge_not_found",
            "forbidden",
        ),
    ),
    "RefreshBoundSessionFunction": OperationDoc(
        200,
        "SessionInstructions",
        errors=("invalid_request", "invalid_proof", "forbidden", "challenge_required", "session_not_found"),
    ),
    "ListBoundSessionsFunction": OperationDoc(
        200, "BoundSessionPage", query="SessionListQuery", errors=("invalid_request", "forbidden")
    ),
    "TerminateBoundSessionFunction": OperationDoc(
        200,
        "BoundSession",
        request="TerminateSessionRequest",
        errors=("invalid_request", "forbidden", "session_not_found"),
    ),
    "BoundSessionKeysFunction": OperationDoc(200, "Jwks"),
    "BoundSessionInfoFunction": OperationDoc(200, "BoundSessionInfo"),
}
JOURNEY_ERRORS = ("invalid_request", "payload_too_large", "route_not_found", "journey_failed", "journey_timed_out")

# What the records' fields mean, for people reading the document (the types come from the code).
_FIELD_DESCRIPTIONS = {
    "key_id": "RFC 7638 SHA-256 thumbprint of the public key (base64url)",
    "public_key": "the device's public key as a JWK (public members only)",
    "alg": "the JWS algorithm pinned to this key at registration",
    "status": "active or blocked",
    "custom_data": "any JSON object the app keeps with the key",
    "challenge": "base64url of 32 random bytes, to sign once",
    "purpose": "what the challenge may be signed for",
    "expires_in": "seconds",
}

# The fields journeys put in their outcomes (the terminal states of each ASL), by name.
_OUTCOME_FIELDS: dict[str, dict[str, Any]] = {
    "user_id": {"type": "string"},
    "key_id": {"type": "string"},
    "reason": {"type": "string", "description": "an API error code, or no_device_proof"},
    "message": {"type": "string"},
    "removed": {"type": "integer", "description": "keys removed by the journey"},
    "count": {"type": "integer"},
    "step_up": {"type": "string"},
    "display_name": {"type": ["string", "null"]},
    "custom_data": {"type": ["object", "null"]},
    "device_key": {"$ref": "#/components/schemas/DeviceKey"},
}

_PATH_PARAMETERS = {
    "user_id": "the user's id, or `me` for the caller's own (`me` needs a token, so not on open routes)",
    "key_id": "the device key's id: its RFC 7638 thumbprint",
    "journey": "the journey's name",
    "session_id": "a bound session's id (its session_identifier)",
}


def record_schema(record: type, enums: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """A JSON Schema for a domain record, from its dataclass fields and their types (``enums``: the
    fields whose values the domain enumerates)."""
    hints = typing.get_type_hints(record)
    properties = {}
    for field in dataclasses.fields(record):
        schema = _type_schema(hints[field.name])
        if field.name in (enums or {}):
            schema["enum"] = list((enums or {})[field.name])
        if field.name in _FIELD_DESCRIPTIONS:
            schema["description"] = _FIELD_DESCRIPTIONS[field.name]
        properties[field.name] = schema
    return {"type": "object", "properties": properties, "required": list(properties)}


def _type_schema(hint: Any) -> dict[str, Any]:
    members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    nullable = type(None) in members
    (base,) = [member for member in members if member is not type(None)]
    origin = typing.get_origin(base) or base
    kind, extra = {
        str: ("string", {}),
        int: ("integer", {}),
        bool: ("boolean", {}),
        dict: ("object", {}),
        datetime: ("string", {"format": "date-time"}),
    }[origin]
    return {"type": [kind, "null"] if nullable else kind, **extra}


def response_schemas() -> dict[str, dict[str, Any]]:
    """The responses' schemas: the domain's records, and the envelopes the functions build around them."""
    from devicekeys.challenges import PURPOSES, IssuedChallenge  # noqa: PLC0415 - the layer is on sys.path once serve set it up
    from devicekeys.device_keys import STATUSES  # noqa: PLC0415
    from devicekeys.errors import ERROR_STATUS  # noqa: PLC0415
    from devicekeys.records import DeviceKey  # noqa: PLC0415

    device_key = {"$ref": "#/components/schemas/DeviceKey"}
    return {
        **_bound_session_schemas(),
        "DeviceKey": record_schema(DeviceKey, {"status": list(STATUSES)}),
        "Challenge": record_schema(IssuedChallenge, {"purpose": list(PURPOSES)}),
        "DeviceKeyPage": {
            "type": "object",
            "properties": {
                "device_keys": {"type": "array", "items": device_key},
                "next_token": {"type": ["string", "null"], "description": "pass back to read the next page"},
                "count": {"type": "integer", "description": "device keys on this page"},
            },
            "required": ["device_keys", "next_token", "count"],
        },
        "Verification": {
            "type": "object",
            "properties": {
                "known": {"type": "boolean", "const": True},
                "key_id": {"type": "string"},
                "status": {"type": "string", "enum": ["active"]},
                "device_key": device_key,
            },
            "required": ["known", "key_id", "status", "device_key"],
        },
        "Error": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "enum": list(ERROR_STATUS)},
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


def _bound_session_schemas() -> dict[str, dict[str, Any]]:
    """What the bound-session routes answer (docs/dbsc.md)."""
    from devicekeys.bound_sessions import STATUSES, BoundSession  # noqa: PLC0415 - see response_schemas
    from devicekeys.session_registrations import SessionRegistration  # noqa: PLC0415

    string = {"type": "string"}
    return {
        "BoundSession": record_schema(BoundSession, {"status": list(STATUSES)}),
        "BoundSessionPage": {
            "type": "object",
            "properties": {
                "sessions": {"type": "array", "items": {"$ref": "#/components/schemas/BoundSession"}},
                "next_token": {"type": ["string", "null"], "description": "pass back to read the next page"},
                "count": {"type": "integer", "description": "sessions on this page"},
            },
            "required": ["sessions", "next_token", "count"],
        },
        "SessionRegistration": record_schema(SessionRegistration),
        "SessionInstructions": {
            "type": "object",
            "description": "DBSC's session instructions; the bound cookie comes in Set-Cookie",
            "properties": {
                "session_identifier": string,
                "refresh_url": string,
                "scope": {"type": "object"},
                "credentials": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["session_identifier", "refresh_url", "scope", "credentials"],
        },
        "Jwks": {
            "type": "object",
            "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
            "required": ["keys"],
        },
        "BoundSessionInfo": {
            "type": "object",
            "properties": {
                "user_id": string,
                "session_id": string,
                "credential_expires_at": {"type": "integer", "description": "epoch seconds"},
            },
            "required": ["user_id", "session_id", "credential_expires_at"],
        },
    }


def journey_outcome_schema(definition: dict[str, Any]) -> dict[str, Any]:
    """The outcomes a journey answers with, read from the terminal Pass states of its ASL."""
    shapes = []
    for state in definition["States"].values():
        if state.get("Type") != "Pass" or not state.get("End"):
            continue
        properties: dict[str, Any] = {}
        for key, value in (state.get("Parameters") or {}).items():
            name = key.removesuffix(".$")
            if key.endswith(".$"):
                properties[name] = copy.deepcopy(_OUTCOME_FIELDS[name])
            else:
                properties[name] = {"const": value}
        shape = {"type": "object", "properties": properties, "required": sorted(properties)}
        if shape not in shapes:  # two states may answer alike (a rejection from either of two steps)
            shapes.append(shape)
    return {"anyOf": shapes} if len(shapes) > 1 else shapes[0]


def openapi_document(functions: LocalFunctions, *, issuer: str | None = None) -> dict[str, Any]:
    """The merged document. Imports every function (and pydantic, which Powertools uses for this)."""
    from devicekeys.inputs import SCHEMAS, journey_request_schema  # noqa: PLC0415 - see response_schemas

    template = load_template(TEMPLATE)
    journeys = {journey.name: json.loads(journey.definition_path.read_text()) for journey in journey_definitions()}
    schemas = {**copy.deepcopy(SCHEMAS), **response_schemas()}
    schemas.update({_outcome_name(name): journey_outcome_schema(asl) for name, asl in journeys.items()})
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
            "schemas": schemas,
            "securitySchemes": {SECURITY_SCHEME: _security_scheme(issuer), BOUND_SESSION_SCHEME: _bound_scheme()},
        },
    }
    for logical_id, definition in functions.definitions.items():
        if not definition.routes:  # not an HTTP function (the event publisher)
            continue
        module = functions.module(logical_id)
        generated = json.loads(module.app.get_openapi_json_schema(title="devicekeys", version="1.0.0"))["paths"]
        description = template["Resources"][logical_id]["Properties"].get("Description", "")
        for route in definition.routes:
            base = _generated_operation(generated, route)
            if logical_id == JOURNEY_STARTER:
                name = route.path.rsplit("/", 1)[-1]
                operation = _journey_operation(name, journeys[name], base, journey_request_schema(name), route.open)
            else:
                operation = _operation(logical_id, base, description, module.__doc__ or "", route.open, SCHEMAS)
                if "BoundSession" in logical_id:
                    operation["tags"] = ["bound sessions"]
                if route.path == "/dbsc/logout":  # the terminate function's second route: its own id
                    operation["operationId"] = "logoutBoundSession"
                if route.authorizer == BOUND_SESSION_SCHEME:
                    _behind_bound_session(operation)
            document["paths"].setdefault(route.path, {})[route.method.lower()] = operation
    return document


def _outcome_name(journey: str) -> str:
    return "".join(part.capitalize() for part in journey.split("-")) + "JourneyOutcome"


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


def _bound_scheme() -> dict[str, Any]:
    return {
        "type": "apiKey",
        "in": "cookie",
        "name": "__Host-dk-session",
        "description": "a device-bound session's cookie (docs/dbsc.md), checked by the bound-session Lambda "
        "authorizer: a credential of this service, unexpired, of an active session (DbscCookieName names it)",
    }


def _behind_bound_session(operation: dict[str, Any]) -> None:
    """A route of the bound-session authorizer: its cookie, and API Gateway's 401 and 403 in place of the JWT's."""
    operation["security"] = [{BOUND_SESSION_SCHEME: []}]
    gateway = {"application/json": {"schema": {"$ref": "#/components/schemas/GatewayError"}}}
    operation["responses"]["401"] = {"description": 'no cookie: {"message": "Unauthorized"}', "content": gateway}
    operation["responses"]["403"] = {
        "description": 'the authorizer refused the cookie: {"message": "Forbidden"}',
        "content": gateway,
    }
    operation["responses"] = dict(sorted(operation["responses"].items()))


def _parameters(generated: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**parameter, "description": _PATH_PARAMETERS.get(parameter["name"], "")}
        for parameter in generated.get("parameters", [])
    ]


def _operation(
    logical_id: str,
    generated: dict[str, Any],
    summary: str,
    module_doc: str,
    open_route: bool,
    schemas: dict[str, Any],
) -> dict[str, Any]:
    doc = OPERATIONS[logical_id]
    name = logical_id.removesuffix("Function")
    operation: dict[str, Any] = {
        "operationId": name[0].lower() + name[1:],
        "summary": summary,
        "description": module_doc.strip(),
        "tags": ["device keys"],
        "parameters": _parameters(generated),
        "security": [] if open_route else [{SECURITY_SCHEME: []}],
    }
    if doc.query:
        for parameter, schema in schemas[doc.query]["properties"].items():
            operation["parameters"].append({"name": parameter, "in": "query", "required": False, "schema": schema})
    if doc.request:
        required = bool(schemas[doc.request].get("required") or schemas[doc.request].get("minProperties"))
        operation["requestBody"] = {"required": required, "content": _json_content(doc.request)}
    operation["responses"] = _responses(doc, open_route=open_route)
    return operation


def _journey_operation(
    name: str, asl: dict[str, Any], generated: dict[str, Any], request: str, open_route: bool
) -> dict[str, Any]:
    comment = " ".join(str(asl.get("Comment", "")).split())
    errors = JOURNEY_ERRORS if open_route else (*JOURNEY_ERRORS, "forbidden")
    doc = OperationDoc(200, _outcome_name(name), request=request, errors=errors)
    body = "The body is the journey's input" + ("" if open_route else " without user_id (the token's sub)") + "."
    return {
        "operationId": "journey_" + name.replace("-", "_"),
        "summary": comment.split(". ", 1)[0].rstrip("."),
        "description": f"{comment}\n\n{body} The answer is the journey's outcome; see docs/journeys.md.",
        "tags": ["journeys"],
        "parameters": [p for p in _parameters(generated) if p.get("in") != "path"],
        "security": [] if open_route else [{SECURITY_SCHEME: []}],
        "requestBody": {"required": True, "content": _json_content(request)},
        "responses": _responses(doc, open_route=open_route),
    }


def _json_content(schema_name: str | None) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{schema_name}"} if schema_name else {}
    return {"application/json": {"schema": schema}}


def _responses(doc: OperationDoc, *, open_route: bool) -> dict[str, Any]:
    """Success, the documented error codes grouped by status, and the authorizer's 401 on protected routes."""
    from devicekeys.errors import ERROR_STATUS  # noqa: PLC0415 - see response_schemas

    success = {"description": "success", "content": _json_content(doc.response)}
    responses = {str(doc.success): success if doc.response else {"description": "success, no content"}}
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


SWAGGER_UI_ASSETS = {
    "/docs/swagger-ui.css": ("swagger-ui.min.css", "text/css; charset=utf-8"),
    "/docs/swagger-ui-bundle.js": ("swagger-ui-bundle.min.js", "text/javascript; charset=utf-8"),
}


def swagger_ui_asset(path: str) -> tuple[bytes, str] | None:
    """A Swagger UI file and its content type, from the bundle Powertools ships (no CDN: works offline)."""
    asset = SWAGGER_UI_ASSETS.get(path)
    if asset is None:
        return None
    name, content_type = asset
    bundle = resources.files("aws_lambda_powertools.event_handler.openapi.swagger_ui")
    return bundle.joinpath(name).read_bytes(), content_type


def swagger_ui_page(openapi_url: str = "/openapi.json") -> bytes:
    """A Swagger UI page whose script and stylesheet the local API serves itself."""
    page = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>devicekeys API (local)</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{html.escape(openapi_url)}", dom_id: "#swagger-ui", persistAuthorization: true
    }});
  </script>
</body>
</html>
"""
    return page.encode()
