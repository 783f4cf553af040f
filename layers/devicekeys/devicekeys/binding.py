"""Binding devices to users: registration with proof of possession, and "is known device".

A proof is read, its challenge consumed (one attempt per challenge, whatever the outcome),
then the signature checked with the pinned key, then the claims. Only after all of that is
anything stored.

DynamoDB requests: register 2 (consume the challenge; one transaction: put key + count it),
verify 3 (consume the challenge; read the key; record ``last_verified_at``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .challenges import ChallengeService
from .device_keys import ACTIVE, DeviceKey, DeviceKeyService
from .errors import DeviceBlocked, InvalidProof
from .keys import DevicePublicKey, load_public_key
from .proofs import DeviceProof, check_proof, read_proof
from .settings import Settings


class DeviceBinding:
    def __init__(
        self,
        device_keys: DeviceKeyService,
        challenges: ChallengeService,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._device_keys = device_keys
        self._challenges = challenges
        self._settings = settings
        self._clock = clock

    def register(
        self,
        user_id: str,
        proof: str,
        *,
        display_name: str | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> DeviceKey:
        """Bind a new device key to ``user_id``, proven by a JWS over a register challenge.

        Raises:
            InvalidProof, ChallengeNotFound, ChallengeExpired, UnsupportedKey,
            DeviceKeyExists, DeviceLimitReached, ServiceUnavailable.
        """
        parsed = self._consume(proof, user_id, "register")
        if "jwk" not in parsed.header:
            raise InvalidProof("a registration proof carries the new public key in its jwk header")
        key = load_public_key(parsed.header["jwk"], parsed.header.get("alg"))
        if parsed.kid is not None and parsed.kid != key.key_id:
            raise InvalidProof("the kid header is not the jwk's thumbprint")
        self._check(parsed, key, user_id, "register")
        return self._device_keys.add(
            user_id,
            key_id=key.key_id,
            public_key=key.jwk,
            alg=key.alg,
            display_name=display_name,
            custom_data=custom_data,
        )

    def verify(self, user_id: str, proof: str) -> DeviceKey:
        """Recognise a returning device: a JWS with ``kid`` over a verify challenge.

        An unknown user and an unknown key both give ``DeviceNotFound``; a blocked key gives
        ``DeviceBlocked`` only once the proof's signature has been checked with that key.
        """
        parsed = self._consume(proof, user_id, "verify")
        if parsed.kid is None:
            raise InvalidProof("a verification proof names its key in the kid header")
        stored = self._device_keys.get(user_id, parsed.kid)
        key = DevicePublicKey(jwk=stored.public_key, alg=stored.alg, key_id=stored.key_id)
        self._check(parsed, key, user_id, "verify")
        if stored.status != ACTIVE:
            raise DeviceBlocked("the device key is blocked")
        return self._device_keys.record_verification(user_id, stored.key_id)

    def _consume(self, proof: str, user_id: str, purpose: str) -> DeviceProof:
        parsed = read_proof(proof)
        self._challenges.consume(parsed.challenge, user_id=user_id, purpose=purpose)
        return parsed

    def _check(self, parsed: DeviceProof, key: DevicePublicKey, user_id: str, purpose: str) -> None:
        check_proof(
            parsed,
            key,
            user_id=user_id,
            purpose=purpose,
            now=int(self._clock()),
            clock_skew_seconds=self._settings.clock_skew_seconds,
            audience=self._settings.proof_audience,
        )
