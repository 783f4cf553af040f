"""devicekeys: this machine as a device of the devicekeys API, from a shell.

The device key lives in the key file (owner-only permissions, like an SSH key); only proofs
signed with it are sent. Configuration comes from options or the environment:
  DEVICEKEYS_URL       the API's base URL
  DEVICEKEYS_TOKEN     an access token (safer than --token, which the process list shows)
  DEVICEKEYS_KEY_FILE  this device's private key file
  DEVICEKEYS_USER      the user (default: the token's sub)

Exit status: 0 success, 1 the API refused or could not be reached, 2 a usage or local problem.
With --json, results go to stdout and every error, local or from the API, to stderr as JSON.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import stat
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from .client import JOURNEY_NEEDS, DeviceKeysClient
from .device import ALGORITHMS, DeviceKeyPair
from .errors import NOT_KNOWN, DeviceKeysError, Unauthorized
from .models import DeviceKey

DEFAULT_URL = "http://127.0.0.1:3000"


class UsageError(Exception):
    """A problem on this side (missing key file, bad option): exit status 2."""

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": "usage", "message": str(self)}, "status": None, "request_id": None}


def version() -> str:
    try:
        return metadata.version("devicekeys-client")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "unknown"


def default_key_file() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "devicekeys" / "device-key.json"


# --- helpers ------------------------------------------------------------------------------


def load_device(path: Path) -> DeviceKeyPair:
    """The device key, refused (like ssh does) when others may read it."""
    if not path.exists():
        raise UsageError(f"no device key at {path}: create one with 'devicekeys keygen'")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UsageError(f"{path} is readable by others (mode {mode:04o}): run 'chmod 600 {path}'")
    try:
        return DeviceKeyPair.load(path)
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a device key file") from exc


def token_subject(token: str | None) -> str | None:
    """The ``sub`` of a JWT access token, read (not verified) only to fill in the user by default."""
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    return subject if isinstance(subject, str) else None


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "never"


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def _describe(key: DeviceKey) -> str:
    fields = [
        ("key_id", key.key_id),
        ("user_id", key.user_id),
        ("status", key.status),
        ("display_name", key.display_name or "-"),
        ("alg", key.alg),
        ("created_at", _when(key.created_at)),
        ("updated_at", _when(key.updated_at)),
        ("last_verified_at", _when(key.last_verified_at)),
    ]
    if key.is_blocked:
        fields += [("blocked_at", _when(key.blocked_at)), ("blocked_reason", key.blocked_reason or "-")]
    fields.append(("custom_data", json.dumps(key.custom_data) if key.custom_data is not None else "-"))
    return "\n".join(f"{name + ':':<18}{value}" for name, value in fields)


# --- commands -----------------------------------------------------------------------------


class Session:
    """What every command needs: the client, the user, the device key, the output mode."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.key_file = Path(args.key_file).expanduser()
        self.token = args.token or None
        self.client = DeviceKeysClient(args.url, self.token, timeout=args.timeout)
        self._user = args.user or token_subject(self.token)

    @property
    def user(self) -> str:
        if self._user:
            return self._user
        if self.token:
            raise UsageError("the access token is not a JWT with a sub that names the user: pass --user")
        raise UsageError("which user? pass --user (or DEVICEKEYS_USER), or an access token (DEVICEKEYS_TOKEN)")

    def device(self) -> DeviceKeyPair:
        return load_device(self.key_file)

    def key_id(self) -> str:
        """The key the command is about: the one named, else this device's own."""
        return str(self.args.key_id or self.device().key_id)

    def emit(self, document: Any, text: str) -> None:
        print(json.dumps(document, indent=2) if self.args.json else text)


