"""Binding devices to users: registration, "is known device" and rotation, each driven by proofs.

Every check a proof can pass or fail on its own comes before its one-time challenge is
consumed, so a challenge is never burned by a request that was invalid on its face:

- register: structure, the new key (canonical, safe), the claims, the signature by that key;
  then the challenge is consumed; then the key is stored;
- verify: structure and claims; then the named key is read and must have signed the proof;
  then the challenge is consumed; only then is the key's status (blocked, expired) revealed,
  to a caller who just proved they hold it;
- rotate: both proofs' structure and claims (one challenge, purpose ``rotate``), the new key
  and its signature; then the current key is read and must have signed its proof; then the
  challenge is consumed; then the record changes key in one transaction.

On the open verify route, "no such key" and "a key that did not sign this" are one answer
(``device_not_found``): whoever knows a public key cannot learn whether a user registered it.

DynamoDB requests: register 2 (consume the challenge; one transaction: put key + count it),
register replacing the user's other active keys 3 (plus a query), verify 3 (read the key;
consume the challenge; record ``last_verified_at``), verify and sign out the others 5, rotate 3
(read the current key; consume the challenge; one transaction).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .access import Caller
from .challenges import ChallengeService
from .device_keys import ACTIVE, BLOCKED_MESSAGE, KEY_ID_PATTERN, DeviceKey, DeviceKeyService
from .errors import DeviceBlocked, DeviceExpired, DeviceNotFound, InvalidProof, InvalidRequest
from .keys import DevicePublicKey, load_public_key
from .proofs import DeviceProof, check_claims, read_proof, signature_is_valid
from .settings import Settings

NOT_RECOGNISED = "no device key of this user verifies this proof"
EXPIRED_MESSAGE = "the device key was not verified for too long: register the device again"


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
        actor: Caller,
    ) -> DeviceKey:
        """Bind a new device key to ``user_id``, proven by a JWS over a register challenge.

        Args:
            user_id: the user the key is for (the caller is already authorized for them).
            proof: a compact JWS with the new public key in its ``jwk`` header.
            display_name: a name people read.
            custom_data: any JSON object the app keeps with the key.
            actor: who registers it (recorded for the lifecycle events).

        Raises:
            InvalidProof: malformed, not signed by its ``jwk``, or claims that do not match.
            UnsupportedKey: a key this service does not accept.
            ChallengeNotFound, ChallengeExpired: the challenge cannot be used.
            DeviceBlocked: the key is registered for the user and blocked.
            DeviceKeyExists, DeviceLimitReached, ServiceUnavailable.
        """
        key = self._proven_new_key(user_id, proof, "register")
        return self._device_keys.add(
            user_id, **_record(key), display_name=display_name, custom_data=custom_data, actor=actor
        )

    def register_replacing_active(
        self,
        user_id: str,
        proof: str,
        *,
        display_name: str | None = None,
        custom_data: dict[str, Any] | None = None,
        actor: Caller,
    ) -> tuple[DeviceKey, int]:
        """Register like ``register``, removing the user's other active keys (single device policy).

        Nothing is removed unless the proof passed every check and its challenge was consumed;
        blocked keys are never removed, and a blocked key is never registered again.

        Returns:
            The stored key and how many other keys were removed.

        Raises:
            As ``register``.
        """
        key = self._proven_new_key(user_id, proof, "register")
        return self._device_keys.add_replacing_active(
            user_id, **_record(key), display_name=display_name, custom_data=custom_data, actor=actor
        )

    def verify(self, user_id: str, proof: str) -> DeviceKey:
        """Recognise a returning device: a JWS with ``kid`` over a verify challenge.

        Raises:
            InvalidProof: malformed, or claims that do not match.
            DeviceNotFound: no key of the user named ``kid`` signed the proof (an unknown
                user, an unknown key and a bad signature look the same).
            ChallengeNotFound, ChallengeExpired: the challenge cannot be used.
            DeviceBlocked: the key is blocked (said only after its signature verified).
            DeviceExpired: the key was not verified within ``InactiveKeyDays``.
            ServiceUnavailable.
        """
        stored = self._proven_stored_key(user_id, read_proof(proof), "verify")
        return self._device_keys.record_verification(user_id, stored.key_id)

    def verify_and_sign_out_others(self, user_id: str, proof: str, *, actor: Caller) -> tuple[DeviceKey, int]:
        """Keep this device, forget the others: verify, then remove the user's other active keys.

        Blocked keys stay, as an administrator decided. Nothing is removed unless the proof
        verified completely.

        Returns:
            This device's key and how many keys were removed.

        Raises:
            As ``verify``.
        """
        device_key = self.verify(user_id, proof)
        return device_key, self._device_keys.remove_other_active(user_id, keep_key_id=device_key.key_id, actor=actor)

    def rotate(self, user_id: str, proof: str, new_key_proof: str, *, actor: Caller) -> DeviceKey:
        """Replace a device's key without losing its record: both keys prove themselves over one challenge.

        Args:
            user_id: the user (the caller is already authorized for them).
            proof: a JWS by the **current** key (``kid``) over a ``rotate`` challenge.
            new_key_proof: a JWS by the **new** key (``jwk`` header) over the same challenge.
            actor: who rotates (recorded for the lifecycle events).

        Returns:
            The record under its new key: same display name, custom data and creation time.

        Raises:
            InvalidProof: either proof malformed or with claims that do not match, or the two
                proofs over different challenges.
            UnsupportedKey: a new key this service does not accept.
            InvalidRequest: the new key is the current key.
            DeviceNotFound: the current key is not the user's, or did not sign its proof.
            ChallengeNotFound, ChallengeExpired: the challenge cannot be used.
            DeviceBlocked: the current key is blocked (a blocked key cannot rotate), or the
                new key is blocked for the user.
            DeviceExpired: the current key expired.
            DeviceKeyExists: the new key is registered for the user already.
            ServiceUnavailable.
        """
        current, new = read_proof(proof), read_proof(new_key_proof)
        if current.challenge != new.challenge:
            raise InvalidProof("both proofs of a rotation sign the same challenge")
        new_key = self._new_key(user_id, new, "rotate")
        if new_key.key_id == current.kid:
            raise InvalidRequest("the new key is the current key")
        stored = self._proven_stored_key(user_id, current, "rotate")
        return self._device_keys.rotate(stored, **_record(new_key), actor=actor)

    # --- the checks, in the order the module docstring gives ------------------------------

    def _proven_new_key(self, user_id: str, proof: str, purpose: str) -> DevicePublicKey:
        """Every check of a proof that carries its key, then its challenge consumed: the key is proven."""
        parsed = read_proof(proof)
        key = self._new_key(user_id, parsed, purpose)
        self._challenges.consume(parsed.challenge, user_id=user_id, purpose=purpose)
        return key

    def _new_key(self, user_id: str, parsed: DeviceProof, purpose: str) -> DevicePublicKey:
        if "jwk" not in parsed.header:
            raise InvalidProof("a proof for a new key carries the public key in its jwk header")
        key = load_public_key(parsed.header["jwk"], parsed.header.get("alg"))
        if parsed.kid is not None and parsed.kid != key.key_id:
            raise InvalidProof("the kid header is not the jwk's thumbprint")
        self._check_claims(parsed, user_id, purpose)
        if not signature_is_valid(parsed, key):
            raise InvalidProof("the proof is not signed by the key in its jwk header")
        return key

    def _proven_stored_key(self, user_id: str, parsed: DeviceProof, purpose: str) -> DeviceKey:
        """Claims, the named key's own signature, the challenge consumed, then the key's status."""
        if parsed.kid is None:
            raise InvalidProof("a proof by a registered key names it in the kid header")
        self._check_claims(parsed, user_id, purpose)
        if not KEY_ID_PATTERN.fullmatch(parsed.kid):
            raise DeviceNotFound(NOT_RECOGNISED)
        stored = self._device_keys.find(user_id, parsed.kid)
        if stored is None or not signature_is_valid(parsed, _public_key(stored)):
            raise DeviceNotFound(NOT_RECOGNISED)
        self._challenges.consume(parsed.challenge, user_id=user_id, purpose=purpose)
        if stored.status != ACTIVE:
            raise DeviceBlocked(BLOCKED_MESSAGE)
        if self._device_keys.is_expired(stored):
            raise DeviceExpired(EXPIRED_MESSAGE)
        return stored

    def _check_claims(self, parsed: DeviceProof, user_id: str, purpose: str) -> None:
        check_claims(
            parsed,
            user_id=user_id,
            purpose=purpose,
            now=int(self._clock()),
            clock_skew_seconds=self._settings.clock_skew_seconds,
            audience=self._settings.proof_audience,
        )


def _record(key: DevicePublicKey) -> dict[str, Any]:
    return {"key_id": key.key_id, "public_key": key.jwk, "alg": key.alg}


def _public_key(stored: DeviceKey) -> DevicePublicKey:
    return DevicePublicKey(jwk=stored.public_key, alg=stored.alg, key_id=stored.key_id)
