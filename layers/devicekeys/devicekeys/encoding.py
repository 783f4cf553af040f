"""Strict base64url (RFC 4648 section 5, no padding), as JOSE uses it.

Strict means one spelling per byte string: no padding, no other alphabet, and no set bits in
the unused low bits of the last character (``AB`` and ``AC`` would both decode to ``00``), so
that identifiers built from encoded values (a key's RFC 7638 thumbprint) cannot be aliased.
"""

from __future__ import annotations

import base64
import re

_ALPHABET = re.compile(rb"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str | bytes) -> bytes:
    """Decode canonical unpadded base64url; raises ValueError for any other spelling."""
    raw = value.encode("ascii", "replace") if isinstance(value, str) else value
    if not _ALPHABET.fullmatch(raw) or len(raw) % 4 == 1:
        raise ValueError("not unpadded base64url")
    decoded = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != raw:
        raise ValueError("not the canonical base64url spelling (unused bits are set)")
    return decoded
