"""Input validation shared by HTTP requests and direct (Step Functions) invocations.

Every document is first held to the service's JSON and text rules (``devicekeys.text``), then
checked against a JSON Schema with fastjsonschema (compiled once per function, on first use);
the same schemas describe the request bodies in the OpenAPI document, so the documentation
cannot drift from what is enforced. Messages name the field (or query parameter) and what it
must be, in words a client developer can act on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from . import text
from .errors import InvalidRequest, PayloadTooLarge

MAX_BODY_BYTES = 16 * 1024
MAX_CUSTOM_DATA_BYTES = 4 * 1024
MAX_DISPLAY_NAME = 64
MAX_REASON = 256
MAX_USER_ID = 128
MAX_PROOF = 8192
SELF = "me"

PROOF = {"type": "string", "minLength": 1, "maxLength": MAX_PROOF, "description": "compact JWS device proof"}
DISPLAY_NAME = {
    "type": ["string", "null"],
    "minLength": 1,
    "maxLength": MAX_DISPLAY_NAME,
    "pattern": text.DISPLAY_TEXT_PATTERN,
    "description": "a name people read: no control characters or bidirectional overrides",
}
CUSTOM_DATA = {"type": ["object", "null"], "description": f"any JSON object, at most {MAX_CUSTOM_DATA_BYTES} bytes"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "IssueChallengeRequest": {
        "type": "object",
        "properties": {"purpose": {"type": "string", "enum": ["register", "verify", "rotate"]}},
        "required": ["purpose"],
        "additionalProperties": False,
    },
    "RegisterRequest": {
        "type": "object",
        "properties": {"proof": PROOF, "display_name": DISPLAY_NAME, "custom_data": CUSTOM_DATA},
        "required": ["proof"],
        "additionalProperties": False,
    },
    "RegisterInvocation": {
        "type": "object",
        "description": "a direct invocation of register: the request, and whether to replace the other keys",
        "properties": {
            "proof": PROOF,
            "display_name": DISPLAY_NAME,
            "custom_data": CUSTOM_DATA,
            "replace_active": {"type": "boolean", "description": "remove the user's other active keys"},
        },
        "required": ["proof"],
        "additionalProperties": False,
    },
    "VerifyRequest": {
        "type": "object",
        "properties": {"proof": PROOF},
        "required": ["proof"],
        "additionalProperties": False,
    },
    "VerifyInvocation": {
        "type": "object",
        "description": "a direct invocation of verify: the request, and whether to sign out the other devices",
        "properties": {
            "proof": PROOF,
            "sign_out_others": {"type": "boolean", "description": "remove the user's other active keys"},
        },
        "required": ["proof"],
        "additionalProperties": False,
    },
    "RotateRequest": {
        "type": "object",
        "properties": {
            "proof": {**PROOF, "description": "a JWS by the current key (kid) over a rotate challenge"},
            "new_key_proof": {**PROOF, "description": "a JWS by the new key (jwk header) over the same challenge"},
        },
        "required": ["proof", "new_key_proof"],
        "additionalProperties": False,
    },
    "UpdateRequest": {
        "type": "object",
        "properties": {"display_name": DISPLAY_NAME, "custom_data": CUSTOM_DATA},
        "minProperties": 1,
        "additionalProperties": False,
    },
    "BlockRequest": {
        "type": "object",
        "properties": {
            "reason": {
                "type": ["string", "null"],
                "maxLength": MAX_REASON,
                "pattern": text.DISPLAY_TEXT_PATTERN,
                "description": "why, for the record: no control characters or bidirectional overrides",
            }
        },
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
    # Bound sessions (docs/dbsc.md)
    "StartSessionRequest": {"type": "object", "properties": {}, "additionalProperties": False},
    "TerminateSessionRequest": {
        "type": "object",
        "properties": {
            "reason": {
                "type": ["string", "null"],
                "maxLength": MAX_REASON,
                "pattern": text.DISPLAY_TEXT_PATTERN,
                "description": "why, for the record: no control characters or bidirectional overrides",
            }
        },
        "additionalProperties": False,
    },
    "SessionListQuery": {
        "type": "object",
        "properties": {
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "next_token": {"type": "string", "minLength": 1, "maxLength": 512},
        },
        "additionalProperties": False,
    },
}

# --- journeys: each execution input's schema (what IAM callers send to Step Functions); over
# HTTP the body is the same without user_id, which comes from the token, except for login.

USER_ID = {"type": "string", "minLength": 1, "maxLength": MAX_USER_ID, "description": "the user the journey is for"}
OPEN_JOURNEYS = frozenset({"login-registered-device"})
_REGISTRATION = {
    "type": "object",
    "properties": {"proof": PROOF, "display_name": DISPLAY_NAME, "custom_data": CUSTOM_DATA},
    "required": ["proof"],
    "additionalProperties": False,
}
JOURNEY_INPUTS: dict[str, dict[str, Any]] = {
    "login-registered-device": {"properties": {"proof": PROOF}, "required": ["proof"]},
    "known-device-step-up": {
        "properties": {"proof": {**PROOF, "description": "a verify proof; leave it out when the device has no key"}},
        "required": [],
    },
    "register-device": {
        "properties": {"proof": PROOF, "display_name": DISPLAY_NAME, "custom_data": CUSTOM_DATA},
        "required": ["proof"],
    },
    "rename-device": {
        "properties": {
            "proof": PROOF,
            "client_data": {
                "type": "object",
                "properties": {"device_name": {**DISPLAY_NAME, "type": "string"}},
                "required": ["device_name"],
                "additionalProperties": False,
            },
        },
        "required": ["proof", "client_data"],
    },
    "read-device-name": {"properties": {"proof": PROOF}, "required": ["proof"]},
    "count-devices": {"properties": {}, "required": []},
    "single-device-policy": {
        "properties": {"proof": PROOF, "registration": _REGISTRATION},
        "required": ["proof", "registration"],
    },
    "sign-out-other-devices": {"properties": {"proof": PROOF}, "required": ["proof"]},
}


def _camel(journey: str) -> str:
    return "".join(part.capitalize() for part in journey.split("-"))


def journey_input_schema(journey: str) -> str:
    """The schema name of a journey's execution input."""
    return f"{_camel(journey)}JourneyInput"


