"""Binding devices to users: registration with proof of possession, and "is known device".

Every check a proof can pass or fail on its own comes before its one-time challenge is
consumed, so a challenge is never burned by a request that was invalid on its face:

- register: structure, the new key (canonical, safe), the signature by that key, the claims;
  then the challenge is consumed; then the key is stored;
- verify: structure and claims; then the named key is read and must have signed the proof;
  then the challenge is consumed; only then is the key's status (blocked) revealed, to a
  caller who just proved they hold it.

On the open verify route, "no such key" and "a key that did not sign this" are one answer
(``device_not_found``): whoever knows a public key cannot learn whether a user registered it.

DynamoDB requests: register 2 (consume the challenge; one transaction: put key + count it),
register replacing the user's other active keys 3 (plus a query), verify 3 (read the key;
consume the challenge; record ``last_verified_at``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .challenges import ChallengeService
from .device_keys import ACTIVE, BLOCKED_MESSAGE, KEY_ID_PATTERN, DeviceKey, DeviceKeyService
from .errors import DeviceBlocked, DeviceNotFound, InvalidProof
from .keys import DevicePublicKey, load_public_key
from .proofs import check_claims, check_proof, read_proof, signature_is_valid
from .settings import Settings

NOT_RECOGNISED = "no device key of this user verifies this proof"


class DeviceBinding:
    """Proof-driven operations: the only part of the domain that imports the JOSE stack."""

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

        Args:
            user_id: the user the key is for (the caller is already authorized for them).
            proof: a compact JWS with the new public key in its ``jwk`` header.
            display_name: a name people read.
            custom_data: any JSON object the app keeps with the key.

        Raises:
            InvalidProof: malformed, not signed by its ``jwk``, or claims that do not match.
            UnsupportedKey: a key this service does not accept.
            ChallengeNotFound, ChallengeExpired: the challenge cannot be used.
            DeviceBlocked: the key is registered for the user and blocked.
            DeviceKeyExists, DeviceLimitReached, ServiceUnavailable.
        """
        key = self._proven_new_key(user_id, proof)
        return self._device_keys.add(user_id, **_record(key), display_name=display_name, custom_data=custom_data)

    def register_replacing_active(
        self,
        user_id: str,
        proof: str,
        *,
        display_name: str | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> tuple[DeviceKey, int]:
        """Register like ``register``, removing the user's other active keys (single device policy).

        Nothing is removed unless the proof passed every check and its challenge was consumed;
        blocked keys are never removed, and a blocked key is never registered again.

        Returns:
            The stored key and how many other keys were removed.

        Raises:
            As ``register``.
        """
        key = self._proven_new_key(user_id, proof)
        return self._device_keys.add_replacing_active(
            user_id, **_record(key), display_name=display_name, custom_data=custom_data
        )

    def verify(self, user_id: str, proof: str) -> DeviceKey:
        """Recognise a returning device: a JWS with ``kid`` over a verify challenge.

        Raises:
            InvalidProof: malformed, or claims that do not match.
            DeviceNotFound: no key of the user named ``kid`` signed the proof (an unknown
                user, an unknown key and a bad signature look the same).
            ChallengeNotFound, ChallengeExpired: the challenge cannot be used.
            DeviceBlocked: the key is blocked (said only after its signature verified).
            ServiceUnavailable.
        """
        parsed = read_proof(proof)
        if parsed.kid is None:
            raise InvalidProof("a verification proof names its key in the kid header")
        check_claims(
            parsed,
            user_id=user_id,
            purpose="verify",
            now=int(self._clock()),
            clock_skew_seconds=self._settings.clock_skew_seconds,
            audience=self._settings.proof_audience,
        )
        if not KEY_ID_PATTERN.fullmatch(parsed.kid):
            raise DeviceNotFound(NOT_RECOGNISED)
        stored = self._device_keys.find(user_id, parsed.kid)
        if stored is None or not signature_is_valid(parsed, _public_key(stored)):
            raise DeviceNotFound(NOT_RECOGNISED)
        self._challenges.consume(parsed.challenge, user_id=user_id, purpose="verify")
        if stored.status != ACTIVE:
            raise DeviceBlocked(BLOCKED_MESSAGE)
        return self._device_keys.record_verification(user_id, stored.key_id)

    def _proven_new_key(self, user_id: str, proof: str) -> DevicePublicKey:
        """Every check of a registration proof, then its challenge consumed: the key is proven."""
        parsed = read_proof(proof)
        if "jwk" not in parsed.header:
            raise InvalidProof("a registration proof carries the new public key in its jwk header")
        key = load_public_key(parsed.header["jwk"], parsed.header.get("alg"))
        if parsed.kid is not None and parsed.kid != key.key_id:
            raise InvalidProof("the kid header is not the jwk's thumbprint")
        check_proof(
            parsed,
            key,
            user_id=user_id,
            purpose="register",
            now=int(self._clock()),
            clock_skew_seconds=self._settings.clock_skew_seconds,
            audience=self._settings.proof_audience,
        )
        self._challenges.consume(parsed.challenge, user_id=user_id, purpose="register")
        return key


def _record(key: DevicePublicKey) -> dict[str, Any]:
    return {"key_id": key.key_id, "public_key": key.jwk, "alg": key.alg}


def _public_key(stored: DeviceKey) -> DevicePublicKey:
    return DevicePublicKey(jwk=stored.public_key, alg=stored.alg, key_id=stored.key_id)
