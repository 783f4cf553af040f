"""Runs inside the emulated aarch64 python3.13: imports the built handlers, then drives the scenario.

benchmarks/arm64.py writes the spec (a JSON file): where the Lambda tree's layer and runtime
SDK are, and per function its task root, handler, routes and environment. Until the spec puts
the tree on sys.path only the stdlib is imported; then the layer's joserfc makes a real device
key and its proofs.

  arm64_scenario.py SPEC import NAME   import one handler, as a cold start does (a fresh interpreter each)
  arm64_scenario.py SPEC scenario      import every handler, then challenge -> register -> list ->
                                       challenge -> verify -> block (admin) -> challenge -> verify,
                                       refused as device_blocked; then every module the layer's code
                                       and the handlers import inside functions (the spec's
                                       lazy_modules: idempotency for the event publisher, boto3 for
                                       journeys, fastjsonschema, ...), which the steps do not all reach

Prints one JSON line per import and per step, then a summary; exits 1 on an unexpected answer.
Before a handler, only json, os, sys, time and importlib are imported; Lambda's bootstrap has
imported more by then (logging, http.client, decimal), so import times here are, if anything, high.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import time

USER = "alice"
ADMIN = "admin"
ISSUE_CHALLENGE = "POST /v1/users/{user_id}/device-keys/challenges"
REGISTER = "POST /v1/users/{user_id}/device-keys"
LIST = "GET /v1/users/{user_id}/device-keys"
VERIFY = "POST /v1/users/{user_id}/device-keys/verify"
BLOCK = "POST /v1/users/{user_id}/device-keys/{key_id}/block"


class ScenarioFailed(Exception):
    """A step got an answer the scenario did not expect."""


def emit(document: dict) -> None:
    print(json.dumps(document), flush=True)


def record_source_compilations() -> list[str]:
    """From now on, the path of every module compiled from source instead of loaded from its .pyc.

    ``SourceFileLoader.get_code`` calls ``source_to_code`` only when no usable bytecode exists
    (none, another interpreter's magic number, or stale), so with PYTHONDONTWRITEBYTECODE=1 the
    list is what every cold start compiles again.
    """
    compiled: list[str] = []
    loader = importlib.machinery.SourceFileLoader
    compile_source = loader.source_to_code

    def recording(self: object, data: bytes, path: str, *args: object, **kwargs: object) -> object:
        compiled.append(str(path))
        return compile_source(self, data, path, *args, **kwargs)

    loader.source_to_code = recording  # type: ignore[method-assign,assignment]
    return compiled


def lambda_paths(spec: dict) -> list[str]:
    """What Lambda puts before the stdlib on sys.path, after the function's /var/task: the layer, the runtime's SDK."""
    return [spec["opt_python"], spec["runtime_site_packages"]]


def function_named(spec: dict, name: str) -> dict:
    for function in spec["functions"]:
        if function["name"] == name:
            return function
    raise SystemExit(f"no function {name} in the spec")


def process_facts(compiled: list[str], spec: dict) -> dict:
    """What proves where this ran and what it loaded: the machine, the layer's modules, what compiled from source."""
    layer = spec["opt_python"]
    return {
        "modules": len(sys.modules),
        "layer_modules": sum(
            1 for module in list(sys.modules.values()) if (getattr(module, "__file__", None) or "").startswith(layer)
        ),
        "compiled_from_source": list(compiled),
        "python": sys.version.split()[0],
        "machine": os.uname().machine,
        "dont_write_bytecode": bool(sys.flags.dont_write_bytecode),
    }


def ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def import_fresh(spec: dict, name: str) -> None:
    """Import one handler the way Lambda does: ``import app`` with /var/task first on sys.path."""
    function = function_named(spec, name)
    os.environ.update(function["environment"])
    sys.path[:0] = [function["task_root"], *lambda_paths(spec)]
    compiled = record_source_compilations()
    started = time.perf_counter()
    module = importlib.import_module(function["module"])
    getattr(module, function["handler"])
    emit({"import": name, "import_ms": ms_since(started), **process_facts(compiled, spec)})


def load_handler(function: dict, spec: dict, compiled: list[str]) -> object:
    """Import a function's module under a name of its own (they are all ``app``), from its own task root."""
    os.environ.update(function["environment"])
    first_compiled = len(compiled)
    started = time.perf_counter()
    sys.path.insert(0, function["task_root"])
    try:
        unique_name = f"{function['name']}_{function['module']}"
        source = os.path.join(function["task_root"], *function["module"].split(".")) + ".py"
        module_spec = importlib.util.spec_from_file_location(unique_name, source)
        if module_spec is None or module_spec.loader is None:
            raise SystemExit(f"cannot load {source}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[unique_name] = module
        module_spec.loader.exec_module(module)
    finally:
        sys.path.remove(function["task_root"])
    import_ms = ms_since(started)
    emit({"import": function["name"], "import_ms": import_ms, **process_facts(compiled[first_compiled:], spec)})
    return getattr(module, function["handler"])


# --- what API Gateway and Lambda hand a function ---------------------------------------------------


def http_event(route: str, path_parameters: dict, *, body: dict | None = None, claims: dict | None = None) -> dict:
    """An API Gateway HTTP API payload 2.0 event for ``route`` ("METHOD /path/{param}"), as local/ builds it.

    ``claims`` are the JWT authorizer's, on protected routes; their ``scope`` is also the scopes list.
    """
    from urllib.parse import quote

    method, path = route.split(" ", 1)
    raw_path = path.format_map({name: quote(value, safe="") for name, value in path_parameters.items()})
    now = time.time()
    headers = {"host": "localhost", "user-agent": "arm64-scenario"}
    if body is not None:
        headers["content-type"] = "application/json"
    event = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "arm64",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers["user-agent"],
            },
            "requestId": os.urandom(8).hex(),
            "routeKey": route,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "pathParameters": dict(path_parameters),
        "isBase64Encoded": False,
    }
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": claims["scope"].split()}}
    if body is not None:
        event["body"] = json.dumps(body)
    return event