def journey_request_schema(journey: str) -> str:
    """The schema name of a journey's HTTP request body."""
    return f"{_camel(journey)}JourneyRequest"


for _journey, _shape in JOURNEY_INPUTS.items():
    SCHEMAS[journey_input_schema(_journey)] = {
        "type": "object",
        "properties": {"user_id": USER_ID, **_shape["properties"]},
        "required": ["user_id", *_shape["required"]],
        "additionalProperties": False,
    }
    SCHEMAS[journey_request_schema(_journey)] = (
        SCHEMAS[journey_input_schema(_journey)]
        if _journey in OPEN_JOURNEYS
        else {"type": "object", **_shape, "additionalProperties": False}
    )


@cache
def _validator(schema_name: str) -> Callable[[Any], Any]:
    import fastjsonschema  # noqa: PLC0415 - only functions that read a body pay for it

    return fastjsonschema.compile(SCHEMAS[schema_name])  # type: ignore[no-any-return]


def validate(document: object, schema_name: str, *, where: str = "body") -> dict[str, Any]:
    """Check ``document`` against a named schema.

    Args:
        document: the parsed body, direct invocation or query.
        schema_name: a key of ``SCHEMAS``.
        where: ``"body"`` or ``"query"``: how messages name the fields.

    Raises:
        InvalidRequest: the first problem, named for a client.
        PayloadTooLarge: ``custom_data`` over its limit.
    """
    from fastjsonschema import JsonSchemaValueException  # noqa: PLC0415 - see _validator

    try:
        text.check(document, what="the request" if where == "body" else "the query")
    except text.JsonTextError as exc:
        raise InvalidRequest(str(exc)) from exc
    try:
        _validator(schema_name)(document)
    except JsonSchemaValueException as exc:
        raise InvalidRequest(explain(exc, where)) from exc
    assert isinstance(document, dict)
    if document.get("custom_data") is not None:
        size = len(json.dumps(document["custom_data"], separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_CUSTOM_DATA_BYTES:
            raise PayloadTooLarge(f"custom_data must be at most {MAX_CUSTOM_DATA_BYTES} bytes, got {size}")
    return document


def explain(exc: Any, where: str = "body") -> str:
    """A fastjsonschema failure in words: the field, and what it must be (no Python reprs)."""
    path = [part for part in exc.path[1:] if part]
    if where == "query":
        subject = f"the query parameter {path[0]}" if path else "the query"
    else:
        subject = ".".join(path) if path else "the body"
    describe = _RULES.get(exc.rule)
    return f"{subject} {describe(exc, where)}" if describe else f"{subject} is not valid ({exc.rule})"


def _missing(exc: Any, where: str) -> str:
    present = exc.value if isinstance(exc.value, dict) else {}
    return "is missing " + _words([name for name in exc.rule_definition if name not in present])


def _unknown(exc: Any, where: str) -> str:
    known = set((exc.definition or {}).get("properties") or {})
    unknown = sorted(str(name) for name in exc.value if name not in known) if isinstance(exc.value, dict) else []
    noun = "query parameters" if where == "query" else "fields"
    return f"has unknown {noun}: {_words(unknown)}; allowed: {_words(sorted(known)) or 'none'}"


def _length(exc: Any, where: str) -> str:
    low, high = (exc.definition or {}).get("minLength", 0), (exc.definition or {}).get("maxLength")
    return f"must be {low} to {high} characters long" if high is not None else f"must be at least {low} characters long"


def _range(exc: Any, where: str) -> str:
    return f"must be from {(exc.definition or {}).get('minimum')} to {(exc.definition or {}).get('maximum')}"


def _type(exc: Any, where: str) -> str:
    kinds = exc.rule_definition if isinstance(exc.rule_definition, list) else [exc.rule_definition]
    return "must be " + _words([_article(kind) for kind in kinds], "or")


_RULES: dict[str, Callable[[Any, str], str]] = {
    "required": _missing,
    "additionalProperties": _unknown,
    "minProperties": lambda exc, where: (
        "must set at least one of " + _words(sorted((exc.definition or {}).get("properties") or {}), "or")
    ),
    "enum": lambda exc, where: "must be one of " + _words(exc.rule_definition, "or"),
    "const": lambda exc, where: f"must be {exc.rule_definition}",
    "type": _type,
    "minLength": _length,
    "maxLength": _length,
    "minimum": _range,
    "maximum": _range,
    "pattern": lambda exc, where: "must not contain control characters or bidirectional overrides",
}


def _article(kind: str) -> str:
    return {"object": "an object", "array": "an array", "integer": "an integer", "null": "null"}.get(kind, f"a {kind}")


def _words(items: Any, last: str = "and") -> str:
    names = [str(item) for item in items]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}" if names else ""


def parse_json_body(raw: bytes | None, schema_name: str) -> dict[str, Any]:
    """Decode and validate a request body. An empty body reads as ``{}``.

    Raises:
        PayloadTooLarge: more than 16 KiB.
        InvalidRequest: not UTF-8 JSON under the service's rules, or not what the schema allows.
    """
    return validate(read_json_body(raw), schema_name)


def read_json_body(raw: bytes | None) -> object:
    """A request body as a JSON document under the service's rules, before any schema.

    Raises:
        PayloadTooLarge: more than 16 KiB.
        InvalidRequest: not UTF-8 JSON under the service's rules.
    """
    if raw is not None and len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the request body must be at most {MAX_BODY_BYTES} bytes")
    if not raw or not raw.strip():
        return {}
    try:
        return text.loads(raw, what="the request body")
    except text.JsonTextError as exc:
        raise InvalidRequest(str(exc)) from exc


_DECIMAL = re.compile(r"[0-9]{1,6}")  # ASCII digits only: int() would also take "1_0", " 5" or Arabic-Indic digits
_USER_ID = re.compile(rf"[^\x00-\x1f\x7f/\ud800-\udfff]{{1,{MAX_USER_ID}}}")


def check_user_id(value: object) -> str:
    """A user id as the API accepts it: 1 to 128 characters of text, no control characters or '/'."""
    if not isinstance(value, str) or not _USER_ID.fullmatch(value) or value == SELF:
        raise InvalidRequest(f"user_id must be 1 to {MAX_USER_ID} characters without '/' or control characters")
    return value


def query_document(params: Mapping[str, str] | None, schema_name: str = "ListQuery") -> dict[str, Any]:
    """Query-string parameters of a list route as a typed document for ``schema_name``."""
    document: dict[str, Any] = dict(params or {})
    if "limit" in document:
        if not _DECIMAL.fullmatch(document["limit"]):
            raise InvalidRequest("the query parameter limit must be an integer from 1 to 100")
        document["limit"] = int(document["limit"])
    return validate(document, schema_name, where="query")
