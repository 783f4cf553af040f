"""Bound sessions' deployment settings, read once at a function's cold start.

Only the bound-session functions read these (their own ``Environment`` in the template, not
``Globals``), so the device-key functions stay as they are. Numbers follow ``settings.NUMERIC``'s
rules: stated once in ``SESSION_NUMERIC`` with the template parameter that feeds them, and a test
checks that the template declares the same default and bounds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .settings import NumericSetting, SettingsError

SESSION_NUMERIC: Mapping[str, NumericSetting] = MappingProxyType(
    {
        # The bound cookie's (and its credential's) lifetime: a stolen cookie works this long at most.
        "credential_seconds": NumericSetting("DBSC_CREDENTIAL_SECONDS", "DbscCredentialSeconds", 600, 5, 86400),
        # A session that has not refreshed for this long expires (the table's TTL then removes it).
        "idle_days": NumericSetting("DBSC_SESSION_IDLE_DAYS", "DbscSessionIdleDays", 30, 1, 3650),
    }
)
DEFAULT_COOKIE_NAME = "__Host-dk-session"
# RFC 6265 cookie-name token characters (no separators), short enough for any browser.
_COOKIE_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
_ORIGIN = re.compile(r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?")


@dataclass(frozen=True, slots=True)
class SessionSettings:
    signing_key_id: str | None = None  # the KMS key that signs credentials (ECC_NIST_P256)
    kms_endpoint: str | None = None  # a KMS endpoint other than AWS's (local runs)
    cookie_name: str = DEFAULT_COOKIE_NAME
    origin: str | None = None  # the app's origin; None: the Origin the browser's request names
    credential_seconds: int = SESSION_NUMERIC["credential_seconds"].default
    idle_days: int = SESSION_NUMERIC["idle_days"].default

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SessionSettings:
        """Read the bound-session variables.

        Raises:
            SettingsError: a number out of its bounds, a cookie name that is not a cookie
                token, or an origin that is not ``https://host[:port]``.
        """
        env = os.environ if env is None else env
        cookie_name = env.get("DBSC_COOKIE_NAME") or DEFAULT_COOKIE_NAME
        if not _COOKIE_NAME.fullmatch(cookie_name):
            raise SettingsError(f"DBSC_COOKIE_NAME must be a cookie name token, got {cookie_name!r}")
        origin = env.get("DBSC_ORIGIN") or None
        if origin is not None and not _ORIGIN.fullmatch(origin):
            raise SettingsError(f"DBSC_ORIGIN must be https://host[:port], got {origin!r}")
        return cls(
            signing_key_id=env.get("DBSC_SIGNING_KEY_ID") or None,
            kms_endpoint=env.get("KMS_ENDPOINT") or None,
            cookie_name=cookie_name,
            origin=origin,
            **{name: setting.read(env) for name, setting in SESSION_NUMERIC.items()},
        )
