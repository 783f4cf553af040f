"""Input validation shared by HTTP requests and direct (Step Functions) invocations.

Request bodies are checked against JSON Schemas with fastjsonschema (compiled once per
function, on first use); the same schemas describe the request bodies in the OpenAPI
document, so the documentation cannot drift from what is enforced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from .errors import InvalidRequest, PayloadTooLarge

MAX_BODY_BYTES = 16 * 1024
MAX_CUSTOM_DATA_BYTES = 4 * 1024
MAX_DISPLAY_NAME = 64
MAX_USER_ID = 128
SELF = "me"

_NO_CONTROL = r"^[^\u0000-\u001f\u007f]*$"
_PROOF = {"type": "string", "minLength": 1, "maxLength": 8192, "description": "compact JWS device proof"}
_DISPLAY_NAME = {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_DISPLAY_NAME, "pattern": _NO_CONTROL}
_CUSTOM_DATA = {"type": ["object", "null"], "description": f"any JSON object, at most {MAX_CUSTOM_DATA_BYTES} bytes"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "IssueChallengeRequest": {
        "type": "object",
        "properties": {"purpose": {"type": "string", "enum": ["register", "verify"]}},
        "required": ["purpose"],
        "additionalProperties": False,
    },
    "RegisterRequest": {
        "type": "object",
        "properties": {"proof": _PROOF, "display_name": _DISPLAY_NAME, "custom_data": _CUSTOM_DATA},
        "required": ["proof"],
        "additionalProperties": False,
    },
    "VerifyRequest": {
        "type": "object",
        "properties": {"proof": _PROOF},
        "required": ["proof"],
        "additionalProperties": False,
    },
    "UpdateRequest": {
        "type": "object",
        "properties": {"display_name": _DISPLAY_NAME, "custom_data": _CUSTOM_DATA},
        "minProperties": 1,
        "additionalProperties": False,
    },
    "BlockRequest": {
        "type": "object",
        "properties": {"reason": {"type": ["string", "null"], "maxLength": 256, "pattern": _NO_CONTROL}},
        "additionalProperties": False,
    },
    "ListQuery": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["active", "blocked"]},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "next_token": {"type": "string", "minLength": 1, "maxLength": 512},
        },
        "additionalProperties": False,
    },
}


@cache
def _validator(schema_name: str) -> Callable[[Any], Any]:
    import fastjsonschema  # noqa: PLC0415 - only functions that read a body pay for it

    return fastjsonschema.compile(SCHEMAS[schema_name])  # type: ignore[no-any-return]


def validate(document: object, schema_name: str) -> dict[str, Any]:
    """Check ``document`` against a named schema; raises InvalidRequest with the first problem."""
    from fastjsonschema import JsonSchemaValueException  # noqa: PLC0415 - see _validator

    try:
        _validator(schema_name)(document)
    except JsonSchemaValueException as exc:
        raise InvalidRequest(exc.message.replace("data", "body", 1)) from exc
    assert isinstance(document, dict)
    if document.get("custom_data") is not None:
        size = len(json.dumps(document["custom_data"], separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_CUSTOM_DATA_BYTES:
            raise PayloadTooLarge(f"custom_data must be at most {MAX_CUSTOM_DATA_BYTES} bytes, got {size}")
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_body(raw: bytes | None, schema_name: str) -> dict[str, Any]:
    """Decode and validate a request body. An empty body reads as ``{}``.

    Raises:
        PayloadTooLarge: more than 16 KiB.
        InvalidRequest: not UTF-8 JSON, or not what the schema allows.
    """
    if raw is not None and len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the request body must be at most {MAX_BODY_BYTES} bytes")
    if not raw or not raw.strip():
        document: object = {}
    else:
        try:
            document = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise InvalidRequest("the request body is not valid JSON") from exc
    return validate(document, schema_name)


_USER_ID = re.compile(rf"[^\x00-\x1f\x7f/]{{1,{MAX_USER_ID}}}")


def check_user_id(value: object) -> str:
    """A user id as the API accepts it: 1 to 128 characters, no control characters or '/'."""
    if not isinstance(value, str) or not _USER_ID.fullmatch(value) or value == SELF:
        raise InvalidRequest(f"user_id must be 1 to {MAX_USER_ID} characters without '/' or control characters")
    return value


def query_document(params: Mapping[str, str] | None) -> dict[str, Any]:
    """Query-string parameters of the list route as a typed document for ``ListQuery``."""
    document: dict[str, Any] = dict(params or {})
    if "limit" in document:
        try:
            document["limit"] = int(document["limit"])
        except ValueError as exc:
            raise InvalidRequest("limit must be an integer from 1 to 100") from exc
    return validate(document, "ListQuery")
