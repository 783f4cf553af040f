"""Build the events Lambda receives: API Gateway HTTP API (payload 2.0) and a Lambda context.

Used by the local API and the tests, so both send functions exactly what API Gateway sends.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

_PARAM = re.compile(r"\{([^}/]+)\}")
ADMIN_SCOPE = "device-keys/admin"  # the template's AdminScope default


def caller_claims(subject: str, *, admin: bool = False) -> dict[str, Any]:
    """The JWT authorizer's claims for a token of ``subject`` (with the admin scope when asked)."""
    return {"sub": subject, "scope": ADMIN_SCOPE if admin else "openid"}


def route_pattern(path_template: str) -> re.Pattern[str]:
    """A regex matching a concrete path against ``/v1/users/{user_id}/...``."""
    pattern = ""
    position = 0
    for match in _PARAM.finditer(path_template):
        pattern += re.escape(path_template[position : match.start()]) + f"(?P<{match.group(1)}>[^/]+)"
        position = match.end()
    return re.compile(pattern + re.escape(path_template[position:]))


def http_event(
    *,
    method: str,
    route_path: str,
    raw_path: str,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    claims: dict[str, Any] | None = None,
    scopes: list[str] | None = None,
    source_ip: str = "127.0.0.1",
    raw_query_string: str | None = None,
    request_id: str | None = None,
    authorizer_context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event, as API Gateway builds it for a Lambda proxy integration.

    ``raw_query_string`` keeps a real request's query as it came (``query`` holds its parsed
    values); ``request_id`` lets a server echo the id in its ``apigw-requestid`` header;
    ``authorizer_context`` is what a Lambda authorizer answered (``requestContext.authorizer.lambda``).
    """
    now = time.time()
    request_id = request_id or new_request_id()
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    is_binary = body is not None and not _is_text(lowered.get("content-type", ""))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route_path}",
        "rawPath": raw_path,
        "rawQueryString": urlencode(query or {}) if raw_query_string is None else raw_query_string,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": lowered.get("host", "localhost"),
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": f"{method} {route_path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if "cookie" in lowered:
        event["cookies"] = [part.strip() for part in lowered["cookie"].split(";") if part.strip()]
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = {name: unquote(value) for name, value in path_parameters.items()}
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": scopes}}
    if authorizer_context is not None:
        event["requestContext"]["authorizer"] = {"lambda": authorizer_context}
    if body is not None:
        if is_binary:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
        else:
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
    return event


def new_request_id() -> str:
    """An id shaped like API Gateway's ``requestId``."""
    return base64.b32encode(uuid.uuid4().bytes).decode()[:16]


def _is_text(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or media.startswith("text/") or media.endswith(("json", "xml")) or "form" in media


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that functions and Powertools read."""

    function_name: str = "local"
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_seconds: float = 10.0
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def authorizer_event(http: dict[str, Any], *, identity_source: list[str]) -> dict[str, Any]:
    """The REQUEST authorizer event (payload 2.0) API Gateway sends for the request ``http`` describes."""
    context = http["requestContext"]
    route_arn = (
        f"arn:aws:execute-api:us-east-1:{context['accountId']}:{context['apiId']}/{context['stage']}/"
        f"{context['http']['method']}{http['rawPath']}"
    )
    event = {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": route_arn,
        "identitySource": identity_source,
        "routeKey": http["routeKey"],
        "rawPath": http["rawPath"],
        "rawQueryString": http["rawQueryString"],
        "headers": http["headers"],
        "requestContext": context,
    }
    for optional in ("cookies", "queryStringParameters", "pathParameters"):
        if optional in http:
            event[optional] = http[optional]
    return event
