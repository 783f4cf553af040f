"""Peak resident memory of one function's process after many invocations (verify, the busiest).

A child process is one warm Lambda container: it imports the verify function the way Lambda
does, then serves N verifications, each with a fresh challenge (issued through the function's
own challenge service, which verify has loaded anyway) and a freshly signed proof. It reports
VmRSS after import, after the first invocation and at the end, and VmHWM (the peak) from
/proc/self/status, which is what Lambda's "Max Memory Used" reflects.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .common import FUNCTIONS_DIR, LAYER_DIR, ROOT, lambda_environment, local_dynamodb, run_json
from .environments import Interpreter

BUDGET_MB = 110

CHILD = r"""
import json, os, sys, time
spec = json.loads(sys.argv[1])
sys.path[:0] = [spec["function_dir"], spec["layer_dir"]]

def status():
    with open("/proc/self/status") as handle:
        fields = dict(line.split(":", 1) for line in handle)
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}

class Context:
    function_name = "verify"; function_version = "$LATEST"; memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:verify"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    def get_remaining_time_in_millis(self): return 10000

real_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # EMF metric lines
start = status()
import app
after_import = status()
sys.path[:0] = spec["tool_paths"]  # the test device and event builder, after the function's imports
from devicekeys_client import DeviceKeyPair
from devicekeys_local.events import http_event

device = DeviceKeyPair.load(spec["key_file"])
user = spec["user"]
samples = []
for i in range(spec["invocations"]):
    challenge = app.runtime.challenges.issue(user, purpose="verify").challenge
    proof = device.proof(challenge=challenge, user_id=user, purpose="verify")
    event = http_event(
        method="POST", route_path="/v1/users/{user_id}/device-keys/verify",
        raw_path=f"/v1/users/{user}/device-keys/verify", path_parameters={"user_id": user},
        headers={"content-type": "application/json"}, body=json.dumps({"proof": proof}).encode(),
    )
    response = app.lambda_handler(event, Context())
    if response["statusCode"] != 200:
        raise SystemExit(f"invocation {i}: {response}")
    if i == 0:
        after_first = status()
    if (i + 1) % max(1, spec["invocations"] // 10) == 0:
        samples.append(round(status()["VmRSS"], 1))
end = status()
print(json.dumps({
    "invocations": spec["invocations"],
    "rss_start_mb": round(start["VmRSS"], 1),
    "rss_after_import_mb": round(after_import["VmRSS"], 1),
    "rss_after_first_mb": round(after_first["VmRSS"], 1),
    "rss_end_mb": round(end["VmRSS"], 1),
    "peak_mb": round(end["VmHWM"], 1),
    "rss_every_tenth_mb": samples,
}), file=real_stdout)
"""


def measure(interpreters: list[Interpreter], invocations: int = 1000) -> dict[str, Any]:
    """Peak RSS of a verify process after ``invocations`` invocations, per interpreter."""
    import contextlib
    import warnings

    from .scenario import Workbench

    results: dict[str, Any] = {"budget_mb": BUDGET_MB, "invocations": invocations, "interpreters": {}}
    with local_dynamodb() as endpoint, tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        os.environ.update(lambda_environment(endpoint))
        warnings.simplefilter("ignore")
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            bench = Workbench(prefix="memory")
            bench.setup()
        key_file = Path(tmp) / "device.json"
        bench.device.save(key_file)
        env = {"PATH": os.environ.get("PATH", ""), **lambda_environment(endpoint)}
        for interpreter in interpreters:
            spec = {
                "function_dir": str(FUNCTIONS_DIR / "verify_device_key"),
                "layer_dir": str(LAYER_DIR),
                "tool_paths": [str(ROOT / "clients" / "python" / "src"), str(ROOT / "local")],
                "key_file": str(key_file),
                "user": bench.user,
                "invocations": invocations,
            }
            out = run_json([str(interpreter.python), "-I", "-c", CHILD, json.dumps(spec)], env=env)
            out["within_budget"] = out["peak_mb"] < BUDGET_MB
            results["interpreters"][interpreter.name] = out
    return results
