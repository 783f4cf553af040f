"""KMS for the local API: the bound-session credentials' signing key, in moto.

Bound sessions sign their credentials with an asymmetric KMS key (``DbscSigningKey`` in the
template). Locally that key lives in moto's KMS, served by the embedded moto server (or one of
its own when DynamoDB is elsewhere), and the functions reach it at ``KMS_ENDPOINT``. moto signs
and gives public keys as KMS does (a real ECC_NIST_P256 key, DER signatures, SubjectPublicKeyInfo),
so the credentials are verified exactly as on AWS. The functions name the key by an alias, fixed
before the key exists (their environment is resolved first); the key is new on every start.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

SIGNING_KEY = "DbscSigningKey"  # the template resource
SIGNING_KEY_ALIAS = "alias/devicekeys-local-dbsc"


class LocalKms:
    """moto's KMS at an endpoint: the embedded DynamoDB's server, or a server of its own."""

    def __init__(self, endpoint: str | None = None) -> None:
        self._server: Any = None
        self.endpoint = endpoint or ""

    def start(self) -> str:
        if not self.endpoint:
            from moto.server import ThreadedMotoServer  # noqa: PLC0415 - only when DynamoDB is not moto's

            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.endpoint = f"http://{host}:{port}"
        return self.endpoint

    def create_signing_key(self, region: str) -> str:
        """An ECC_NIST_P256 signing key under ``SIGNING_KEY_ALIAS``; returns its key id."""
        import boto3  # noqa: PLC0415

        kms = boto3.client("kms", endpoint_url=self.endpoint, region_name=region)
        key_id = str(kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"])
        with contextlib.suppress(kms.exceptions.NotFoundException):
            kms.delete_alias(AliasName=SIGNING_KEY_ALIAS)
        kms.create_alias(AliasName=SIGNING_KEY_ALIAS, TargetKeyId=key_id)
        return key_id

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
