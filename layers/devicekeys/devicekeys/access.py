"""Who may act on whose device keys (DESIGN.md section 2).

The HTTP API's JWT authorizer authenticates; these checks decide, again, inside the function:
a path's ``{user_id}`` is never trusted on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Forbidden
from .inputs import SELF, check_user_id


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated principal behind a request.

    ``subject`` is the token's ``sub`` (None without a token); ``is_admin`` means the token
    carries the admin scope. Direct invocations (IAM, Step Functions) act as ``SYSTEM``.
    """

    subject: str | None
    is_admin: bool = False


ANONYMOUS = Caller(subject=None)
SYSTEM = Caller(subject=None, is_admin=True)


def resolve_user(caller: Caller, user_id: str) -> str:
    """The user a request names: ``me`` is the caller's own ``sub``."""
    if user_id == SELF:
        if caller.subject is None:
            raise Forbidden("'me' needs an authenticated caller")
        return caller.subject
    return check_user_id(user_id)


def authorize_owner(caller: Caller, user_id: str) -> str:
    """Resolve ``user_id`` and allow the user themself or an admin; anyone else is forbidden."""
    target = resolve_user(caller, user_id)
    if caller.is_admin or (caller.subject is not None and caller.subject == target):
        return target
    if caller.subject is None:
        raise Forbidden("this operation needs an authenticated caller")
    raise Forbidden("you may only manage your own device keys")


def authorize_admin(caller: Caller, user_id: str) -> str:
    """Resolve ``user_id`` and allow admins only (blocking and unblocking)."""
    target = resolve_user(caller, user_id)
    if not caller.is_admin:
        raise Forbidden("this operation needs the admin scope")
    return target