def cmd_keygen(session: Session) -> None:
    path = session.key_file
    if path.exists() and not session.args.force:
        raise UsageError(f"{path} exists; pass --force to replace it (the old key is lost)")
    device = DeviceKeyPair.generate(session.args.alg)
    device.save(path)
    session.emit(
        {"key_id": device.key_id, "alg": device.alg, "key_file": str(path), "public_key": device.public_jwk},
        f"created a device key ({device.alg}) in {path}, readable by you only\nkey_id: {device.key_id}",
    )


def cmd_register(session: Session) -> None:
    custom_data = _json_object(session.args.data) if session.args.data is not None else None
    key = session.client.register(
        session.user, session.device(), display_name=session.args.name, custom_data=custom_data
    )
    session.emit(
        key.to_dict(),
        f"registered {key.key_id} for {key.user_id}" + (f" as {key.display_name!r}" if key.display_name else ""),
    )


def cmd_verify(session: Session) -> None:
    try:
        result = session.client.verify(session.user, session.device())
    except NOT_KNOWN:
        print(f"devicekeys: not a known device of {session.user}", file=sys.stderr)
        raise
    name = f" ({result.device_key.display_name})" if result.device_key.display_name else ""
    session.emit(result.to_dict(), f"known device of {session.user}: {result.key_id}{name}, {result.status}")


def cmd_list(session: Session) -> None:
    keys = list(session.client.iter_device_keys(session.user, status=session.args.status))
    if session.args.json:
        session.emit({"device_keys": [key.to_dict() for key in keys], "count": len(keys)}, "")
        return
    if not keys:
        print(
            f"{session.user} has no device keys"
            + (f" with status {session.args.status}" if session.args.status else "")
        )
        return
    own = _own_key_id(session)
    rows = [
        [
            key.key_id + (" *" if key.key_id == own else ""),
            key.display_name or "-",
            key.status,
            key.alg,
            _when(key.created_at),
            _when(key.last_verified_at),
        ]
        for key in keys
    ]
    print(_table(rows, ["KEY ID", "NAME", "STATUS", "ALG", "CREATED", "LAST VERIFIED"]))
    blocked = sum(1 for key in keys if key.is_blocked)
    summary = f"{len(keys)} device key{'s' if len(keys) != 1 else ''} of {session.user}"
    print(
        summary
        + (f", {blocked} blocked" if blocked else "")
        + (" (* this device)" if own in {k.key_id for k in keys} else "")
    )


def _own_key_id(session: Session) -> str | None:
    try:
        return session.device().key_id
    except UsageError:
        return None


def cmd_get(session: Session) -> None:
    key = session.client.get(session.user, session.key_id())
    session.emit(key.to_dict(), _describe(key))


def cmd_rename(session: Session) -> None:
    key = session.client.rename(session.user, session.key_id(), session.args.name)
    session.emit(key.to_dict(), f"renamed {key.key_id} to {key.display_name!r}")


def cmd_update(session: Session) -> None:
    args = session.args
    changes: dict[str, Any] = {}
    if args.name is not None or args.clear_name:
        changes["display_name"] = None if args.clear_name else args.name
    if args.data is not None or args.clear_data:
        changes["custom_data"] = None if args.clear_data else _json_object(args.data)
    if not changes:
        raise UsageError("nothing to update: pass --name, --data, --clear-name or --clear-data")
    key = session.client.update(session.user, session.key_id(), **changes)
    session.emit(key.to_dict(), f"updated {key.key_id}\n{_describe(key)}")


def cmd_block(session: Session) -> None:
    key = session.client.block(session.user, session.key_id(), reason=session.args.reason)
    session.emit(key.to_dict(), f"blocked {key.key_id} of {key.user_id}")


def cmd_unblock(session: Session) -> None:
    key = session.client.unblock(session.user, session.key_id())
    session.emit(key.to_dict(), f"unblocked {key.key_id} of {key.user_id}")


