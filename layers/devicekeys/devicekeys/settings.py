"""Deployment settings, read and validated once at the boundary (cold start), then passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class SettingsError(ValueError):
    """A deployment setting is missing or out of range: a configuration bug, not a client's."""


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    device_keys_table: str
    challenges_table: str
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    challenge_ttl_seconds: int = 120
    clock_skew_seconds: int = 60
    max_devices_per_user: int = 10
    proof_audience: str | None = None
    admin_scope: str = "device-keys/admin"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        missing = [n for n in ("DEVICE_KEYS_TABLE", "CHALLENGES_TABLE") if not env.get(n)]
        if missing:
            raise SettingsError(f"missing environment variables: {', '.join(missing)}")
        return cls(
            device_keys_table=env["DEVICE_KEYS_TABLE"],
            challenges_table=env["CHALLENGES_TABLE"],
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            dynamodb_endpoint=env.get("DYNAMODB_ENDPOINT") or None,
            challenge_ttl_seconds=_int(env, "CHALLENGE_TTL_SECONDS", 120, 10, 3600),
            clock_skew_seconds=_int(env, "CLOCK_SKEW_SECONDS", 60, 0, 600),
            max_devices_per_user=_int(env, "MAX_DEVICES_PER_USER", 10, 1, 1000),
            proof_audience=env.get("PROOF_AUDIENCE") or None,
            admin_scope=env.get("ADMIN_SCOPE") or "device-keys/admin",
        )
