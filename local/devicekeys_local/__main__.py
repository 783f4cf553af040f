"""``python -m devicekeys_local``: run the API locally, mint development tokens, prepare ``sam local``.

Each command's one-line help is in ``build_parser``; ``--help`` lists them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
from collections.abc import Sequence
from pathlib import Path

from .environment import LOCAL_TABLE_PREFIX, SAM_LOCAL_DYNAMODB_ENDPOINT, local_table_names, sam_local_env_vars
from .event_stream import DEFAULT_TTL_SWEEP_SECONDS
from .events import ADMIN_SCOPE
from .issuer import MAX_TOKEN_LIFETIME
from .template import ROOT

DEFAULT_URL = "http://127.0.0.1:3000"


def _lifetime(text: str) -> int:
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < seconds <= MAX_TOKEN_LIFETIME:
        raise argparse.ArgumentTypeError(f"a token lives 1 to {MAX_TOKEN_LIFETIME} seconds, not {seconds}")
    return seconds


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 seconds, got {text!r}")
    return seconds


def _parameter(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected Name=Value, got {text!r}")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devicekeys_local",
        description="Run devicekeys on this machine, without Docker (scripts/serve runs the first command).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the whole API with an embedded DynamoDB (Ctrl-C stops it)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=3000, help="port to listen on (default: %(default)s; 0 picks one)")
    serve.add_argument(
        "--dynamodb-endpoint",
        metavar="URL",
        help="use this DynamoDB (e.g. DynamoDB Local at http://127.0.0.1:8000) instead of the embedded one; "
        "missing tables are created",
    )
    serve.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="keep the development issuer key and the embedded tables here, across restarts",
    )
    serve.add_argument(
        "--parameter-overrides",
        nargs="+",
        type=_parameter,
        default=[],
        metavar="Name=Value",
        help="template parameters, as for sam (e.g. ChallengeTtlSeconds=30 MaxDevicesPerUser=3)",
    )
    serve.add_argument("--table-prefix", default=LOCAL_TABLE_PREFIX, help="table names (default: %(default)s)")
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name requests may be addressed to besides loopback ones (repeatable); others are refused, "
        "so a web page cannot reach the API by DNS rebinding",
    )
    serve.add_argument(
        "--https",
        action="store_true",
        help="serve over HTTPS with a self-signed certificate (kept in --state-dir, else temporary), and print "
        "the Chromium flags that trust it: device-bound sessions need a secure origin (docs/dbsc.md)",
    )
    serve.add_argument(
        "--ttl-sweep-seconds",
        type=_positive_seconds,
        default=DEFAULT_TTL_SWEEP_SECONDS,
        metavar="SECONDS",
        help="how often expired items are removed, as DynamoDB's TTL does (default: %(default)g)",
    )

    token = commands.add_parser("token", help="print an access token for --sub (from a running local API)")
    token.add_argument("--sub", required=True, help="the user the token is for")
    token.add_argument("--admin", action="store_true", help=f"add the {ADMIN_SCOPE} scope")
    token.add_argument("--scope", action="append", default=[], help="add a scope (repeatable)")
    token.add_argument(
        "--expires-in",
        type=_lifetime,
        default=3600,
        metavar="SECONDS",
        help=f"lifetime, 1 to {MAX_TOKEN_LIFETIME} (default: %(default)s)",
    )
    token.add_argument(
        "--url",
        default=os.environ.get("DEVICEKEYS_URL", DEFAULT_URL),
        help=f"the local API (default: $DEVICEKEYS_URL, else {DEFAULT_URL})",
    )

    env_json = commands.add_parser("env-json", help="write the --env-vars file for sam local start-api")
    env_json.add_argument("--output", type=Path, default=ROOT / "local" / "env.json", help="default: local/env.json")
    env_json.add_argument(
        "--dynamodb-endpoint",
        default=SAM_LOCAL_DYNAMODB_ENDPOINT,
        metavar="URL",
        help="where the functions in sam's containers reach DynamoDB Local (default: %(default)s)",
    )
    env_json.add_argument("--table-prefix", default=LOCAL_TABLE_PREFIX, help="table names (default: %(default)s)")

    commands.add_parser(
        "lint-asl", help="check the state machine definitions (sam validate --lint skips DefinitionUri files)"
    )

    tables = commands.add_parser("create-tables", help="create the template's tables where they are missing")
    tables.add_argument("--dynamodb-endpoint", required=True, metavar="URL", help="e.g. http://127.0.0.1:8000")
    tables.add_argument("--table-prefix", default=LOCAL_TABLE_PREFIX, help="table names (default: %(default)s)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from .server import ServeOptions, serve  # noqa: PLC0415 - moto and the functions: serve alone needs them

        return serve(
            ServeOptions(
                host=args.host,
                port=args.port,
                dynamodb_endpoint=args.dynamodb_endpoint,
                state_dir=args.state_dir,
                parameter_overrides=dict(args.parameter_overrides),
                table_prefix=args.table_prefix,
                allowed_hosts=tuple(args.allowed_host),
                ttl_sweep_seconds=args.ttl_sweep_seconds,
                https=args.https,
            )
        )
    if args.command == "token":
        return _token(args)
    if args.command == "env-json":
        document = sam_local_env_vars(args.table_prefix, args.dynamodb_endpoint)
        args.output.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.output}")
        return 0
    if args.command == "lint-asl":
        return _lint_state_machines()
    return _create_tables(args)


def _lint_state_machines() -> int:
    from .asl import problems  # noqa: PLC0415
    from .template import resources  # noqa: PLC0415

    found = 0
    for name, resource in sorted(resources("AWS::Serverless::StateMachine").items()):
        path = ROOT / resource["Properties"]["DefinitionUri"]
        for problem in problems(json.loads(path.read_text())):
            print(f"{path.relative_to(ROOT)} ({name}): {problem}")
            found += 1
    print(f"{found} problem(s) in the state machine definitions" if found else "state machine definitions: ok")
    return 1 if found else 0


def _token(args: argparse.Namespace) -> int:
    from .issuer import request_token  # noqa: PLC0415 - keeps `token` quick: no moto, no boto3

    scopes = [*args.scope, *([ADMIN_SCOPE] if args.admin else [])]
    try:
        print(request_token(args.url, args.sub, scopes, args.expires_in))
    except urllib.error.HTTPError as error:
        print(f"error: {args.url} refused: {error.code} {error.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as error:
        print(f"error: no local API at {args.url} ({error}); start it with: serve", file=sys.stderr)
        return 1
    return 0


def _create_tables(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto3 for this command alone

    from .dynamodb import TableSet, dynamodb_client  # noqa: PLC0415

    for name, value in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}.items():
        os.environ.setdefault(name, value)
    tables = TableSet(dynamodb_client(args.dynamodb_endpoint), local_table_names(args.table_prefix))
    try:
        created = tables.ensure()
    except (BotoCoreError, ClientError) as error:
        print(f"error: cannot create the tables at {args.dynamodb_endpoint}: {error}", file=sys.stderr)
        print("Is DynamoDB Local running there? (see docs/local.md)", file=sys.stderr)
        return 1
    for logical_id, name in tables.names.items():
        print(f"{logical_id:<17} {name} ({'created' if name in created else 'exists'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
