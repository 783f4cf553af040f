"""The local API's DynamoDB: an embedded moto server, or any endpoint (DynamoDB Local, AWS).

The embedded one lives in memory; with a state directory its tables are written to a JSON
snapshot on shutdown and loaded back on start, so data survive a restart.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from .environment import REGION
from .template import create_tables

SNAPSHOT_FILE_NAME = "dynamodb.json"
SNAPSHOT_FORMAT = 1
_BATCH_SIZE = 25


class EmbeddedDynamoDB:
    """moto's DynamoDB served on 127.0.0.1 (a free port) from a thread of this process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - only the embedded DynamoDB needs moto

        # werkzeug logs every request moto serves; the local API prints its own access log.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.endpoint = ""

    def start(self) -> str:
        from .atomic_moto import make_dynamodb_requests_atomic  # noqa: PLC0415 - imports moto

        # DynamoDB applies each request atomically; moto does not unless told to (see atomic_moto).
        make_dynamodb_requests_atomic()
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self.endpoint

    def stop(self) -> None:
        self._server.stop()


def dynamodb_client(endpoint: str | None) -> Any:
    """A boto3 client for ``endpoint`` (None: AWS itself, from the usual credential chain)."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or REGION
    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=10)
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=region, config=config)


class TableSet:
    """The template's tables under their local names, on one DynamoDB endpoint."""

    def __init__(self, client: Any, names: dict[str, str]) -> None:
        self.client = client
        self.names = names

    def ensure(self) -> list[str]:
        """Create the tables that are missing (TTL included); returns the names created."""
        return create_tables(self.client, self.names, skip_existing=True)

    def save_snapshot(self, path: Path) -> int:
        """Write every item of every table to ``path`` (atomically); returns the item count."""
        tables = {}
        count = 0
        for logical_id, name in self.names.items():
            items = [
                item
                for page in self.client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
                for item in page["Items"]
            ]
            tables[logical_id] = {"table_name": name, "items": items}
            count += len(items)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump({"format": SNAPSHOT_FORMAT, "tables": tables}, handle)
        temporary.replace(path)
        return count

    def load_snapshot(self, path: Path) -> int:
        """Put back the items of a snapshot written by ``save_snapshot``; returns the item count."""
        document = json.loads(path.read_text())
        if document.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"{path}: not a snapshot this version can read")
        count = 0
        for logical_id, table in document["tables"].items():
            name = self.names.get(logical_id)
            if name is None:  # a table the template no longer has
                continue
            items = table["items"]
            for start in range(0, len(items), _BATCH_SIZE):
                requests = [{"PutRequest": {"Item": item}} for item in items[start : start + _BATCH_SIZE]]
                pending: dict[str, Any] = {name: requests}
                while pending:
                    pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            count += len(items)
        return count
