"""The bound-session functions' services, built once per container and only when first used.

The device-key functions never build these (nor the KMS client): ``FunctionRuntime`` stays
theirs. A bound-session function makes one ``SessionServices`` at cold start beside its runtime.
What checks or signs JWTs (joserfc, cryptography, the KMS client) is imported by the functions
that use it, when they first do: listing or starting sessions never loads it.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from .bound_sessions import BoundSessionStore
from .session_models import SessionModels, build_session_models
from .session_registrations import SessionRegistrations
from .session_settings import SessionSettings
from .settings import Settings

if TYPE_CHECKING:
    from .bound_credentials import CredentialVerifier, KmsSigningKey
    from .session_binding import SessionBinding


class SessionServices:
    def __init__(self, settings: Settings, session_settings: SessionSettings | None = None) -> None:
        self.settings = settings
        self.session_settings = session_settings or SessionSettings.from_env()

    @cached_property
    def _models(self) -> SessionModels:
        return build_session_models(self.settings)

    @cached_property
    def store(self) -> BoundSessionStore:
        return BoundSessionStore(
            self._models,
            challenge_ttl_seconds=self.settings.challenge_ttl_seconds,
            idle_days=self.session_settings.idle_days,
        )

    @cached_property
    def registrations(self) -> SessionRegistrations:
        return SessionRegistrations(
            self._models.registration, self._models.connection, ttl_seconds=self.settings.challenge_ttl_seconds
        )

    @cached_property
    def signing_key(self) -> KmsSigningKey:
        from .bound_credentials import KmsSigningKey  # noqa: PLC0415 - see the module's docstring

        return KmsSigningKey(self.session_settings, region=self.settings.region)

    @cached_property
    def verifier(self) -> CredentialVerifier:
        from .bound_credentials import CredentialVerifier  # noqa: PLC0415

        return CredentialVerifier(self.signing_key)

    @cached_property
    def binding(self) -> SessionBinding:
        from .bound_credentials import CredentialIssuer  # noqa: PLC0415
        from .session_binding import SessionBinding  # noqa: PLC0415

        return SessionBinding(self.store, self.registrations, CredentialIssuer(self.signing_key), self.session_settings)
