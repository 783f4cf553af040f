"""Device Bound Session Credentials (W3C webappsec-dbsc) on the wire: header names, values, instructions.

What a browser and this service exchange, in one place, so no handler spells a header itself:

- the app's response carries ``Secure-Session-Registration: (ES256 RS256);path=...;challenge=...;
  authorization=...`` (a structured-field list, RFC 8941);
- the browser posts its JWT in ``Secure-Session-Response`` (``Sec-Session-Response`` in older
  Chrome builds: accepted too) and names the session in ``Sec-Secure-Session-Id`` (``Sec-Session-Id``);
- a refresh is asked to sign a challenge with ``Secure-Session-Challenge: "<challenge>";id="<session>"``;
- registration and refresh answer the session instructions JSON and set the bound cookie.

Only the current names are sent; both generations are read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REGISTRATION_HEADER = "Secure-Session-Registration"
CHALLENGE_HEADER = "Secure-Session-Challenge"
RESPONSE_HEADERS = ("secure-session-response", "sec-session-response")  # current, then older Chrome
SESSION_ID_HEADERS = ("sec-secure-session-id", "sec-session-id")
ALGORITHMS = ("ES256", "RS256")  # what the registration offers, and all a session key may use
REGISTRATION_PATH = "/dbsc/register"
REFRESH_PATH = "/dbsc/refresh"
COOKIE_ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Lax"
MAX_HEADER_VALUE = 8192
# RFC 8941 sf-string: printable ASCII; '"' and '\' are escaped.
_SF_STRING_CHARACTERS = re.compile(r"[\x20-\x7e]*")
_QUOTED = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_ORIGIN = re.compile(
    r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?|http://(?:localhost|127\.0\.0\.1|\[::1\])(?::[0-9]{1,5})?"
)


def sf_string(value: str) -> str:
    """``value`` as an RFC 8941 string (quoted, ``"`` and ``\\`` escaped); ValueError for other characters."""
    if not _SF_STRING_CHARACTERS.fullmatch(value):
        raise ValueError("a structured-field string holds printable ASCII only")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def registration_header(*, challenge: str, authorization: str, path: str = REGISTRATION_PATH) -> str:
    """The ``Secure-Session-Registration`` value that starts a bound session at ``path``."""
    algorithms = " ".join(ALGORITHMS)
    return (
        f"({algorithms});path={sf_string(path)};challenge={sf_string(challenge)};"
        f"authorization={sf_string(authorization)}"
    )


def challenge_header(*, challenge: str, session_id: str) -> str:
    """The ``Secure-Session-Challenge`` value a refresh must sign before it gets a credential."""
    return f"{sf_string(challenge)};id={sf_string(session_id)}"


def header(headers: Mapping[str, str] | None, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` (lowercase, as API Gateway's payload 2.0 has them) with a value, else None."""
    for name in names:
        value = (headers or {}).get(name)
        if value:
            return value
    return None


def session_id_value(raw: str) -> str:
    """The session id a ``Sec-Secure-Session-Id`` header names: a bare token, or an sf-string.

    Raises:
        ValueError: neither (a value no browser sends).
    """
    value = raw.strip()
    quoted = _QUOTED.fullmatch(value)
    if quoted:
        return re.sub(r"\\(.)", r"\1", quoted.group(1))
    if not value or '"' in value or "," in value or ";" in value or len(value) > MAX_HEADER_VALUE:
        raise ValueError("not a session id")
    return value


def checked_origin(origin: str | None, expected: str | None) -> str:
    """The origin the session's scope names: the browser's ``Origin``, which must be the deployment's when set.

    An https origin, or http on a loopback name (browsers keep DBSC off plain http elsewhere).

    Raises:
        ValueError: no usable origin, or another one than ``expected``.
    """
    value = origin or expected
    if not value or not _ORIGIN.fullmatch(value):
        raise ValueError("the request has no https Origin for the session's scope")
    if expected and value != expected:
        raise ValueError("bound sessions are for the app's own origin only")
    return value


@dataclass(frozen=True, slots=True)
class BoundCookie:
    """The short-lived cookie a registration or refresh sets: its name, value and lifetime."""

    name: str
    value: str
    max_age: int

    def set_cookie(self) -> str:
        """The ``Set-Cookie`` line (``__Host-`` names need exactly these attributes)."""
        return f"{self.name}={self.value}; Max-Age={self.max_age}; {COOKIE_ATTRIBUTES}"


def cleared_cookie(name: str) -> str:
    """A ``Set-Cookie`` line that removes the bound cookie (a logout)."""
    return f"{name}=; Max-Age=0; {COOKIE_ATTRIBUTES}"


def session_instructions(*, session_id: str, origin: str, cookie_name: str) -> dict[str, Any]:
    """The session instructions JSON the browser keeps: which cookie to keep fresh, where, for whom.

    Origin-scoped (``include_site`` false) and every path of it: the cookie is host-only
    (``__Host-``), so the session covers exactly the origin that registered it.
    """
    return {
        "session_identifier": session_id,
        "refresh_url": REFRESH_PATH,
        "scope": {"origin": origin, "include_site": False, "scope_specification": []},
        "credentials": [{"type": "cookie", "name": cookie_name, "attributes": COOKIE_ATTRIBUTES}],
    }


def cookie_value(cookies: list[str] | None, name: str) -> str | None:
    """The value of cookie ``name`` among a request's cookies (``name=value`` items), or None."""
    for item in cookies or []:
        key, separator, value = item.strip().partition("=")
        if separator and key == name:
            return value
    return None
