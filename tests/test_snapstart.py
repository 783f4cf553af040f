"""SnapStart: the runtime hooks (devicekeys.snapstart) and the template that turns SnapStart on.

The hooks are called in-process the way Lambda's runtime calls them (awslambdaric's
``lambda_runtime_hooks_runner``: before-snapshot hooks last registered first, after-restore
hooks in order), against a DynamoDB stand-in on loopback that records every connection and
request. "An environment restored from the snapshot" is the process state the before-snapshot
hooks leave, which is what Lambda snapshots, and each restore starts from that same state.
Each test names the protection it guards; without that protection it fails.

The template tests read template.yaml, and translate it with the SAM translator of
``.venv-sam`` (skipped without it) to see what the API, the journeys and the stream invoke.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import logging
import os
import random
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from devicekeys import keys, snapstart
from devicekeys.lambda_api import FunctionRuntime
from devicekeys.settings import Settings
from devicekeys_local.environment import NO_VALUE, Resolver, resolve_parameters
from devicekeys_local.template import ROOT, function_definitions, invoked_function, journey_definitions, load_template

KEY_ID = "A" * 43  # a well-formed thumbprint: the service asks DynamoDB for it
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"


# --- a DynamoDB stand-in on loopback ----------------------------------------------------------


class FakeDynamoDB(ThreadingHTTPServer):
    """Answers every DynamoDB request with ``{}`` (GetItem: no item; PutItem: written), keeping connections open."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.opened = 0
        self.closed: list[int] = []
        self.changed = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def wait_closed(self, count: int, timeout: float = 5) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.closed) >= count, timeout)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a pooled connection stays open until its client closes it
    server: FakeDynamoDB

    def setup(self) -> None:
        super().setup()
        with self.server.changed:
            self.server.opened += 1
            self.connection_number = self.server.opened

    def finish(self) -> None:
        super().finish()
        with self.server.changed:
            self.server.closed.append(self.connection_number)
            self.server.changed.notify_all()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(
            {
                "connection": self.connection_number,
                "operation": self.headers["X-Amz-Target"].rsplit(".", 1)[-1],
                "access_key": self.headers["Authorization"].split("Credential=", 1)[1].split("/", 1)[0],
                "token": self.headers.get("X-Amz-Security-Token"),
                "body": body,
            }
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def dynamodb_server() -> Iterator[FakeDynamoDB]:
    server = FakeDynamoDB()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def runtime(dynamodb_server: FakeDynamoDB) -> FunctionRuntime:
    settings = Settings(
        device_keys_table="snapstart-device-keys",
        challenges_table="snapstart-challenges",
        dynamodb_endpoint=dynamodb_server.url,
        challenge_ttl_seconds=120,
    )
    return FunctionRuntime("snapstart_test", settings)


def snapshot() -> None:
    """What Lambda runs before it takes the snapshot (without consuming the registry, as it does)."""
    for func, args, kwargs in reversed(snapstart.HOOKS.get_before_snapshot()):
        func(*args, **kwargs)


def restore() -> None:
    """What Lambda runs in an execution environment it resumed from the snapshot."""
    for func, args, kwargs in snapstart.HOOKS.get_after_restore():
        func(*args, **kwargs)


def connection_of(runtime: FunctionRuntime) -> Any:
    return vars(runtime)["_models"].connection


# --- the hooks ------------------------------------------------------------------------------------


def test_the_hooks_are_registered_once_and_runtimes_are_held_weakly(runtime: FunctionRuntime) -> None:
    """One registration per process, however many runtimes; a runtime nothing uses is not kept alive."""
    assert [func for func, _, _ in snapstart.HOOKS.get_before_snapshot()].count(snapstart.before_snapshot) == 1
    assert [func for func, _, _ in snapstart.HOOKS.get_after_restore()].count(snapstart.after_restore) == 1
    registered = (len(snapstart.HOOKS.get_before_snapshot()), len(snapstart.HOOKS.get_after_restore()))
    assert runtime in snapstart._RUNTIMES

    other = FunctionRuntime("another", runtime.settings)
    gone = weakref.ref(other)
    del other
    gc.collect()
    assert gone() is None
    assert (len(snapstart.HOOKS.get_before_snapshot()), len(snapstart.HOOKS.get_after_restore())) == registered


def test_the_snapshot_holds_no_open_connection_and_a_restored_environment_opens_its_own(
    runtime: FunctionRuntime, dynamodb_server: FakeDynamoDB
) -> None:
    """Guards: the client (its connection pool) is closed before the snapshot, and rebuilt after a restore."""
    assert runtime.device_keys.find("alice", KEY_ID) is None
    connection = connection_of(runtime)
    client, session = connection.client, connection.session
    assert dynamodb_server.opened == 1 and dynamodb_server.closed == []

    snapshot()
    assert dynamodb_server.wait_closed(1), "the pooled socket was carried into the snapshot"
    assert connection._client is None

    restore()
    assert runtime.device_keys.find("alice", KEY_ID) is None
    assert connection.client is not client
    assert connection.session is not session
    assert [request["connection"] for request in dynamodb_server.requests] == [1, 2]


def test_a_restored_environment_signs_with_its_own_credentials(
    runtime: FunctionRuntime, dynamodb_server: FakeDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards: the botocore session (with the credentials it resolved) is not carried past the snapshot."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDATSNAPSHOTTIME")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-of-the-publishing-environment")
    runtime.device_keys.find("alice", KEY_ID)
    snapshot()

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDRESTORED")  # what Lambda gives the restored environment
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-of-the-restored-environment")
    restore()
    runtime.device_keys.find("alice", KEY_ID)

    assert [(r["access_key"], r["token"]) for r in dynamodb_server.requests] == [
        ("AKIDATSNAPSHOTTIME", "token-of-the-publishing-environment"),
        ("AKIDRESTORED", "token-of-the-restored-environment"),
    ]


def test_a_client_made_after_the_warm_up_is_replaced_after_a_restore(
    runtime: FunctionRuntime, dynamodb_server: FakeDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards: the after-restore hook drops clients too (one a later before-snapshot hook might have made)."""
    snapshot()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDATSNAPSHOTTIME")
    connection = connection_of(runtime)
    stale_client = connection.client  # built after our hook ran, so in the snapshot

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDRESTORED")
    restore()
    runtime.device_keys.find("alice", KEY_ID)
    assert connection.client is not stale_client
    assert [r["access_key"] for r in dynamodb_server.requests] == ["AKIDRESTORED"]


def test_environments_restored_from_one_snapshot_draw_different_random_numbers(runtime: FunctionRuntime) -> None:
    """Guards: ``random`` (retry jitter, botocore's backoff) is reseeded after a restore."""
    snapshot()
    state = random.getstate()  # what every environment resumed from this snapshot starts with

    def draws() -> list[float]:
        return [random.random() for _ in range(4)]

    random.setstate(state)
    replayed = draws()
    random.setstate(state)
    assert draws() == replayed  # the danger: without a reseed, every environment replays the same numbers

    environments = []
    for _ in range(2):
        random.setstate(state)
        restore()
        environments.append(draws())
    assert environments[0] != environments[1]
    assert replayed not in environments


def test_log_sampling_is_decided_again_in_each_restored_environment(runtime: FunctionRuntime) -> None:
    """Guards: Powertools' debug sampling (decided once, at init) is decided again after a restore."""
    logger = runtime.logger
    level, rate = logger.log_level, logger.sampling_rate
    logger.sampling_rate = 0.5  # as POWERTOOLS_LOGGER_SAMPLE_RATE=0.5 would
    try:
        snapshot()
        state = random.getstate()
        decisions = set()
        for _ in range(32):
            random.setstate(state)
            restore()
            decisions.add(logger.log_level == logging.DEBUG)
        assert decisions == {True, False}  # not one decision, taken at snapshot time, for all of them
    finally:
        logger.sampling_rate = rate
        logger._logger.setLevel(level)


def _handler_modules() -> list[ModuleType]:
    """Every function of the template, imported afresh under its own name (a cold start each)."""
    modules = []
    for definition in function_definitions():
        source = definition.code_dir / f"{definition.module}.py"
        spec = importlib.util.spec_from_file_location(f"snapstart_probe_{definition.code_dir.name}", source)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    return modules


_OURS = ("devicekeys", "pynamodb", "aws_lambda_powertools", "botocore", "boto3", "snapstart_probe_")


def _looks_like_now(value: Any, now: float) -> bool:
    if isinstance(value, datetime | date):
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return abs(value - now) < 7 * 86400 or abs(value - now * 1000) < 7 * 86400 * 1000  # seconds or ms
    return False


def _members(value: Any) -> list[tuple[str, Any]]:
    """What to look into: containers' items, and the attributes of our (and our libraries') objects and classes."""
    if isinstance(value, str | bytes):
        return []
    if isinstance(value, dict):
        return [(f"[{key!r}]", item) for key, item in list(value.items())]
    if isinstance(value, list | tuple | set | frozenset):
        return [(f"[{index}]", item) for index, item in enumerate(list(value))]
    if isinstance(value, type):  # PynamoDB model classes and their Meta
        return (
            [(f".{name}", item) for name, item in list(vars(value).items())]
            if value.__module__.startswith(_OURS)
            else []
        )
    if not type(value).__module__.startswith(_OURS):
        return []
    attributes = dict(vars(value)) if hasattr(value, "__dict__") else {}
    for slots in (getattr(cls, "__slots__", ()) for cls in type(value).__mro__):
        for name in [slots] if isinstance(slots, str) else slots:
            if hasattr(value, name):
                attributes[name] = getattr(value, name)
    return [(f".{name}", item) for name, item in attributes.items()]


def _times_in(roots: list[Any], now: float) -> list[str]:
    """Paths to values reachable from ``roots`` that look like a time read around ``now``."""
    found: list[str] = []
    seen: set[int] = set()
    pending = [(f"root{index}", root, 0) for index, root in enumerate(roots)]
    while pending:
        path, value, depth = pending.pop()
        if id(value) in seen or depth > 12:
            continue
        seen.add(id(value))
        if _looks_like_now(value, now):
            found.append(path)
        pending.extend((path + suffix, item, depth + 1) for suffix, item in _members(value))
    return found


def test_nothing_in_a_snapshot_is_a_time_and_a_restored_environment_reads_its_clock(
    runtime: FunctionRuntime, dynamodb_server: FakeDynamoDB
) -> None:
    """Guards: no time is read at init and kept (every function's state), the services read the clock per call."""
    modules = _handler_modules()
    snapshot()
    state = [runtime, *(value for module in modules for value in vars(module).values() if not callable(value))]
    assert _times_in(state, time.time()) == []

    restore()
    for service in (runtime.challenges, runtime.device_keys):
        assert service._clock is time.time  # the wall clock at each call, not a value from the snapshot
    before = int(time.time())
    runtime.challenges.issue("alice", purpose="verify")
    (put,) = [r for r in dynamodb_server.requests if r["operation"] == "PutItem"]
    assert before + 120 <= int(put["body"]["Item"]["expires_at"]["N"]) <= int(time.time()) + 120


def test_the_warm_up_uses_no_network_and_leaves_the_service_data_parsed(
    runtime: FunctionRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards: warming builds no client and opens no connection, and later sessions find the data parsed."""

    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the warm-up tried to reach the network")

    def no_client(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the warm-up built a client: credentials and an SSL context would be snapshotted")

    with monkeypatch.context() as offline:
        offline.setattr(socket.socket, "connect", no_network)
        offline.setattr(socket, "create_connection", no_network)
        offline.setattr(socket, "getaddrinfo", no_network)
        offline.setattr(botocore.session.Session, "create_client", no_client)
        offline.setattr(ssl.SSLContext, "__new__", no_client)  # OpenSSL draws random bytes for a context
        snapshot()
    assert connection_of(runtime)._client is None
    assert keys._validated.cache_info().currsize == 0  # the warm-up's throwaway key is not kept

    def no_file(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("botocore read its data files again")

    with monkeypatch.context() as cached:
        cached.setattr(botocore.loaders.JSONFileLoader, "load_file", no_file)
        session = snapstart.fresh_session()
        session.create_client("dynamodb", "us-east-1", aws_access_key_id="a", aws_secret_access_key="b").close()


def test_a_broken_crypto_backend_fails_the_snapshot(runtime: FunctionRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards: the warm-up's proof check is a known answer: if it does not verify, no version is published."""
    header, payload, signature = snapstart.WARM_UP_PROOF.split(".")
    tampered = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    monkeypatch.setattr(snapstart, "WARM_UP_PROOF", f"{header}.{payload}.{tampered}")
    with pytest.raises(RuntimeError, match="did not verify"):
        snapshot()


SNAPSHOT_PROBE = r"""
import gc, json, socket, ssl, sys

def no_network(*args, **kwargs):
    raise OSError("network during init or a runtime hook")

socket.socket.connect = no_network
socket.create_connection = no_network
socket.getaddrinfo = no_network

from devicekeys_local.environment import Resolver, function_environment, resolve_parameters
from devicekeys_local.functions import LocalFunctions
import os
resolver = Resolver(resolve_parameters({"JwtIssuer": "https://issuer.example", "JwtAudience": "app"}))
functions = LocalFunctions()
for logical_id in functions.definitions:  # each one imported with the environment the template gives it
    os.environ.update(function_environment(logical_id, resolver))
    functions.module(logical_id)

import botocore.client, botocore.session, urllib3
from devicekeys import snapstart

def state():
    gc.collect()
    objects = gc.get_objects()
    boto3 = sys.modules.get("boto3")
    return {
        "clients": sum(isinstance(o, botocore.client.BaseClient) for o in objects),
        "sessions_with_credentials": sum(
            isinstance(o, botocore.session.Session) and o._credentials is not None for o in objects
        ),
        "open_sockets": sum(isinstance(o, socket.socket) and o.fileno() != -1 for o in objects),
        "connection_pools": sum(isinstance(o, urllib3.HTTPConnectionPool) for o in objects),
        "ssl_contexts": sum(isinstance(o, ssl.SSLContext) for o in objects),  # OpenSSL draws random bytes for one
        "boto3_default_session": boto3 is not None and boto3.DEFAULT_SESSION is not None,
    }

for func, args, kwargs in reversed(snapstart.HOOKS.get_before_snapshot()):
    func(*args, **kwargs)
snapshotted = state()
report = {
    "runtimes": len(snapstart._RUNTIMES),
    "functions": len(functions.definitions),
    "snapshot": snapshotted,
    "warm": {
        "crypto_backend": "cryptography.hazmat.backends.openssl" in sys.modules,
        "schemas": "fastjsonschema" in sys.modules,
        "boto3": "boto3" in sys.modules,
    },
}
for func, args, kwargs in snapstart.HOOKS.get_after_restore():
    func(*args, **kwargs)
report["restored"] = state()
report["restored"]["runtimes_with_a_session"] = sum(
    getattr(snapstart._connection(r)._local, "session", None) is not None for r in snapstart._RUNTIMES
)
print(json.dumps(report))
"""


@pytest.mark.slow
def test_no_function_takes_a_client_credentials_or_a_socket_into_its_snapshot(tmp_path: Path) -> None:
    """Every handler of the template, imported as Lambda would, with the network unreachable and no credentials."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_ACCESS", "AWS_SECRET", "AWS_SESSION", "AWS_PROFILE"))
    }
    environment.update(
        PYTHONPATH=":".join(str(ROOT / part) for part in ("layers/devicekeys", "local")),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        POWERTOOLS_METRICS_DISABLED="true",
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, the repository's own files
        [sys.executable, "-c", SNAPSHOT_PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["runtimes"] == report["functions"]
    nothing = {
        "clients": 0,
        "sessions_with_credentials": 0,
        "open_sockets": 0,
        "connection_pools": 0,
        "ssl_contexts": 0,
        "boto3_default_session": False,
    }
    assert report["snapshot"] == nothing
    assert report["warm"] == {"crypto_backend": True, "schemas": True, "boto3": True}
    # restored: a fresh session per runtime (and boto3's), nothing resolved or opened until a request needs it
    restored = report["restored"]
    assert restored.pop("runtimes_with_a_session") == report["runtimes"]
    assert restored == {**nothing, "boto3_default_session": True}


# --- the template ------------------------------------------------------------------------------


def _functions() -> dict[str, Any]:
    return {
        name: resource
        for name, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def test_the_parameter_switches_snapstart_on_every_function_and_defaults_to_off() -> None:
    template = load_template()
    parameter = template["Parameters"]["SnapStart"]
    assert parameter["Default"] == "disabled" and parameter["AllowedValues"] == ["disabled", "enabled"]
    declared = template["Globals"]["Function"]["SnapStart"]
    assert template["Globals"]["Function"]["Runtime"] == "python3.13"
    for name, function in _functions().items():
        assert function["Properties"].get("SnapStart", declared) == declared, name
        assert function["Properties"].get("Runtime", "python3.13") == "python3.13", name

    def applied(value: str) -> Any:
        overrides = {"JwtIssuer": "https://issuer.example", "JwtAudience": "app", "SnapStart": value}
        return Resolver(resolve_parameters(overrides)).resolve({"SnapStart": declared}).get("SnapStart", NO_VALUE)

    assert applied("enabled") == {"ApplyOn": "PublishedVersions"}
    assert applied("disabled") is NO_VALUE  # the functions exactly as without the parameter


def test_every_function_is_called_through_an_alias_that_follows_its_code_and_the_layer() -> None:
    """Guards: without AllProperties (and the layer's PublishLambdaVersion) a layer change never reaches the alias."""
    template = load_template()
    assert template["Globals"]["Function"]["AutoPublishAlias"] == "live"
    assert template["Globals"]["Function"]["VersionDeletionPolicy"] == "Delete"
    for name, function in _functions().items():
        assert function["Properties"].get("AutoPublishAliasAllProperties") is True, name
    (layer,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::LayerVersion"]
    assert layer["Properties"]["PublishLambdaVersion"] is True


def _parameters_in(value: Any, template: dict[str, Any]) -> set[str]:
    """The template parameters ``value`` reads: ``!Ref``, ``${Name}`` in ``!Sub``, and through ``!If`` conditions."""
    declared, conditions = template["Parameters"], template["Conditions"]
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _parameters_in(item, template)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and item in declared:
                found.add(item)
            elif key == "Fn::Sub":
                text, variables = (item, {}) if isinstance(item, str) else item
                found |= {name for name in re.findall(r"\$\{([^}!.]+)\}", text) if name in declared}
                found |= _parameters_in(variables, template)
            elif key in ("Fn::If", "Condition"):
                name = item[0] if key == "Fn::If" else item
                found |= _parameters_in(conditions[name], template)
                found |= _parameters_in(item[1:] if key == "Fn::If" else [], template)
            else:
                found |= _parameters_in(item, template)
    return found


def _configuration(function: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    """What a published version freezes: the function's settings, Globals merged (not its events or role)."""
    own = {k: v for k, v in function["Properties"].items() if k not in ("Events", "Policies", "VersionDescription")}
    merged = {**template["Globals"]["Function"], **own}
    variables = {**template["Globals"]["Function"]["Environment"]["Variables"]}
    variables.update(((own.get("Environment") or {}).get("Variables")) or {})
    return {**merged, "Environment": {"Variables": variables}}


def test_every_parameter_a_function_reads_is_in_its_version_description() -> None:
    """Guards: SAM names versions after the template's text, so a parameter-only change (SnapStart's switch
    included) would leave the alias on the old version. A new value changes the version's Description, which
    CloudFormation can only apply by publishing a new version (``Update requires: Replacement``)."""
    template = load_template()
    assert "SnapStart" in _parameters_in(template["Globals"]["Function"], template)
    for name, function in _functions().items():
        read = _parameters_in(_configuration(function, template), template)
        described = _parameters_in(function["Properties"].get("VersionDescription"), template)
        assert read <= described, (name, sorted(read - described))


def test_a_parameter_change_changes_every_version_description_it_concerns() -> None:
    """CloudFormation resolves the descriptions as the local resolver does: each new value is a new description."""
    base = {"JwtIssuer": "https://issuer.example", "JwtAudience": "app"}

    def descriptions(**changes: str) -> dict[str, str]:
        resolver = Resolver(resolve_parameters({**base, **changes}))
        return {name: resolver.resolve(f["Properties"]["VersionDescription"]) for name, f in _functions().items()}

    default = descriptions()
    assert all(len(text) <= 256 for text in default.values())  # the limit of a version's Description
    for change in ({"SnapStart": "enabled"}, {"ChallengeTtlSeconds": "300"}, {"LogLevel": "DEBUG"}):
        changed = descriptions(**change)
        assert all(changed[name] != default[name] for name in default), change


def test_the_journeys_invoke_the_aliases_and_may_invoke_nothing_else() -> None:
    resources = load_template()["Resources"]
    for journey in journey_definitions():
        props = resources[journey.logical_id]["Properties"]
        substitutions = list(props["DefinitionSubstitutions"].values())
        assert all(set(value) == {"Ref"} and value["Ref"].endswith(".Alias") for value in substitutions), journey.name
        invocable = [
            target
            for policy in props["Policies"]
            if isinstance(policy, dict)
            for statement in policy.get("Statement", [])
            if "lambda:InvokeFunction" in statement["Action"]
            for target in statement["Resource"]
        ]
        assert sorted(map(json.dumps, invocable)) == sorted(map(json.dumps, substitutions)), journey.name
        assert {invoked_function(value) for value in substitutions} == set(journey.substitutions.values())


def test_the_local_runner_reads_the_alias_forms() -> None:
    resolver = Resolver(resolve_parameters({"JwtIssuer": "https://issuer.example", "JwtAudience": "app"}))
    alias = "arn:aws:lambda:us-east-1:123456789012:function:VerifyDeviceKeyFunction:live"
    assert resolver.resolve({"Ref": "VerifyDeviceKeyFunction.Alias"}) == alias
    assert resolver.resolve({"Fn::Sub": "${VerifyDeviceKeyFunction.Alias}"}) == alias
    assert invoked_function({"Ref": "VerifyDeviceKeyFunction.Alias"}) == "VerifyDeviceKeyFunction"
    assert invoked_function({"Fn::GetAtt": ["VerifyDeviceKeyFunction", "Arn"]}) == "VerifyDeviceKeyFunction"
    with pytest.raises(ValueError, match="must be"):
        invoked_function({"Ref": "VerifyDeviceKeyFunction"})


# What SAM makes of the template: translated by .venv-sam's samtranslator, as `sam validate` does.
TRANSLATE = r"""
import copy, json, os, sys
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

source = yaml_parse(open(sys.argv[1]).read())
out = {}
for case, parameters, layer in (
    ("enabled", {"SnapStart": "enabled"}, "v1"),
    ("disabled", {}, "v1"),
    ("new-layer", {"SnapStart": "enabled"}, "v2"),
    ("new-parameter", {"SnapStart": "enabled", "ChallengeTtlSeconds": "300"}, "v1"),
):
    template = copy.deepcopy(source)
    for resource in template["Resources"].values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "DefinitionUri", "ContentUri"):
            if isinstance(props.get(key), str):  # what `sam package` uploads: a new layer, a new key
                props[key] = f"s3://bucket/{props[key].strip('/')}-{layer if key == 'ContentUri' else 'v1'}"
    values = {"JwtIssuer": "https://issuer.example", "JwtAudience": "app", **parameters}
    out[case] = transform(template, values, NoManagedPolicies())
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    if not SAM_PYTHON.exists():
        pytest.skip("no .venv-sam (scripts/setup check makes it)")
    done = subprocess.run(  # noqa: S603 - the repository's SAM venv and template
        [str(SAM_PYTHON), "-c", TRANSLATE, str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout))


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def _alias_of(function: str) -> dict[str, str]:
    return {"Ref": f"{function}Aliaslive"}


@pytest.mark.slow
def test_sam_gives_every_function_snapstart_and_a_live_alias(translated: dict[str, Any]) -> None:
    template = translated["enabled"]
    functions = _of_type(template, "AWS::Lambda::Function")
    assert set(functions) == set(_functions())
    for name, function in functions.items():
        assert function["Properties"]["SnapStart"] == {
            "Fn::If": ["SnapStartEnabled", {"ApplyOn": "PublishedVersions"}, {"Ref": "AWS::NoValue"}]
        }, name
        alias = template["Resources"][f"{name}Aliaslive"]
        version = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
        assert template["Resources"][version]["Properties"]["FunctionName"] == {"Ref": name}
        assert template["Resources"][version]["DeletionPolicy"] == "Delete"


@pytest.mark.slow
def test_the_api_routes_and_the_stream_invoke_the_aliases(translated: dict[str, Any]) -> None:
    template = translated["enabled"]
    (api,) = _of_type(template, "AWS::ApiGatewayV2::Api").values()
    routes = 0
    for path, operations in api["Properties"]["Body"]["paths"].items():
        for method, operation in operations.items():
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            assert "Aliaslive}" in uri, (method, path, uri)
            routes += 1
    assert routes == sum(len(f.routes) for f in function_definitions())
    for name, permission in _of_type(template, "AWS::Lambda::Permission").items():
        if permission["Properties"]["Principal"] == "apigateway.amazonaws.com" and "Http" in name:
            assert permission["Properties"]["FunctionName"]["Ref"].endswith("Aliaslive"), name
    mappings = _of_type(template, "AWS::Lambda::EventSourceMapping").values()
    assert [m["Properties"]["FunctionName"] for m in mappings] == [_alias_of("EventPublisherFunction")]


@pytest.mark.slow
def test_the_state_machines_invoke_the_aliases(translated: dict[str, Any]) -> None:
    template = translated["enabled"]
    for journey in journey_definitions():
        machine = template["Resources"][journey.logical_id]["Properties"]
        expected = {name: _alias_of(function) for name, function in journey.substitutions.items()}
        assert machine["DefinitionSubstitutions"] == expected, journey.name
        role = template["Resources"][f"{journey.logical_id}Role"]["Properties"]
        invocable = [
            target
            for policy in role["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]
            if statement["Action"] == "lambda:InvokeFunction"
            for target in statement["Resource"]
        ]
        assert sorted(map(json.dumps, invocable)) == sorted(map(json.dumps, expected.values())), journey.name


def _versions(template: dict[str, Any]) -> set[str]:
    return set(_of_type(template, "AWS::Lambda::Version"))


@pytest.mark.slow
def test_a_new_layer_publishes_a_new_version_of_every_function(translated: dict[str, Any]) -> None:
    """Guards: AutoPublishAliasAllProperties + PublishLambdaVersion (otherwise only CodeUri counts)."""
    before, after = _versions(translated["enabled"]), _versions(translated["new-layer"])
    assert len(before) == len(after) == len(_functions())
    assert before.isdisjoint(after)


@pytest.mark.slow
def test_sam_names_versions_after_the_text_so_the_description_must_carry_the_parameters(
    translated: dict[str, Any],
) -> None:
    """Why VersionDescription: SAM's version names ignore parameter values (aws/serverless-application-model#3820).

    If SAM starts to count them, this fails: the descriptions are then redundant (docs/snapstart.md).
    """
    assert (
        _versions(translated["enabled"]) == _versions(translated["new-parameter"]) == _versions(translated["disabled"])
    )
    for name, version in _of_type(translated["enabled"], "AWS::Lambda::Version").items():
        function = version["Properties"]["FunctionName"]["Ref"]
        assert version["Properties"]["Description"] == _functions()[function]["Properties"]["VersionDescription"], name
