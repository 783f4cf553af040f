"""Client side of devicekeys: a device's key pair and its proofs, the HTTP client, and the CLI."""

from .client import DeviceKeysClient
from .device import DeviceKeyPair
from .errors import (
    ChallengeExpired,
    ChallengeNotFound,
    ConnectionFailed,
    DeviceBlocked,
    DeviceKeyExists,
    DeviceKeysError,
    DeviceLimitReached,
    DeviceNotFound,
    Forbidden,
    InvalidProof,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    ServerError,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedKey,
)
from .models import Challenge, DeviceKey, DeviceKeyPage, Verification

__all__ = [
    "Challenge",
    "ChallengeExpired",
    "ChallengeNotFound",
    "ConnectionFailed",
    "DeviceBlocked",
    "DeviceKey",
    "DeviceKeyExists",
    "DeviceKeyPage",
    "DeviceKeyPair",
    "DeviceKeysClient",
    "DeviceKeysError",
    "DeviceLimitReached",
    "DeviceNotFound",
    "Forbidden",
    "InvalidProof",
    "InvalidRequest",
    "NotFound",
    "PayloadTooLarge",
    "ServerError",
    "ServiceUnavailable",
    "Unauthorized",
    "UnsupportedKey",
    "Verification",
]
