"""Strict base64url (RFC 4648 section 5, no padding), as JOSE uses it."""

from __future__ import annotations

import base64
import re

_ALPHABET = re.compile(rb"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str | bytes) -> bytes:
    """Decode unpadded base64url; raises ValueError on any other character or a bad length."""
    raw = value.encode("ascii", "replace") if isinstance(value, str) else value
    if not _ALPHABET.fullmatch(raw) or len(raw) % 4 == 1:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
