"""Who may act on whose device keys.

The HTTP API's JWT authorizer authenticates; these checks decide, again, inside the function:
a path's ``{user_id}`` is never trusted on its own.

Callers come in four kinds:

- ``user``: a token without the admin scope; manages its own keys only;
- ``admin``: a token with the admin scope, or a direct invocation that names an admin actor;
  manages anyone's keys and alone may unblock a key or remove a blocked one;
- ``system``: a direct invocation (IAM, Step Functions) that names no actor. IAM decided it may
  call the function, so it may name the user it acts for and may block (a restriction), but it
  is not an administrator: the journeys that run for a user can never undo a block;
- ``anonymous``: no token, on the open routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import Forbidden, InvalidRequest
from .inputs import SELF, check_user_id

USER, ADMIN, SYSTEM_KIND, ANONYMOUS_KIND = "user", "admin", "system", "anonymous"
MAX_SUBJECT = 256


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal behind a request: its kind and, for people, its subject (a token's ``sub``)."""

    kind: str
    subject: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.kind == ADMIN

    def to_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "subject": self.subject}


ANONYMOUS = Caller(ANONYMOUS_KIND)
SYSTEM = Caller(SYSTEM_KIND)


def token_caller(subject: object, scopes: frozenset[str], admin_scope: str) -> Caller:
    """The caller a validated access token stands for; ANONYMOUS without a usable ``sub``."""
    if not isinstance(subject, str) or not subject:
        return ANONYMOUS
    return Caller(ADMIN if admin_scope in scopes else USER, subject)


def granted_scopes(gateway_scopes: object, claims: Mapping[str, object]) -> frozenset[str]:
    """The scopes a token grants, as the HTTP API's authorizer reads them.

    API Gateway parses the token's ``scope`` (or ``scp``) claim into the event's ``scopes`` list;
    when it did, that list is the answer. Otherwise ``scope`` is a space-delimited string
    (RFC 6749 section 3.3, RFC 9068) or a list. Only whole elements count: no splitting on
    commas, no stripping of brackets (a flattened list claim reads ``[a b]``, which is no scope).
    """
    if isinstance(gateway_scopes, list):
        return frozenset(scope for scope in gateway_scopes if isinstance(scope, str))
    scopes: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            scopes.update(value.split(" "))
        elif isinstance(value, list):
            scopes.update(item for item in value if isinstance(item, str))
    scopes.discard("")
    return frozenset(scopes)


def direct_caller(actor: object) -> Caller:
    """The caller of a direct invocation: SYSTEM, or the ``actor`` its document names.

    IAM vouches for a direct invocation the way the authorizer vouches for a token, so an
    ``actor`` (``{"kind": "admin" | "user", "subject": "..."}``) is taken as stated: grant
    ``lambda:InvokeFunction`` accordingly. No journey of this project names one.
    """
    if actor is None:
        return SYSTEM
    if (
        not isinstance(actor, Mapping)
        or set(actor) - {"kind", "subject"}
        or actor.get("kind") not in (USER, ADMIN)
        or not isinstance(actor.get("subject"), str)
        or not 0 < len(actor["subject"]) <= MAX_SUBJECT
    ):
        raise InvalidRequest('actor must be {"kind": "admin" or "user", "subject": "<1 to 256 characters>"}')
    return Caller(str(actor["kind"]), str(actor["subject"]))


def resolve_user(caller: Caller, user_id: str) -> str:
    """The user a request names: ``me`` is the caller's own ``sub``."""
    if user_id == SELF:
        if caller.subject is None or caller.kind not in (USER, ADMIN):
            raise Forbidden("'me' needs an authenticated caller")
        return caller.subject
    return check_user_id(user_id)


def authorize_owner(caller: Caller, user_id: str) -> str:
    """Resolve ``user_id`` and allow the user themself, an admin, or the system acting for them."""
    target = resolve_user(caller, user_id)
    if caller.kind in (ADMIN, SYSTEM_KIND) or (caller.kind == USER and caller.subject == target):
        return target
    if caller.kind == ANONYMOUS_KIND:
        raise Forbidden("this operation needs an authenticated caller")
    raise Forbidden("you may only manage your own device keys")


def authorize_block(caller: Caller, user_id: str) -> str:
    """Blocking restricts a key: admins, and the system (a fraud signal in a journey), may."""
    target = resolve_user(caller, user_id)
    if caller.kind not in (ADMIN, SYSTEM_KIND):
        raise Forbidden("blocking a device key needs the admin scope")
    return target


def authorize_admin(caller: Caller, user_id: str) -> str:
    """Resolve ``user_id`` and allow administrators only (unblocking makes a key usable again)."""
    target = resolve_user(caller, user_id)
    if not caller.is_admin:
        raise Forbidden("this operation needs an administrator (the admin scope)")
    return target


def authorize_self(caller: Caller, user_id: str) -> str:
    """Resolve ``user_id`` and allow only the user themself, or the system acting for them.

    Starting a bound session is signing in: an administrator manages anyone's sessions but opens
    none for someone else.
    """
    target = resolve_user(caller, user_id)
    if caller.kind == SYSTEM_KIND or (caller.kind in (USER, ADMIN) and caller.subject == target):
        return target
    if caller.kind == ANONYMOUS_KIND:
        raise Forbidden("this operation needs an authenticated caller")
    raise Forbidden("a bound session is started for the signed-in user only")