class LambdaContext:
    """What Powertools reads from Lambda's context object."""

    memory_limit_in_mb = 256
    timeout_ms = 10_000

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = os.urandom(16).hex()
        self._deadline = time.monotonic() + self.timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# --- the device ------------------------------------------------------------------------------------


def new_device_key() -> object:
    from joserfc.jwk import ECKey

    return ECKey.generate_key("P-256", private=True)


def device_proof(key: object, *, challenge: str, user_id: str, purpose: str) -> str:
    """A compact JWS over the challenge: a register proof carries the public jwk, a verify proof its kid."""
    from joserfc import jws

    header: dict = {"typ": "dk+jwt", "alg": "ES256"}
    if purpose == "register":
        header["jwk"] = key.as_dict(private=False)  # type: ignore[attr-defined]
    else:
        header["kid"] = key.thumbprint()  # type: ignore[attr-defined]
    payload = {"challenge": challenge, "sub": user_id, "purpose": purpose, "iat": int(time.time())}
    return jws.serialize_compact(header, json.dumps(payload, separators=(",", ":")), key, algorithms=["ES256"])


# --- the scenario ----------------------------------------------------------------------------------


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioFailed(message)


class Scenario:
    """The handlers by route, called with API Gateway's events; every answer checked."""

    def __init__(self, handlers: dict, admin_scope: str) -> None:
        self.handlers = handlers  # route -> (function name, handler)
        self.owner = {"sub": USER, "scope": "openid"}
        self.admin = {"sub": ADMIN, "scope": admin_scope}
        self.steps_ms = 0.0
        self.steps = 0

    def call(self, step: str, route: str, path_parameters: dict, *, expected: int, **request: dict) -> dict:
        if route not in self.handlers:
            raise ScenarioFailed(f"no function serves {route}")
        name, handler = self.handlers[route]
        event = http_event(route, path_parameters, **request)
        started = time.perf_counter()
        response = handler(event, LambdaContext(name))
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.steps_ms += elapsed_ms
        self.steps += 1
        status = response["statusCode"]
        emit({"step": step, "function": name, "status": status, "expected": expected, "ms": round(elapsed_ms, 1)})
        body = json.loads(response.get("body") or "null")
        expect(status == expected, f"{step}: {name} answered {status}, expected {expected}: {body}")
        return body

    def challenge(self, step: str, purpose: str) -> str:
        body = self.call(step, ISSUE_CHALLENGE, {"user_id": USER}, body={"purpose": purpose}, expected=201)
        return str(body["challenge"])

    def run(self) -> None:
        key = new_device_key()
        key_id = key.thumbprint()  # type: ignore[attr-defined]
        user = {"user_id": USER}

        proof = device_proof(
            key, challenge=self.challenge("challenge-register", "register"), user_id=USER, purpose="register"
        )
        registered = self.call("register", REGISTER, user, body={"proof": proof}, claims=self.owner, expected=201)
        expect(registered["key_id"] == key_id, f"register: key_id {registered['key_id']}, not the thumbprint {key_id}")

        listed = self.call("list", LIST, user, claims=self.owner, expected=200)
        expect(listed["count"] == 1, f"list: {listed['count']} keys, expected the one registered")

        proof = device_proof(
            key, challenge=self.challenge("challenge-verify", "verify"), user_id=USER, purpose="verify"
        )
        verified = self.call("verify", VERIFY, user, body={"proof": proof}, expected=200)
        expect(verified["known"] is True, f"verify: known is {verified['known']}")

        key_path = {**user, "key_id": key_id}
        blocked = self.call("block", BLOCK, key_path, body={"reason": "arm64 check"}, claims=self.admin, expected=200)
        expect(blocked["status"] == "blocked", f"block: status {blocked['status']}")

        proof = device_proof(
            key, challenge=self.challenge("challenge-blocked", "verify"), user_id=USER, purpose="verify"
        )
        refused = self.call("verify-blocked", VERIFY, user, body={"proof": proof}, expected=403)
        expect(refused["error"]["code"] == "device_blocked", f"verify-blocked: {refused['error']['code']}")


