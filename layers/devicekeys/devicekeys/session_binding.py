"""Device-bound web sessions (DBSC): registration and refresh, each driven by the browser's signed JWT.

- **start** (``devicekeys.session_registrations``): an app asks for a registration for the user it
  signed in and passes its header to the browser;
- **register**: the browser posts a JWT signed by its new session key. Everything the JWT can
  fail on its own comes first (structure, ``typ``, ES256/RS256, the key in ``jwk`` held to the
  canonical encodings of ``devicekeys.keys``, the signature by that key, a challenge-shaped
  ``jti``, an ``authorization``); then the registration is used up, conditional on the
  authorization code issued with the challenge (it names the user); then the session is stored
  and its first credential signed. DynamoDB: 2 requests (DeleteItem, PutItem); KMS: 1 Sign;
- **refresh**, leg 1: the browser names its session; one UpdateItem stores a challenge on it,
  answered as 403 ``challenge_required`` with ``Secure-Session-Challenge``;
- **refresh**, leg 2: the JWT's shape first; then one UpdateItem consumes that challenge and
  returns the session's key; the signature must be that key's, with its pinned algorithm;
  then one KMS Sign. Both legs: 2 DynamoDB requests and 1 signing operation.

Refresh consumes before it checks the signature: the key lives on the session item, and reading
it first would be a third request on a path the browser holds the user's request for. That gives
an attacker nothing: a refresh challenge goes only to whoever asked for it, and the browser,
whose older challenge is then stale, is handed a fresh one (403), never an answer that ends
its session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .bound_credentials import CredentialIssuer
from .bound_sessions import BoundSession, BoundSessionStore
from .dbsc_proofs import read_dbsc_proof, signature_is_valid
from .dbsc_protocol import (
    CHALLENGE_HEADER,
    BoundCookie,
    challenge_header,
    checked_origin,
    session_id_value,
    session_instructions,
)
from .errors import ChallengeRequired, Forbidden, InvalidProof, InvalidRequest
from .keys import load_public_key
from .session_registrations import SessionRegistrations
from .session_settings import SessionSettings


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """What a successful registration or refresh answers: the instructions JSON and the bound cookie."""

    session: BoundSession
    instructions: dict[str, Any]
    cookie: BoundCookie

    def response_headers(self) -> dict[str, str]:
        """Set the bound cookie; never cache an answer that carries a credential."""
        return {"Set-Cookie": self.cookie.set_cookie(), "Cache-Control": "no-store"}


class SessionBinding:
    """The DBSC endpoints' domain: the only part of bound sessions that verifies browser signatures."""

    def __init__(
        self,
        store: BoundSessionStore,
        registrations: SessionRegistrations,
        issuer: CredentialIssuer,
        settings: SessionSettings,
    ) -> None:
        self._store = store
        self._registrations = registrations
        self._issuer = issuer
        self._settings = settings

    def register(self, response: str | None, *, origin: str | None, user_agent: str | None) -> SessionGrant:
        """Start a bound session from the browser's registration JWT.

        Args:
            response: the ``Secure-Session-Response`` header.
            origin: the request's ``Origin``: the session's scope.
            user_agent: the browser's ``User-Agent``, shown in the console.

        Raises:
            InvalidRequest: no ``Secure-Session-Response``.
            InvalidProof: not a ``dbsc+jwt`` of ES256 or RS256, no ``jwk``, not signed by it, no
                ``authorization``.
            UnsupportedKey: a ``jwk`` outside the accepted keys (devicekeys.keys).
            Forbidden: no https ``Origin``, or not the deployment's.
            ChallengeNotFound: unknown or used registration, or another authorization code.
            ChallengeExpired: the registration outlived its lifetime.
            ServiceUnavailable: DynamoDB or KMS throttled.
        """
        proof = read_dbsc_proof(_required(response))
        if "jwk" not in proof.header:
            raise InvalidProof("a registration carries the new session key in its jwk header")
        key = load_public_key(proof.jwk, proof.alg)
        if not signature_is_valid(proof, key):
            raise InvalidProof("the registration is not signed by the key in its jwk header")
        if proof.authorization is None:
            raise InvalidProof("a registration carries the authorization its header gave")
        scope = self._origin(origin)
        user_id = self._registrations.consume(proof.challenge, proof.authorization)
        session = self._store.create(user_id, key, user_agent=user_agent)
        return self._grant(session, scope)

    def challenge(self, session_header: str | None) -> ChallengeRequired:
        """Refresh leg 1: the challenge the browser must sign, as the error that carries it.

        Args:
            session_header: the ``Sec-Secure-Session-Id`` header.

        Raises:
            InvalidRequest: no session id header, or not one.
            SessionNotFound: unknown, ended or expired: the browser ends the session.
            ServiceUnavailable: the store throttled.
        """
        session_id = _session_id(session_header)
        challenge = self._store.issue_challenge(session_id)
        return ChallengeRequired(
            "sign this challenge with the session key",
            headers={CHALLENGE_HEADER: challenge_header(challenge=challenge, session_id=session_id)},
        )

    def refresh(self, session_header: str | None, response: str, *, origin: str | None) -> SessionGrant:
        """Refresh leg 2: a fresh credential for the key holder.

        Raises:
            InvalidRequest: no session id header, or not one.
            InvalidProof: not a ``dbsc+jwt`` of ES256 or RS256, or not signed by the session's key
                with its algorithm.
            Forbidden: no https ``Origin``, or not the deployment's.
            SessionNotFound: unknown, ended or expired.
            ChallengeRequired: a stale challenge; the error carries a fresh one.
            ServiceUnavailable: DynamoDB or KMS throttled.
        """
        session_id = _session_id(session_header)
        proof = read_dbsc_proof(response)
        scope = self._origin(origin)
        consumed = self._store.consume_challenge(session_id, proof.challenge)
        if not signature_is_valid(proof, consumed.public_key):
            raise InvalidProof("the refresh is not signed by this session's key")
        return self._grant(consumed.session, scope)

    def _grant(self, session: BoundSession, origin: str) -> SessionGrant:
        lifetime = self._settings.credential_seconds
        credential = self._issuer.issue(session.user_id, session.session_id, lifetime=lifetime)
        return SessionGrant(
            session=session,
            instructions=session_instructions(
                session_id=session.session_id, origin=origin, cookie_name=self._settings.cookie_name
            ),
            cookie=BoundCookie(self._settings.cookie_name, credential, lifetime),
        )

    def _origin(self, origin: str | None) -> str:
        try:
            return checked_origin(origin, self._settings.origin)
        except ValueError as exc:
            raise Forbidden(str(exc)) from exc


def _required(response: str | None) -> str:
    if not response:
        raise InvalidRequest("the request has no Secure-Session-Response header")
    return response


def _session_id(session_header: str | None) -> str:
    if not session_header:
        raise InvalidRequest("the request has no Sec-Secure-Session-Id header")
    try:
        return session_id_value(session_header)
    except ValueError as exc:
        raise InvalidRequest("Sec-Secure-Session-Id is not a session id") from exc