def cmd_rotate(session: Session) -> None:
    """Give this device a new key pair; the old one is replaced in the key file only once the API agreed."""
    current = session.device()
    new = DeviceKeyPair.generate(session.args.alg or current.alg)
    key = session.client.rotate(session.user, current, new)
    new.save(session.key_file)
    session.emit(key.to_dict(), f"rotated {current.key_id} to {key.key_id} ({key.alg}) for {key.user_id}")


def cmd_count(session: Session) -> None:
    count = session.client.count(session.user, status=session.args.status)
    status = f" {session.args.status}" if session.args.status else ""
    session.emit({"user_id": session.user, "count": count}, f"{session.user} has {count}{status} device key(s)")


def cmd_proof(session: Session) -> None:
    """Print a proof over a fresh challenge, for calling the API with curl."""
    purpose = session.args.purpose
    proof = session.client.make_proof(session.user, session.device(), purpose, audience=session.args.audience)
    session.emit({"proof": proof, "purpose": purpose, "user_id": session.user}, proof)


def cmd_journey(session: Session) -> None:
    args = session.args
    needs = JOURNEY_NEEDS[args.journey]
    device = None if args.no_device else session.device()
    custom_data = _json_object(args.data) if args.data is not None else None
    outcome = session.client.journey(
        args.journey,
        session.user,
        device,
        display_name=None if needs.device_name else args.name,
        custom_data=custom_data,
        device_name=args.name if needs.device_name else None,
        audience=args.audience,
    )
    text = ", ".join(f"{name}: {value}" for name, value in outcome.items() if name != "device_key")
    session.emit(outcome, f"{args.journey}: {text}")


def cmd_delete(session: Session) -> None:
    key_id = session.key_id()
    session.client.delete(session.user, key_id)
    session.emit({"deleted": True, "key_id": key_id}, f"deleted {key_id} of {session.user}")


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--data must be a JSON object: {exc}") from exc
    if not isinstance(value, dict):
        raise UsageError('--data must be a JSON object, like \'{"os": "linux"}\'')
    return value


# --- arguments ----------------------------------------------------------------------------


