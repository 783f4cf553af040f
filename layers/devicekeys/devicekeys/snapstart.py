"""Lambda SnapStart: what a restored execution environment must not inherit from its snapshot.

With SnapStart (the template's ``SnapStart`` parameter, docs/snapstart.md), Lambda runs a
function's init once, when it publishes a version, snapshots the whole process, and resumes
every new execution environment of that version from the snapshot. What init left in memory
is then shared by all of them: worth it for imports and parsed data, wrong for anything that
must differ between environments. Two runtime hooks draw that line for every
``FunctionRuntime`` (``lambda_api`` calls ``protect`` when it builds one):

Before the snapshot (``before_snapshot``), without touching the network:

- warm what the first request would otherwise pay for: the runtime's services and PynamoDB
  models, botocore's service data for the services the function calls (parsed JSON, kept in
  one loader), the JSON schemas, and, in functions that check proofs, one signature check of
  a fixed proof (loads the crypto backend; no key is generated, no random number drawn);
- forget every DynamoDB client and botocore session made during init, and boto3's default
  session: they hold sockets, an SSL context and resolved credentials. No client is built
  before the snapshot: building one would resolve credentials and create an SSL context
  (OpenSSL draws random bytes for it), both of which would then be shared.

After a restore (``after_restore``):

- reseed Python's ``random`` (the retry jitter of ``device_keys``, botocore's backoff), which
  every environment restored from one snapshot would otherwise replay identically;
- close any client still there and give each runtime's connection a new botocore session
  (and boto3 a new default session) sharing the warmed loader: the first request builds a
  new client, opens its own connections and resolves this environment's credentials;
- decide Powertools' debug log sampling again (Logger decides it once, at init).

Nothing here caches a clock: the services read ``time.time()`` at each call, and nothing keeps
a time read at init (tests/test_snapstart.py checks both). ``secrets``/``os.urandom`` (challenges)
read the kernel's generator at each call, so no Python state of theirs is in the snapshot.

The hooks are registered with snapshot-restore-py, which Lambda's Python runtimes include
and run. The layer does not ship it: a copy in /opt/python would shadow the runtime's own, as
boto3 would. Where it is not installed (tests, the local API, benchmarks) a registry with the
same API (``register_*`` and the ``get_*`` lists the runtime runs) stands in, and nothing runs
the hooks but the tests.
"""

from __future__ import annotations

import random
import sys
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import botocore.session
from botocore.exceptions import DataNotFoundError

if TYPE_CHECKING:
    from .lambda_api import FunctionRuntime
    from .settings import Settings

# A registration proof signed once by a throwaway ES256 key whose private half was never stored:
# checking it loads what the first proof check would (joserfc's JWS path, the backend's EC code).
WARM_UP_PROOF = (
    "eyJ0eXAiOiJkaytqd3QiLCJhbGciOiJFUzI1NiIsImp3ayI6eyJjcnYiOiJQLTI1NiIsIngiOiJuU3p6cFJ6Q0UxSGc2U2RVakhuTy03"
    "UEg1eko5dkpQUFVyUDlWNzB3RWM0IiwieSI6IlZiUWN3STV3WUxKMkItQllzdm9KZjV4UXhubUNlcVBmZmVhMFgxMExsY2MiLCJrdHki"
    "OiJFQyJ9fQ.eyJjaGFsbGVuZ2UiOiJzbmFwc3RhcnQtd2FybS11cCIsInN1YiI6InNuYXBzdGFydC13YXJtLXVwIiwicHVycG9zZSI6In"
    "JlZ2lzdGVyIiwiaWF0IjowfQ.G7t83hi4pTHr0_9DbwYbwBGOOwSHUpp0K7bsErKmYMV3dS6sGDLSfK49kKdVIAAxqtIAAcY7zVSFUoih"
    "_5zcSA"
)
# What botocore reads to build any client, besides the service's own model and endpoint rules.
_SHARED_DATA = ("endpoints", "partitions", "sdk-default-configuration", "_retry")

_RUNTIMES: weakref.WeakSet[FunctionRuntime] = weakref.WeakSet()
_loader: Any = None  # botocore's data loader, filled before the snapshot, shared by later sessions


def protect(runtime: FunctionRuntime) -> None:
    """Have the SnapStart hooks prepare ``runtime`` for a snapshot and refresh it after a restore.

    The runtime is held weakly: a runtime nothing else uses (in tests) is simply dropped.
    """
    _RUNTIMES.add(runtime)


def before_snapshot() -> None:
    """Warm every protected runtime up, then forget everything that belongs to this environment.

    Raises:
        RuntimeError: the fixed proof did not verify: the crypto backend is broken, and the
            version should not be published (Lambda fails the publish).
    """
    for runtime in list(_RUNTIMES):
        _warm_up(runtime)
    for runtime in list(_RUNTIMES):
        connection = _connection(runtime)
        if connection is not None:
            _drop_client(connection)
    _reset_boto3(None)


