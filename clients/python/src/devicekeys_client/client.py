"""``DeviceKeysClient``: the devicekeys HTTP API from Python, on the standard library alone.

The client signs challenges with a ``DeviceKeyPair`` locally: only the proof (a JWS carrying
the public key) goes over the wire, never the private key. Every refusal raises the typed
error of its code (``devicekeys_client.errors``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from .device import DeviceKeyPair
from .errors import NOT_KNOWN, ConnectionFailed, DeviceKeysError, error_from_response
from .models import (
    BoundSession,
    BoundSessionPage,
    Challenge,
    DeviceKey,
    DeviceKeyPage,
    SessionRegistration,
    Verification,
)

SELF = "me"
USER_AGENT = "devicekeys-client-python/0.1"

_UNSET: Any = object()


@dataclass(frozen=True)
class JourneyNeeds:
    """What a journey's body carries besides the user: which proofs, and which client data."""

    verify: bool = False  # a verify proof in "proof"
    verify_optional: bool = False  # ...that a device without a key leaves out
    register: str | None = None  # where the register proof goes: "proof" or "registration"
    device_name: bool = False  # client_data.device_name
    names_user: bool = False  # the open journey names the user in its body


JOURNEY_NEEDS = {
    "login-registered-device": JourneyNeeds(verify=True, names_user=True),
    "known-device-step-up": JourneyNeeds(verify=True, verify_optional=True),
    "register-device": JourneyNeeds(register="proof"),
    "rename-device": JourneyNeeds(verify=True, device_name=True),
    "read-device-name": JourneyNeeds(verify=True),
    "count-devices": JourneyNeeds(),
    "single-device-policy": JourneyNeeds(verify=True, register="registration"),
    "sign-out-other-devices": JourneyNeeds(verify=True),
}


