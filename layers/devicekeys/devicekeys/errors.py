"""The domain's errors: one class per documented error code.

Each class carries the code and HTTP status DESIGN.md promises, so the mapping to a response
lives in one place. The class names double as the error names a Step Functions ``Catch`` can
match when a function is invoked directly (``"ErrorEquals": ["DeviceNotFound"]``).
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


class DeviceNotFound(DeviceKeysError):
    code, status = "device_not_found", 404


class RouteNotFound(DeviceKeysError):
    code, status = "route_not_found", 404


class DeviceKeyExists(DeviceKeysError):
    code, status = "device_key_exists", 409


class DeviceLimitReached(DeviceKeysError):
    code, status = "device_limit_reached", 409


class PayloadTooLarge(DeviceKeysError):
    code, status = "payload_too_large", 413


class ServiceUnavailable(DeviceKeysError):
    """The store throttled or failed transiently; nothing was changed, the call can be retried."""

    code, status, retryable = "service_unavailable", 503, True


# Outcomes of an "is known device" check that a journey branches on rather than catches.
VERIFY_FAILURES: tuple[type[DeviceKeysError], ...] = (
    InvalidProof,
    ChallengeExpired,
    ChallengeNotFound,
    DeviceBlocked,
    DeviceNotFound,
)

# Every code a client of the device-key API may see, with its HTTP status: the table in README.
ERROR_STATUS: dict[str, int] = {error.code: error.status for error in DeviceKeysError.__subclasses__()}