def _common_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Options every command takes, before or after its name (defaults live on the main parser)."""

    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    group = parser.add_argument_group("connection and identity")
    group.add_argument(
        "--url",
        default=default(os.environ.get("DEVICEKEYS_URL", DEFAULT_URL)),
        help=f"the API's base URL (default: $DEVICEKEYS_URL, else {DEFAULT_URL})",
    )
    group.add_argument(
        "--token",
        default=default(os.environ.get("DEVICEKEYS_TOKEN")),
        help="an access token (default: $DEVICEKEYS_TOKEN, which the process list does not show)",
    )
    group.add_argument(
        "--user",
        default=default(os.environ.get("DEVICEKEYS_USER")),
        help="the user (default: $DEVICEKEYS_USER, else the token's sub)",
    )
    group.add_argument(
        "--key-file",
        default=default(os.environ.get("DEVICEKEYS_KEY_FILE") or str(default_key_file())),
        help=f"this device's private key file (default: $DEVICEKEYS_KEY_FILE, else {default_key_file()})",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print results as JSON on stdout, errors as JSON on stderr (default: text)",
    )
    group.add_argument(
        "--timeout", type=float, default=default(10.0), metavar="SECONDS", help="per request (default: 10)"
    )


COMMANDS: dict[str, tuple[Callable[[Session], None], str]] = {
    "keygen": (cmd_keygen, "create this device's key pair"),
    "register": (cmd_register, "register this device for the user"),
    "verify": (cmd_verify, "is this a known device of the user? (exit 1 if not)"),
    "list": (cmd_list, "list the user's device keys"),
    "count": (cmd_count, "count the user's device keys"),
    "get": (cmd_get, "show one device key (default: this device's)"),
    "rename": (cmd_rename, "set a device key's display name"),
    "update": (cmd_update, "rename and/or enrich a device key with custom data"),
    "block": (cmd_block, "block a device key (admin token)"),
    "unblock": (cmd_unblock, "unblock a device key (admin token)"),
    "delete": (cmd_delete, "forget a device key; the device is new next time (a blocked one: admin token)"),
    "rotate": (cmd_rotate, "replace this device's key pair, keeping its record (name, data, creation time)"),
    "proof": (cmd_proof, "print a proof over a fresh challenge, to call the API with curl"),
    "journey": (cmd_journey, "run a journey with this device's proofs and print its outcome"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devicekeys",
        description=(__doc__ or "").split("\n\n", 1)[0],
        epilog=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    _common_options(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub: dict[str, argparse.ArgumentParser] = {}
    for name, (_, help_text) in COMMANDS.items():
        sub[name] = commands.add_parser(name, help=help_text, description=help_text)
        _common_options(sub[name], defaults=False)
    sub["keygen"].add_argument(
        "--alg", choices=ALGORITHMS, default="ES256", help="the key's algorithm (default: ES256)"
    )
    sub["keygen"].add_argument(
        "--force", action="store_true", help="replace an existing key file (the old key is lost)"
    )
    sub["register"].add_argument("--name", help="a display name, e.g. 'Work laptop' (default: none)")
    sub["register"].add_argument("--data", metavar="JSON", help="custom data, a JSON object (default: none)")
    for name in ("list", "count"):
        sub[name].add_argument(
            "--status", choices=["active", "blocked"], help="only keys with this status (default: all)"
        )
    for name in ("get", "rename", "update", "block", "unblock", "delete"):
        sub[name].add_argument("key_id", nargs="?", help="the device key (default: this device's)")
    sub["rename"].add_argument("--name", required=True, help="the new display name")
    sub["update"].add_argument("--name", help="the new display name")
    sub["update"].add_argument("--clear-name", action="store_true", help="remove the display name")
    sub["update"].add_argument("--data", metavar="JSON", help="custom data, a JSON object (replaces the old)")
    sub["update"].add_argument("--clear-data", action="store_true", help="remove the custom data")
    sub["block"].add_argument("--reason", help="why, kept on the record (default: none)")
    sub["rotate"].add_argument("--alg", choices=ALGORITHMS, help="the new key's algorithm (default: the current key's)")
    sub["proof"].add_argument(
        "--purpose", choices=["verify", "register"], default="verify", help="what the proof is for (default: verify)"
    )
    journey = sub["journey"]
    journey.add_argument("journey", choices=list(JOURNEY_NEEDS), metavar="JOURNEY", help=", ".join(JOURNEY_NEEDS))
    journey.add_argument(
        "--name", help="register-device, single-device-policy: the display name; rename-device: the new name"
    )
    journey.add_argument("--data", metavar="JSON", help="register-device, single-device-policy: custom data")
    journey.add_argument(
        "--no-device", action="store_true", help="act as a device without a key (known-device-step-up)"
    )
    for name in ("proof", "journey"):
        sub[name].add_argument("--audience", help="the proofs' aud, when the deployment sets ProofAudience")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = COMMANDS[args.command][0]
    try:
        handler(Session(args))
    except (UsageError, ValueError) as exc:
        usage = exc if isinstance(exc, UsageError) else UsageError(str(exc))
        _report(args, usage.to_dict(), str(usage))
        return 2
    except DeviceKeysError as exc:
        hint = "pass an access token with DEVICEKEYS_TOKEN (or --token)" if isinstance(exc, Unauthorized) else ""
        _report(args, exc.to_dict(), str(exc), hint)
        return 1
    return 0


def _report(args: argparse.Namespace, document: dict[str, Any], text: str, hint: str = "") -> None:
    """An error on stderr: JSON with --json, else a line (and a hint) a person can act on."""
    if args.json:
        print(json.dumps(document), file=sys.stderr)
        return
    print(f"devicekeys: {text}", file=sys.stderr)
    if hint:
        print(f"devicekeys: {hint}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
