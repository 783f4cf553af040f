"""The domain's errors: one class per documented error code.

Each class carries its code and HTTP status, so the mapping to a response lives in one place.
The class names double as the error names a Step Functions ``Catch`` can match when a function
is invoked directly (``"ErrorEquals": ["DeviceNotFound"]``), and as the names a failed journey
reports, which ``BY_NAME`` maps back to the class.

``ALL_ERRORS`` is the explicit list of every error a caller can see; the API's documentation
and the clients' code tables are built from it, and a test checks that no subclass is missing.
"""

from __future__ import annotations


class DeviceKeysError(Exception):
    """Base of every error a caller may see; ``message`` is safe to show to a client."""

    code = "internal_error"
    status = 500
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def response_headers(self) -> dict[str, str]:
        """Headers the answer must carry besides the error body (a protocol's next step)."""
        return {}


class InvalidRequest(DeviceKeysError):
    code, status = "invalid_request", 400


class UnsupportedKey(DeviceKeysError):
    code, status = "unsupported_key", 400


class InvalidProof(DeviceKeysError):
    code, status = "invalid_proof", 401


class ChallengeExpired(DeviceKeysError):
    code, status = "challenge_expired", 401


class ChallengeNotFound(DeviceKeysError):
    code, status = "challenge_not_found", 401


class Forbidden(DeviceKeysError):
    code, status = "forbidden", 403


class DeviceBlocked(DeviceKeysError):
    code, status = "device_blocked", 403


class DeviceExpired(DeviceKeysError):
    """The key was not verified within InactiveKeyDays: no longer a known device (TTL removes it)."""

    code, status = "device_expired", 403


class ChallengeRequired(DeviceKeysError):
    """A bound session's refresh must first sign this challenge (DBSC): the answer names it in a header."""

    code, status = "challenge_required", 403

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self._headers = dict(headers or {})

    def response_headers(self) -> dict[str, str]:
        return dict(self._headers)


class DeviceNotFound(DeviceKeysError):
    code, status = "device_not_found", 404


class SessionNotFound(DeviceKeysError):
    """No active bound session with this id (unknown, ended or expired): the browser ends it."""

    code, status = "session_not_found", 404


class RouteNotFound(DeviceKeysError):
    code, status = "route_not_found", 404


class DeviceKeyExists(DeviceKeysError):
    code, status = "device_key_exists", 409


class DeviceLimitReached(DeviceKeysError):
    code, status = "device_limit_reached", 409


class PayloadTooLarge(DeviceKeysError):
    code, status = "payload_too_large", 413


class InternalError(DeviceKeysError):
    """A bug: logged with its stack trace; the caller sees a fixed message."""

    code, status = "internal_error", 500


class JourneyFailed(DeviceKeysError):
    """A journey failed for a reason that is not the caller's (a bug or an outage), logged."""

    code, status = "journey_failed", 502


class ServiceUnavailable(DeviceKeysError):
    """The store throttled or failed transiently; nothing was changed, the call can be retried."""

    code, status, retryable = "service_unavailable", 503, True


class JourneyTimedOut(DeviceKeysError):
    code, status = "journey_timed_out", 504


# Outcomes of an "is known device" check that a journey branches on rather than catches.
VERIFY_FAILURES: tuple[type[DeviceKeysError], ...] = (
    InvalidProof,
    ChallengeExpired,
    ChallengeNotFound,
    DeviceBlocked,
    DeviceExpired,
    DeviceNotFound,
)

ALL_ERRORS: tuple[type[DeviceKeysError], ...] = (
    InvalidRequest,
    UnsupportedKey,
    InvalidProof,
    ChallengeExpired,
    ChallengeNotFound,
    Forbidden,
    ChallengeRequired,
    DeviceBlocked,
    DeviceExpired,
    DeviceNotFound,
    SessionNotFound,
    RouteNotFound,
    DeviceKeyExists,
    DeviceLimitReached,
    PayloadTooLarge,
    InternalError,
    JourneyFailed,
    ServiceUnavailable,
    JourneyTimedOut,
)
# Every code a client may see, with its HTTP status: the error table of the docs and OpenAPI.
ERROR_STATUS: dict[str, int] = {error.code: error.status for error in ALL_ERRORS}
# Class name -> class: how a journey's failure (its error name) is answered like the API would.
BY_NAME: dict[str, type[DeviceKeysError]] = {error.__name__: error for error in ALL_ERRORS}
