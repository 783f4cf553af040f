"""``serve --https``: a self-signed certificate for the local API, and how to make Chromium trust it.

Browsers run Device Bound Session Credentials only on secure origins they trust: Chromium
ignores ``--ignore-certificate-errors`` and plain ``http://localhost`` for DBSC, but trusts a
certificate whose public key it is told about with ``--ignore-certificate-errors-spki-list``
(the base64 SHA-256 of its SubjectPublicKeyInfo). So the certificate is made here with
``cryptography`` (an ECDSA P-256 key, for ``localhost``, ``127.0.0.1`` and ``::1``), kept in the
state directory when there is one (the same hash across restarts) or a temporary one otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

CERT_FILE = "tls-cert.pem"
KEY_FILE = "tls-key.pem"
VALIDITY = timedelta(days=30)
RENEW_BEFORE = timedelta(days=1)
DBSC_FEATURES = "DeviceBoundSessions,EnableBoundSessionCredentialsSoftwareKeysForManualTesting"


@dataclass(frozen=True)
class TlsIdentity:
    cert_path: Path
    key_path: Path
    spki_sha256: str  # base64 SHA-256 of the certificate's SubjectPublicKeyInfo

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate alone (for tests and tools on this machine)."""
        return ssl.create_default_context(cafile=str(self.cert_path))

    def chromium_flags(self) -> list[str]:
        """What a Chromium needs to trust this certificate and run DBSC with a software key."""
        return [f"--ignore-certificate-errors-spki-list={self.spki_sha256}", f"--enable-features={DBSC_FEATURES}"]


def load_or_create(state_dir: Path | None) -> TlsIdentity:
    """The certificate in ``state_dir`` (made again when missing or about to expire), or a fresh temporary one."""
    directory = state_dir if state_dir is not None else Path(tempfile.mkdtemp(prefix="devicekeys-tls-"))
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    if not (cert_path.exists() and key_path.exists() and _still_valid(cert_path)):
        _write_self_signed(cert_path, key_path)
    return TlsIdentity(cert_path, key_path, spki_sha256(cert_path))


def spki_sha256(cert_path: Path) -> str:
    from cryptography import x509  # noqa: PLC0415 - serve --https alone needs it
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: PLC0415

    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def _still_valid(cert_path: Path) -> bool:
    from cryptography import x509  # noqa: PLC0415

    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError:
        return False
    return certificate.not_valid_after_utc - RENEW_BEFORE > datetime.now(UTC)


def _write_self_signed(cert_path: Path, key_path: Path) -> None:
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "devicekeys local API")])
    now = datetime.now(UTC)
    names = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        # Its own trust anchor (a client may trust exactly it): a CA that signs only itself.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem_key)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
