"""Deployment settings, read and validated once at the boundary (cold start), then passed down.

Each numeric setting is stated once, in ``NUMERIC``: its environment variable, the template
parameter that feeds it, its default and its bounds. ``Settings.from_env`` reads from that
table, and a test checks that ``template.yaml`` declares the same default and bounds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


class SettingsError(ValueError):
    """A deployment setting is missing or out of range: a configuration bug, not a client's."""


@dataclass(frozen=True, slots=True)
class NumericSetting:
    variable: str
    parameter: str
    default: int
    low: int
    high: int

    def read(self, env: Mapping[str, str]) -> int:
        raw = env.get(self.variable, "").strip()
        if not raw:
            return self.default
        digits = raw.removeprefix("-")
        if not (digits.isascii() and digits.isdigit()):  # int() would take "1_0" and fullwidth digits
            raise SettingsError(f"{self.variable} must be an integer, got {raw!r}")
        value = int(raw)
        if not self.low <= value <= self.high:
            raise SettingsError(f"{self.variable} must be between {self.low} and {self.high}, got {value}")
        return value


NUMERIC: Mapping[str, NumericSetting] = MappingProxyType(
    {
        "challenge_ttl_seconds": NumericSetting("CHALLENGE_TTL_SECONDS", "ChallengeTtlSeconds", 120, 10, 3600),
        "clock_skew_seconds": NumericSetting("CLOCK_SKEW_SECONDS", "ClockSkewSeconds", 60, 0, 600),
        "max_devices_per_user": NumericSetting("MAX_DEVICES_PER_USER", "MaxDevicesPerUser", 10, 1, 1000),
        "inactive_key_days": NumericSetting("INACTIVE_KEY_DAYS", "InactiveKeyDays", 0, 0, 3650),
    }
)
REQUIRED = ("DEVICE_KEYS_TABLE", "CHALLENGES_TABLE")
DEFAULT_ADMIN_SCOPE = "device-keys/admin"


@dataclass(frozen=True, slots=True)
class Settings:
    device_keys_table: str
    challenges_table: str
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    challenge_ttl_seconds: int = NUMERIC["challenge_ttl_seconds"].default
    clock_skew_seconds: int = NUMERIC["clock_skew_seconds"].default
    max_devices_per_user: int = NUMERIC["max_devices_per_user"].default
    inactive_key_days: int = NUMERIC["inactive_key_days"].default  # 0: keys never expire
    proof_audience: str | None = None
    admin_scope: str = DEFAULT_ADMIN_SCOPE
    # journey name -> state machine ARN (the journey starter's JOURNEY_STATE_MACHINES)
    journey_state_machines: Mapping[str, str] = field(default_factory=dict)
    # the event publisher's: where lifecycle events go, and its record of what it published
    event_bus_name: str | None = None
    published_events_table: str | None = None
    events_endpoint: str | None = None  # an EventBridge endpoint other than AWS's (local runs)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from the environment the template gives a function.

        Raises:
            SettingsError: a table name is missing, a number is not an integer or out of its
                bounds, or ``JOURNEY_STATE_MACHINES`` is not a JSON object of strings.
        """
        env = os.environ if env is None else env
        missing = [name for name in REQUIRED if not env.get(name)]
        if missing:
            raise SettingsError(f"missing environment variables: {', '.join(missing)}")
        return cls(
            device_keys_table=env["DEVICE_KEYS_TABLE"],
            challenges_table=env["CHALLENGES_TABLE"],
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            dynamodb_endpoint=env.get("DYNAMODB_ENDPOINT") or None,
            proof_audience=env.get("PROOF_AUDIENCE") or None,
            admin_scope=env.get("ADMIN_SCOPE") or DEFAULT_ADMIN_SCOPE,
            journey_state_machines=_journey_state_machines(env.get("JOURNEY_STATE_MACHINES") or "{}"),
            event_bus_name=env.get("EVENT_BUS_NAME") or None,
            published_events_table=env.get("PUBLISHED_EVENTS_TABLE") or None,
            events_endpoint=env.get("EVENTS_ENDPOINT") or None,
            **{name: setting.read(env) for name, setting in NUMERIC.items()},
        )


def _journey_state_machines(raw: str) -> Mapping[str, str]:
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise SettingsError("JOURNEY_STATE_MACHINES must be a JSON object") from exc
    if not isinstance(document, dict) or not all(isinstance(v, str) for v in document.values()):
        raise SettingsError("JOURNEY_STATE_MACHINES must map journey names to state machine ARNs")
    return MappingProxyType(document)