class DeviceKeysClient:
    """Calls one deployment of the API: ``base_url`` is its root (e.g. ``http://127.0.0.1:3000``).

    ``token`` is the caller's access token (the API's JWT authorizer): the user's own, or one with
    the admin scope. Challenges and verification are open routes and work without it.
    """

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 10.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def __repr__(self) -> str:  # never show the token
        return f"DeviceKeysClient({self.base_url!r}, token={'<set>' if self.token else None})"

    # --- the protocol ---------------------------------------------------------------

    def issue_challenge(self, user_id: str, purpose: str) -> Challenge:
        """A one-time challenge for ``purpose`` ("register" or "verify"), bound to the user."""
        return Challenge.from_dict(self._call("POST", self._keys_path(user_id, "challenges"), {"purpose": purpose}))

    def register(
        self,
        user_id: str,
        device: DeviceKeyPair,
        *,
        display_name: str | None = None,
        custom_data: dict[str, Any] | None = None,
        audience: str | None = None,
    ) -> DeviceKey:
        """Bind ``device``'s key to the user: get a register challenge, sign it, send the proof."""
        challenge = self.issue_challenge(user_id, "register").challenge
        proof = device.proof(challenge=challenge, user_id=user_id, purpose="register", audience=audience)
        return self.register_proof(user_id, proof, display_name=display_name, custom_data=custom_data)

    def register_proof(
        self,
        user_id: str,
        proof: str,
        *,
        display_name: str | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> DeviceKey:
        """Register with a proof signed elsewhere (a phone's keystore, a browser's WebCrypto)."""
        body: dict[str, Any] = {"proof": proof}
        if display_name is not None:
            body["display_name"] = display_name
        if custom_data is not None:
            body["custom_data"] = custom_data
        return DeviceKey.from_dict(self._call("POST", self._keys_path(user_id), body))

    def verify(self, user_id: str, device: DeviceKeyPair, *, audience: str | None = None) -> Verification:
        """Is known device: prove ``device`` holds an active key of the user.

        Raises DeviceNotFound (unknown device or user), DeviceBlocked, InvalidProof, ChallengeExpired...
        """
        challenge = self.issue_challenge(user_id, "verify").challenge
        proof = device.proof(challenge=challenge, user_id=user_id, purpose="verify", audience=audience)
        return self.verify_proof(user_id, proof)

    def verify_proof(self, user_id: str, proof: str) -> Verification:
        """Verify with a proof signed elsewhere. A proof is good once: its challenge is used up."""
        return Verification.from_dict(self._call("POST", self._keys_path(user_id, "verify"), {"proof": proof}))

    def rotate(
        self, user_id: str, current: DeviceKeyPair, new: DeviceKeyPair, *, audience: str | None = None
    ) -> DeviceKey:
        """Replace ``current``'s key by ``new`` (a token for the user, or an admin's, is needed).

        The record keeps its display name, custom data and creation time; from the moment this
        returns only ``new`` is a known device. Raises DeviceBlocked for a blocked key.
        """
        challenge = self.issue_challenge(user_id, "rotate").challenge
        body = {
            "proof": current.proof(challenge=challenge, user_id=user_id, purpose="rotate", audience=audience),
            "new_key_proof": new.proof(
                challenge=challenge,
                user_id=user_id,
                purpose="rotate",
                audience=audience,
                header={"jwk": new.public_jwk},
            ),
        }
        return DeviceKey.from_dict(self._call("POST", self._keys_path(user_id, "rotate"), body))

    def sign_out_other_devices(self, user_id: str, device: DeviceKeyPair) -> dict[str, Any]:
        """Keep ``device``, remove the user's other active keys (the ``sign-out-other-devices`` journey).

        Returns the outcome: ``{"outcome": "signed_out", "removed": n, ...}`` or a rejection.
        """
        return self.journey("sign-out-other-devices", user_id, device)

    def is_known_device(self, user_id: str, device: DeviceKeyPair) -> bool:
        """True for a registered, active device; False when the device is not recognised or blocked."""
        try:
            self.verify(user_id, device)
        except NOT_KNOWN:
            return False
        return True

    # --- the lifecycle --------------------------------------------------------------

    def get(self, user_id: str, key_id: str) -> DeviceKey:
        return DeviceKey.from_dict(self._call("GET", self._keys_path(user_id, key_id)))

    def list(
        self, user_id: str, *, status: str | None = None, limit: int | None = None, next_token: str | None = None
    ) -> DeviceKeyPage:
        """One page of the user's device keys; follow ``next_token`` (or use ``iter_device_keys``)."""
        query = {
            name: value for name, value in (("status", status), ("limit", limit), ("next_token", next_token)) if value
        }
        return DeviceKeyPage.from_dict(self._call("GET", self._keys_path(user_id), query=query))

    def iter_device_keys(
        self, user_id: str, *, status: str | None = None, page_size: int | None = None
    ) -> Iterator[DeviceKey]:
        """Every device key of the user, page after page."""
        next_token: str | None = None
        while True:
            page = self.list(user_id, status=status, limit=page_size, next_token=next_token)
            yield from page.device_keys
            if not page.next_token:
                return
            next_token = page.next_token

    def count(self, user_id: str, *, status: str | None = None) -> int:
        """How many device keys the user has (all pages)."""
        return sum(1 for _ in self.iter_device_keys(user_id, status=status))

    def update(
        self,
        user_id: str,
        key_id: str,
        *,
        display_name: str | None = _UNSET,
        custom_data: dict[str, Any] | None = _UNSET,
    ) -> DeviceKey:
        """Rename and/or enrich a device key; None clears a field, ``custom_data`` is replaced whole."""
        changes = {
            name: value
            for name, value in (("display_name", display_name), ("custom_data", custom_data))
            if value is not _UNSET
        }
        if not changes:
            raise ValueError("update needs display_name and/or custom_data")
        return DeviceKey.from_dict(self._call("PATCH", self._keys_path(user_id, key_id), changes))

    def rename(self, user_id: str, key_id: str, display_name: str | None) -> DeviceKey:
        return self.update(user_id, key_id, display_name=display_name)

    def block(self, user_id: str, key_id: str, *, reason: str | None = None) -> DeviceKey:
        """Admin only: the key stays listed but fails verification until unblocked."""
        body = {"reason": reason} if reason is not None else {}
        return DeviceKey.from_dict(self._call("POST", self._keys_path(user_id, key_id, "block"), body))

    def unblock(self, user_id: str, key_id: str) -> DeviceKey:
        return DeviceKey.from_dict(self._call("POST", self._keys_path(user_id, key_id, "unblock")))

    def delete(self, user_id: str, key_id: str) -> None:
        """Forget a device: the next time it shows up, it is new. A blocked key: administrators only."""
        self._call("DELETE", self._keys_path(user_id, key_id))

    # --- device-bound sessions (DBSC, docs/dbsc.md) ------------------------------------

    def bound_session_registration(self, user_id: str) -> SessionRegistration:
        """The ``Secure-Session-Registration`` header for the user this client's token signed in.

        An app's backend calls it right after its own sign-in and adds ``registration.header``
        to that response; the browser registers its session key and gets the bound cookie.
        """
        return SessionRegistration.from_dict(self._call("POST", self._sessions_path(user_id, "registrations"), {}))

    def list_bound_sessions(
        self, user_id: str, *, limit: int | None = None, next_token: str | None = None
    ) -> BoundSessionPage:
        """One page of the user's bound sessions (active and ended, until they expire)."""
        query = {name: value for name, value in (("limit", limit), ("next_token", next_token)) if value}
        return BoundSessionPage.from_dict(self._call("GET", self._sessions_path(user_id), query=query))

    def iter_bound_sessions(self, user_id: str) -> Iterator[BoundSession]:
        """Every bound session of the user, page after page."""
        next_token: str | None = None
        while True:
            page = self.list_bound_sessions(user_id, next_token=next_token)
            yield from page.sessions
            if not page.next_token:
                return
            next_token = page.next_token

    def terminate_bound_session(self, user_id: str, session_id: str, *, reason: str | None = None) -> BoundSession:
        """End a session (a user's sign-out of one browser, an administrator's block): its cookie stops
        working at once and its next refresh fails."""
        body = {"reason": reason} if reason is not None else {}
        return BoundSession.from_dict(self._call("POST", self._sessions_path(user_id, session_id, "terminate"), body))

    # --- proofs and journeys ------------------------------------------------------------

    def make_proof(self, user_id: str, device: DeviceKeyPair, purpose: str, *, audience: str | None = None) -> str:
        """A fresh challenge for ``purpose``, signed by ``device``: a proof to send elsewhere (curl, a backend)."""
        challenge = self.issue_challenge(user_id, purpose).challenge
        return device.proof(challenge=challenge, user_id=user_id, purpose=purpose, audience=audience)

    def start_journey(self, journey: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /v1/journeys/{journey}`` with a body you built; the journey's outcome."""
        outcome = self._call("POST", "/v1/journeys/" + quote(journey, safe=""), body)
        if not isinstance(outcome, dict):
            raise ConnectionFailed(f"{self.base_url} answered a journey with something that is not an outcome")
        return outcome

    def journey(
        self,
        journey: str,
        user_id: str,
        device: DeviceKeyPair | None,
        *,
        display_name: str | None = None,
        custom_data: dict[str, Any] | None = None,
        device_name: str | None = None,
        audience: str | None = None,
    ) -> dict[str, Any]:
        """Run a journey for this device: fetch and sign the challenges it needs, start it, return its outcome.

        ``device`` may be None for a device without a key (``known-device-step-up`` then steps up).
        The user comes from the token, except for the open ``login-registered-device``.
        """
        needs = JOURNEY_NEEDS.get(journey)
        if needs is None:
            raise ValueError(f"unknown journey {journey!r}; known: {', '.join(JOURNEY_NEEDS)}")
        if device is None and (needs.register or (needs.verify and not needs.verify_optional)):
            raise ValueError(f"{journey} needs this device's key: create one with DeviceKeyPair.generate()")
        body: dict[str, Any] = {"user_id": user_id} if needs.names_user else {}
        if needs.verify and device is not None:
            body["proof"] = self.make_proof(user_id, device, "verify", audience=audience)
        registration = {"display_name": display_name, "custom_data": custom_data}
        registration = {name: value for name, value in registration.items() if value is not None}
        if needs.register == "proof" and device is not None:
            body.update(proof=self.make_proof(user_id, device, "register", audience=audience), **registration)
        elif needs.register == "registration" and device is not None:
            body["registration"] = {"proof": self.make_proof(user_id, device, "register", audience=audience)}
            body["registration"].update(registration)
        if needs.device_name:
            if not device_name:
                raise ValueError(f"{journey} needs the new name (device_name)")
            body["client_data"] = {"device_name": device_name}
        return self.start_journey(journey, body)

    # --- transport ------------------------------------------------------------------

    @staticmethod
    def _keys_path(user_id: str, *parts: str) -> str:
        if not user_id:
            raise ValueError("user_id is required (or 'me' with a token)")
        segments = ["v1", "users", user_id, "device-keys", *parts]
        return "/" + "/".join(quote(segment, safe="") for segment in segments)

    @staticmethod
    def _sessions_path(user_id: str, *parts: str) -> str:
        if not user_id:
            raise ValueError("user_id is required (or 'me' with a token)")
        segments = ["v1", "users", user_id, "bound-sessions", *parts]
        return "/" + "/".join(quote(segment, safe="") for segment in segments)

    def _call(self, method: str, path: str, body: Any = None, *, query: dict[str, Any] | None = None) -> Any:
        url = self.base_url + path + (f"?{urlencode(query)}" if query else "")
        headers = {"accept": "application/json", "user-agent": USER_AGENT}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["content-type"] = "application/json"
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - http(s) only
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = response.read()
        except urllib.error.HTTPError as error:
            challenge = error.headers.get("www-authenticate") if error.headers else None
            raise error_from_response(error.code, _json_or_none(error.read()), challenge) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise ConnectionFailed(f"cannot reach {self.base_url}: {reason}") from None
        if not payload:
            return None
        document = _json_or_none(payload)
        if document is None:
            raise ConnectionFailed(f"{self.base_url} answered with something that is not JSON")
        return document


def _json_or_none(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return None


__all__ = ["JOURNEY_NEEDS", "SELF", "DeviceKeysClient", "DeviceKeysError"]