def after_restore() -> None:
    """Make this restored environment's own randomness, connections, credentials and log sampling."""
    random.seed()  # from os.urandom
    session = fresh_session()  # one per environment (~15 ms to build), as boto3's default session is
    for runtime in list(_RUNTIMES):
        connection = _connection(runtime)
        if connection is not None:
            _drop_client(connection)
            connection._local.session = session
        if runtime.logger.sampling_rate:
            runtime.logger.refresh_sample_rate_calculation()
    _reset_boto3(session)


def fresh_session() -> Any:
    """A new botocore session (no credentials resolved yet) that reads service data from the warmed loader."""
    session = botocore.session.get_session()
    if _loader is not None:
        session.register_component("data_loader", _loader)
    return session


# --- before the snapshot ---------------------------------------------------------------------


def _warm_up(runtime: FunctionRuntime) -> None:
    # The services the first request would build: models, one PynamoDB connection (no client yet).
    runtime.device_keys  # noqa: B018 - a cached_property: built here, once
    runtime.challenges  # noqa: B018
    services = _services(runtime.settings)
    if services - {"dynamodb"}:
        import boto3  # noqa: F401, PLC0415 - the journey starter and the publisher import it on first use
    _load_service_data(services)
    _compile_schemas()
    if "devicekeys.proofs" in sys.modules:  # only the functions that check proofs load the JOSE stack
        _check_warm_up_proof()


def _services(settings: Settings) -> set[str]:
    """The AWS services a function calls, by what its settings name: DynamoDB for all of them."""
    services = {"dynamodb"}
    if settings.journey_state_machines:
        services.add("stepfunctions")
    if settings.event_bus_name:
        services.add("events")
    return services


def _load_service_data(services: set[str]) -> None:
    """Parse botocore's JSON for ``services`` into the shared loader: file reads, no client, no network."""
    global _loader  # noqa: PLW0603 - one loader per process, like the one runtime
    if _loader is None:
        _loader = botocore.session.get_session().get_component("data_loader")
    steps: list[tuple[Callable[..., Any], tuple[str, ...]]] = [(_loader.load_data, (name,)) for name in _SHARED_DATA]
    steps += [
        (_loader.load_service_model, (service, kind))
        for service in sorted(services)
        for kind in ("service-2", "endpoint-rule-set-1")
    ]
    for load, arguments in steps:
        try:
            load(*arguments)
        except DataNotFoundError:  # another botocore's layout: a slower first request, nothing worse
            continue


def _compile_schemas() -> None:
    from . import inputs  # noqa: PLC0415 - lambda_api has imported it already

    for name in inputs.SCHEMAS:
        inputs._validator(name)  # cached per schema: the first request finds it compiled


def _check_warm_up_proof() -> None:
    from . import keys, proofs  # noqa: PLC0415 - present only where the function imported them

    proof = proofs.read_proof(WARM_UP_PROOF)
    key = keys.load_public_key(proof.header["jwk"], proof.alg)
    if not proofs.signature_is_valid(proof, key):
        raise RuntimeError("the SnapStart warm-up proof did not verify: the crypto backend is broken")
    # The backend stays loaded; the throwaway key leaves the caches as init left them.
    keys._validated.cache_clear()
    keys._import_key.cache_clear()


# --- connections -----------------------------------------------------------------------------


def _connection(runtime: FunctionRuntime) -> Any:
    """The runtime's PynamoDB connection, if its models were built (``_models`` is a cached_property)."""
    models = vars(runtime).get("_models")
    return None if models is None else models.connection


def _drop_client(connection: Any) -> None:
    """Close the connection's botocore client (its sockets) and forget it and its per-thread session.

    PynamoDB keeps the client in ``_client`` and the session (with the credentials it resolved) in
    the thread-local ``_local``; the next request builds both again.
    """
    client = connection._client
    connection._client = None
    connection._local = threading.local()
    if client is not None:
        client.close()


def _reset_boto3(session: Any) -> None:
    """Forget boto3's default session; after a restore, build it on ``session`` (a fresh one)."""
    boto3: Any = sys.modules.get("boto3")
    if boto3 is None:
        return
    boto3.DEFAULT_SESSION = None
    if session is not None:
        boto3.setup_default_session(botocore_session=session)
        if _loader is not None:  # boto3 appends its own data directory to the loader it is given
            _loader.search_paths[:] = list(dict.fromkeys(_loader.search_paths))


# --- registration ------------------------------------------------------------------------------


class _Registry:
    """snapshot-restore-py's API, where the package is not installed (outside Lambda).

    Lambda's runtime runs ``get_before_snapshot()`` last registered first, and
    ``get_after_restore()`` in registration order; here only tests run them.
    """

    def __init__(self) -> None:
        self._before: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self._after: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def register_before_snapshot(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self._before.append((func, args, kwargs))
        return func

    def register_after_restore(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self._after.append((func, args, kwargs))
        return func

    def get_before_snapshot(self) -> list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]:
        return self._before

    def get_after_restore(self) -> list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]:
        return self._after


def _runtime_hooks() -> Any:
    try:
        import snapshot_restore_py  # noqa: PLC0415 - Lambda's Python runtimes include it
    except ImportError:
        return _Registry()
    return snapshot_restore_py


HOOKS: Any = _runtime_hooks()
HOOKS.register_before_snapshot(before_snapshot)
HOOKS.register_after_restore(after_restore)
