"""Typed errors for every answer the devicekeys API can refuse with.

The service answers ``{"error": {"code", "message"}, "request_id"}``; each documented ``code``
has its own class here, so callers catch what they mean (``except DeviceBlocked``). API
Gateway's own answers (``{"message": "Unauthorized"}`` from the JWT authorizer, ``Not Found``
for an unknown route) map to ``Unauthorized`` and ``NotFound``.
"""

from __future__ import annotations

import re
from typing import Any


class DeviceKeysError(Exception):
    """Base of every error the client raises. ``status`` is None when no HTTP answer came back."""

    code = "error"
    retryable = False

    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        details = [f"HTTP {self.status}"] if self.status is not None else []
        if self.request_id:
            details.append(f"request {self.request_id}")
        return f"{self.code}: {self.message}" + (f" ({', '.join(details)})" if details else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": {"code": self.code, "message": self.message},
            "status": self.status,
            "request_id": self.request_id,
        }


class InvalidRequest(DeviceKeysError):
    code = "invalid_request"


class UnsupportedKey(DeviceKeysError):
    code = "unsupported_key"


class InvalidProof(DeviceKeysError):
    code = "invalid_proof"


class ChallengeExpired(DeviceKeysError):
    code = "challenge_expired"


class ChallengeNotFound(DeviceKeysError):
    code = "challenge_not_found"


class Unauthorized(DeviceKeysError):
    """No token, or one the API's JWT authorizer refused (API Gateway's own 401)."""

    code = "unauthorized"


class Forbidden(DeviceKeysError):
    code = "forbidden"


class DeviceBlocked(DeviceKeysError):
    code = "device_blocked"


class DeviceExpired(DeviceKeysError):
    """Not verified within the deployment's InactiveKeyDays: register the device again."""

    code = "device_expired"


class DeviceNotFound(DeviceKeysError):
    code = "device_not_found"


class ChallengeRequired(DeviceKeysError):
    """A bound session's refresh asks for a signed challenge first (DBSC: browsers answer it themselves)."""

    code = "challenge_required"


class SessionNotFound(DeviceKeysError):
    """No active bound session with this id: unknown, ended or expired."""

    code = "session_not_found"


class NotFound(DeviceKeysError):
    """No such route (API Gateway's own 404): a wrong base URL, most likely."""

    code = "not_found"


class DeviceKeyExists(DeviceKeysError):
    code = "device_key_exists"


class DeviceLimitReached(DeviceKeysError):
    code = "device_limit_reached"


class PayloadTooLarge(DeviceKeysError):
    code = "payload_too_large"


class ServiceUnavailable(DeviceKeysError):
    """The store was busy; nothing changed and the call can be retried."""

    code = "service_unavailable"
    retryable = True


class RouteNotFound(DeviceKeysError):
    """A function's own 404 for a path it does not serve."""

    code = "route_not_found"


class ServerError(DeviceKeysError):
    """An unexpected failure on the service side (5xx)."""

    code = "internal_error"


class JourneyFailed(ServerError):
    """A journey failed for a reason that is not the caller's; the service logged it."""

    code = "journey_failed"


class JourneyTimedOut(ServerError):
    code = "journey_timed_out"


class ConnectionFailed(DeviceKeysError):
    """The API could not be reached, or its answer was not one the API gives."""

    code = "connection_failed"
    retryable = True


ERRORS_BY_CODE: dict[str, type[DeviceKeysError]] = {
    cls.code: cls
    for cls in (
        InvalidRequest,
        UnsupportedKey,
        InvalidProof,
        ChallengeExpired,
        ChallengeNotFound,
        Unauthorized,
        Forbidden,
        DeviceBlocked,
        DeviceExpired,
        DeviceNotFound,
        ChallengeRequired,
        SessionNotFound,
        NotFound,
        DeviceKeyExists,
        DeviceLimitReached,
        PayloadTooLarge,
        ServiceUnavailable,
        ServerError,
        RouteNotFound,
        JourneyFailed,
        JourneyTimedOut,
    )
}

# A device proof that did not make the device known: what ``is_known_device`` answers False to.
NOT_KNOWN = (InvalidProof, ChallengeExpired, ChallengeNotFound, DeviceBlocked, DeviceExpired, DeviceNotFound)


def error_from_response(status: int, document: Any, www_authenticate: str | None = None) -> DeviceKeysError:
    """The typed error for an HTTP error answer.

    Args:
        status: the HTTP status.
        document: the parsed JSON body, or None.
        www_authenticate: the ``www-authenticate`` header of a 401, which says why a token was refused.
    """
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        error = document["error"]
        code = str(error.get("code", ""))
        cls = ERRORS_BY_CODE.get(code, DeviceKeysError)
        exc = cls(str(error.get("message", code)), status=status, request_id=document.get("request_id"))
        if cls is DeviceKeysError:
            exc.code = code or "error"
        return exc
    # API Gateway's own answers ({"message": ...}) and proxies' carry no error code: go by status.
    if status == 401:
        reason = _challenge_reason(www_authenticate)
        if reason:
            return Unauthorized(f"the API's authorizer refused the access token: {reason}", status=status)
        return Unauthorized("the API's authorizer refused the request: no valid access token", status=status)
    if status == 404:
        return NotFound("the API has no such route: check the base URL", status=status)
    message = str(document.get("message")) if isinstance(document, dict) and "message" in document else f"HTTP {status}"
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else DeviceKeysError)
    return cls(message, status=status)


def _challenge_reason(www_authenticate: str | None) -> str | None:
    """``error_description`` (or ``error``) of a Bearer challenge (RFC 6750 section 3)."""
    if not www_authenticate:
        return None
    found = dict(re.findall(r'(\w+)="([^"]*)"', www_authenticate))
    return found.get("error_description") or found.get("error") or None


_BY_STATUS: dict[int, type[DeviceKeysError]] = {
    413: PayloadTooLarge,
    502: ServiceUnavailable,
    503: ServiceUnavailable,
    504: ServiceUnavailable,
}