def import_lazy_modules(names: list[str]) -> list[str]:
    """Import ``names`` (what the code may import inside functions); why each that failed did.

    ``from a import b`` is listed as ``a`` and ``a.b``: when ``b`` is a name in ``a`` rather than a
    submodule, ``a.b`` is not a module and that is no failure.
    """
    failures = []
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            parent, _, attribute = name.rpartition(".")
            if exc.name == name and parent in sys.modules and hasattr(sys.modules[parent], attribute):
                continue
            failures.append(f"{name}: {exc}")
        except Exception as exc:  # any failure to load is the finding
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    return failures


def run_scenario(spec: dict) -> int:
    sys.path[:0] = lambda_paths(spec)
    compiled = record_source_compilations()
    handlers = {}
    for function in spec["functions"]:
        handler = load_handler(function, spec, compiled)
        handlers.update(dict.fromkeys(function["routes"], (function["name"], handler)))
    scenario = Scenario(handlers, admin_scope=os.environ["ADMIN_SCOPE"])  # Globals: the same in every function
    try:
        scenario.run()
    except ScenarioFailed as exc:
        emit({"summary": {"ok": False, "error": str(exc), "steps": scenario.steps}})
        return 1
    lazy = spec.get("lazy_modules", [])
    started = time.perf_counter()
    failures = import_lazy_modules(lazy)
    emit({"lazy": len(lazy), "failed": failures, "ms": ms_since(started)})
    if failures:
        error = f"{len(failures)} of the modules imported inside functions cannot be imported: {'; '.join(failures)}"
        emit({"summary": {"ok": False, "error": error, "steps": scenario.steps}})
        return 1
    steps = {"steps": scenario.steps, "steps_ms": round(scenario.steps_ms, 1), "lazy_modules": len(lazy)}
    emit({"summary": {"ok": True, **steps, **process_facts(compiled, spec)}})
    return 0


def main(argv: list[str]) -> int:
    with open(argv[1]) as handle:
        spec = json.load(handle)
    if argv[2:3] == ["import"] and len(argv) == 4:
        import_fresh(spec, argv[3])
        return 0
    if argv[2:] == ["scenario"]:
        return run_scenario(spec)
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
