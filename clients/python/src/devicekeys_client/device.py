"""A device's key pair and the proofs it signs (docs/protocol.md, section 2).

The private key never leaves this object except to a file only its owner can read.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey, OKPKey, RSAKey

PROOF_TYPE = "dk+jwt"
ALGORITHMS = ("ES256", "ES384", "Ed25519", "EdDSA", "RS256", "PS256")


def _generate(alg: str, rsa_bits: int) -> Any:
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    if alg == "ES384":
        return ECKey.generate_key("P-384", private=True)
    if alg in ("Ed25519", "EdDSA"):
        return OKPKey.generate_key("Ed25519", private=True)
    if alg in ("RS256", "PS256"):
        return RSAKey.generate_key(rsa_bits, private=True)
    raise ValueError(f"unsupported algorithm {alg!r}; choose one of {', '.join(ALGORITHMS)}")


_KEY_TYPES: dict[str, Any] = {"EC": ECKey, "OKP": OKPKey, "RSA": RSAKey}


def _import(jwk: dict[str, Any]) -> Any:
    return _KEY_TYPES[jwk["kty"]].import_key(jwk)


@dataclass
class DeviceKeyPair:
    """A device key: generate it once, keep it in a private file, sign challenges with it."""

    alg: str
    key: Any

    @classmethod
    def generate(cls, alg: str = "ES256", *, rsa_bits: int = 2048) -> DeviceKeyPair:
        return cls(alg=alg, key=_generate(alg, rsa_bits))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DeviceKeyPair:
        """Read a key file written by ``save`` (``~`` is the home directory)."""
        data = json.loads(Path(path).expanduser().read_text())
        return cls(alg=data["alg"], key=_import(data["jwk"]))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the private key to ``path`` (``~`` is the home directory), readable by its owner only (0600)."""
        target = Path(path).expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"alg": self.alg, "jwk": self.key.as_dict(private=True)}, handle)
        os.chmod(target, 0o600)

    @property
    def public_jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=False))

    @property
    def key_id(self) -> str:
        """RFC 7638 SHA-256 thumbprint: the ``key_id`` the service will give this key."""
        return str(self.key.thumbprint())

    def proof(
        self,
        *,
        challenge: str,
        user_id: str,
        purpose: str,
        audience: str | None = None,
        issued_at: int | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        """Sign a challenge. A register proof carries the public ``jwk``, a verify proof the ``kid``.

        ``header`` and ``claims`` add or override members (for tests of what the service refuses).
        """
        protected: dict[str, Any] = {"typ": PROOF_TYPE, "alg": self.alg}
        if purpose == "register":
            protected["jwk"] = self.public_jwk
        else:
            protected["kid"] = self.key_id
        protected.update(header or {})
        payload: dict[str, Any] = {
            "challenge": challenge,
            "sub": user_id,
            "purpose": purpose,
            "iat": int(time.time()) if issued_at is None else issued_at,
        }
        if audience is not None:
            payload["aud"] = audience
        payload.update(claims or {})
        return jws.serialize_compact(
            protected, json.dumps(payload, separators=(",", ":")), self.key, algorithms=[protected["alg"]]
        )
