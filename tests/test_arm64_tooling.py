"""The arm64 check's parts that run on the host (benchmarks/arm64.py, benchmarks/arm64_scenario.py).

No emulation here: the Debian index and checksums, the functions' environment from a template,
how the check reads its runs, and the events and proofs the emulated scenario sends.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from devicekeys.keys import load_public_key
from devicekeys.proofs import read_proof
from devicekeys_local.template import TEMPLATE, function_definitions
from joserfc import jws

from benchmarks import arm64, arm64_scenario

LIBC_SHA256 = "a" * 64
PYTHON_SHA256 = "b" * 64
INDEX = f"""Package: libc6
Source: glibc
Version: 2.41-12+deb13u5
Depends: libgcc-s1
Description: GNU C Library: Shared libraries
 A continuation line is not a field:
 SHA256: {"0" * 64}
Filename: pool/main/g/glibc/libc6_2.41-12+deb13u5_arm64.deb
SHA256: {LIBC_SHA256}

Package: libc6-dev
Version: 2.41-12+deb13u5
Filename: pool/main/g/glibc/libc6-dev_2.41-12+deb13u5_arm64.deb
SHA256: {"c" * 64}

Package: python3.13-minimal
Version: 3.13.5-2+deb13u5
Filename: pool/main/p/python3.13/python3.13-minimal_3.13.5-2+deb13u5_arm64.deb
SHA256: {PYTHON_SHA256}
"""


def test_the_index_gives_the_wanted_packages_path_and_checksum() -> None:
    entries = arm64.parse_packages_index(INDEX, ["libc6", "python3.13-minimal"])

    assert entries == {
        "libc6": arm64.DebianPackage(
            "libc6", "2.41-12+deb13u5", "pool/main/g/glibc/libc6_2.41-12+deb13u5_arm64.deb", LIBC_SHA256
        ),
        "python3.13-minimal": arm64.DebianPackage(
            "python3.13-minimal",
            "3.13.5-2+deb13u5",
            "pool/main/p/python3.13/python3.13-minimal_3.13.5-2+deb13u5_arm64.deb",
            PYTHON_SHA256,
        ),
    }


def test_a_package_the_index_lacks_is_an_error() -> None:
    with pytest.raises(arm64.CheckFailed, match="no package libmissing"):
        arm64.parse_packages_index(INDEX, ["libc6", "libmissing"])


def test_the_release_file_gives_the_sha256_of_each_index() -> None:
    release = f"""Origin: Debian
Codename: trixie
MD5Sum:
 {"1" * 32}  9614816 main/binary-arm64/Packages.xz
SHA256:
 {"2" * 64}  9614816 main/binary-arm64/Packages.xz
 {"3" * 64}  1234 main/binary-amd64/Packages.xz
"""
    assert arm64.release_sha256(release) == {
        "main/binary-arm64/Packages.xz": "2" * 64,
        "main/binary-amd64/Packages.xz": "3" * 64,
    }


def test_data_with_the_indexed_checksum_is_accepted() -> None:
    data = b"a .deb"
    assert arm64.verified(data, hashlib.sha256(data).hexdigest().upper(), "x.deb") == data


def test_data_with_another_checksum_is_refused() -> None:
    with pytest.raises(arm64.CheckFailed, match=r"x\.deb: SHA256 is .*refusing it"):
        arm64.verified(b"a tampered .deb", hashlib.sha256(b"a .deb").hexdigest(), "x.deb")


@pytest.mark.skipif(
    shutil.which("gpgv") is None or not arm64.DEBIAN_KEYRING.exists(), reason="needs gpgv and the Debian keyring"
)
def test_a_release_file_without_a_debian_signature_is_refused() -> None:
    forged = b"""-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

Codename: trixie
-----BEGIN PGP SIGNATURE-----

iHUEARYKAB0WIQRBWH99uMd0vM8TFBZ2L2egssOd5AUCaSAAAAAKCRB2L2egssOd
-----END PGP SIGNATURE-----
"""
    with pytest.raises(arm64.CheckFailed, match="signature does not verify"):
        arm64.signed_release_text(forged)


def test_the_pinned_version_is_read_from_requirements_and_the_files_they_include(tmp_path: Path) -> None:
    (tmp_path / "layer").mkdir()
    (tmp_path / "layer" / "requirements.txt").write_text("joserfc==1.8.0\n")
    (tmp_path / "requirements-local.txt").write_text("-r layer/requirements.txt\nboto3==1.43.108  # the SDK\n")
    requirements = tmp_path / "requirements-dev.txt"
    requirements.write_text("-r requirements-local.txt\nboto3-stubs==9.9\nmoto[server]==5.2.5\n")

    assert arm64.pinned_version("boto3", requirements) == "1.43.108"
    assert arm64.pinned_version("joserfc", requirements) == "1.8.0"
    assert arm64.pinned_version("moto", requirements) == "5.2.5"
    with pytest.raises(arm64.CheckFailed, match="do not pin botocore"):
        arm64.pinned_version("botocore", requirements)


TEMPLATE_TEXT = """
Parameters:
  TtlSeconds: {Type: Number, Default: 120, MinValue: 10}
  Audience: {Type: String, Default: ""}
  Issuer: {Type: String}
Conditions:
  HasAudience: !Not [!Equals [!Ref Audience, ""]]
Globals:
  Function:
    Environment:
      Variables:
        DEVICE_KEYS_TABLE: !Ref KeysTable
        CHALLENGE_TTL_SECONDS: !Ref TtlSeconds
        PROOF_AUDIENCE: !If [HasAudience, !Ref Audience, !Ref AWS::NoValue]
        DYNAMODB_ENDPOINT: ""
Resources:
  KeysTable:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: user_id, AttributeType: S}]
      KeySchema: [{AttributeName: user_id, KeyType: HASH}]
  Journey:
    Type: AWS::Serverless::StateMachine
  ReadFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ReadFunction, Handler: app.lambda_handler}
  StarterFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: StarterFunction
      Handler: app.lambda_handler
      Environment:
        Variables:
          JOURNEYS: !Sub '{"login":"${Journey}"}'
          CHALLENGE_TTL_SECONDS: "300"
"""


def test_each_function_gets_the_templates_variables_resolved_and_pointed_at_the_local_dynamodb(
    tmp_path: Path,
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE_TEXT)

    environments = arm64.lambda_environments(template, {"KeysTable": "arm64-keys"}, "http://127.0.0.1:4566")

    read = environments["ReadFunction"]
    assert read["DEVICE_KEYS_TABLE"] == "arm64-keys"
    assert read["CHALLENGE_TTL_SECONDS"] == "120"  # the parameter's default
    assert "PROOF_AUDIENCE" not in read  # AWS::NoValue: not set at all
    assert read["DYNAMODB_ENDPOINT"] == "http://127.0.0.1:4566"
    assert read["AWS_LAMBDA_FUNCTION_NAME"] == "ReadFunction"
    assert read["AWS_ACCESS_KEY_ID"] == "testing" and read["AWS_REGION"] == "us-east-1"
    assert "JOURNEYS" not in read
    starter = environments["StarterFunction"]
    assert starter["CHALLENGE_TTL_SECONDS"] == "300"  # the function's own value wins over Globals
    assert json.loads(starter["JOURNEYS"]) == {"login": "Journey"}  # other resources: their logical id


def test_the_template_routes_every_step_of_the_scenario(tmp_path: Path) -> None:
    tree = arm64.LambdaTree(tmp_path)
    functions = function_definitions(TEMPLATE)
    environments = {function.logical_id: {} for function in functions}

    spec = arm64.scenario_spec(tree, functions, environments)

    routes = {route for function in spec["functions"] for route in function["routes"]}
    scenario_routes = {
        arm64_scenario.ISSUE_CHALLENGE,
        arm64_scenario.REGISTER,
        arm64_scenario.LIST,
        arm64_scenario.VERIFY,
        arm64_scenario.BLOCK,
    }
    assert scenario_routes <= routes
    assert spec["opt_python"] == str(tmp_path / "opt" / "python")
    register = next(f for f in spec["functions"] if arm64_scenario.REGISTER in f["routes"])
    assert register["task_root"] == str(tmp_path / "var" / "task" / register["name"])


def test_only_the_scenarios_own_lines_are_read_from_its_output() -> None:
    stdout = "\n".join(
        [
            '{"level":"INFO","message":"request refused","service":"devicekeys"}',
            '{"_aws":{"CloudWatchMetrics":[]},"success":[1.0]}',
            "not json {",
            '{"import": "ReadFunction", "import_ms": 12.5}',
            '{"step": "register", "status": 201}',
            '{"summary": {"ok": true}}',
        ]
    )
    assert arm64.scenario_lines(stdout) == [
        {"import": "ReadFunction", "import_ms": 12.5},
        {"step": "register", "status": 201},
        {"summary": {"ok": True}},
    ]


def test_a_layer_module_compiled_from_source_fails_the_check_a_functions_does_not(tmp_path: Path) -> None:
    tree = arm64.LambdaTree(tmp_path)
    facts = {"machine": "aarch64", "dont_write_bytecode": True}
    function_only = arm64.compiled_by_place([str(tree.task_root("ReadFunction") / "app.py")], tree)
    layer_too = arm64.compiled_by_place(
        [str(tree.opt / "python" / "joserfc" / "jws.py"), "/root/usr/lib/python3.13/json/__init__.py"], tree
    )

    assert function_only == {"layer": [], "function": ["ReadFunction/app.py"], "runtime": []}
    assert arm64.bytecode_problems(facts, function_only) == []
    assert layer_too["runtime"] == ["/root/usr/lib/python3.13/json/__init__.py"]
    (problem,) = arm64.bytecode_problems(facts, layer_too)
    assert "1 layer modules compiled from source" in problem and "python/joserfc/jws.py" in problem


def test_a_run_that_is_not_aarch64_or_writes_bytecode_proves_nothing() -> None:
    places: dict[str, list[str]] = {"layer": [], "function": [], "runtime": []}
    problems = arm64.bytecode_problems({"machine": "x86_64", "dont_write_bytecode": False}, places)

    assert problems == ["ran on x86_64, not aarch64", "PYTHONDONTWRITEBYTECODE was not in effect"]


def test_the_scenarios_events_are_api_gateway_http_events_that_powertools_routes() -> None:
    resolver = APIGatewayHttpResolver()

    @resolver.post("/v1/users/<user_id>/device-keys/<key_id>/block")
    def block(user_id: str, key_id: str) -> dict[str, object]:
        authorizer = resolver.current_event.request_context.authorizer
        return {
            "path": [user_id, key_id],
            "sub": authorizer.jwt_claim["sub"],
            "scopes": authorizer.jwt_scopes,
            "body": resolver.current_event.json_body,
        }

    claims = {"sub": "admin", "scope": "device-keys/admin"}
    event = arm64_scenario.http_event(
        arm64_scenario.BLOCK, {"user_id": "alice", "key_id": "k-1"}, body={"reason": "lost"}, claims=claims
    )
    response = resolver.resolve(event, arm64_scenario.LambdaContext("BlockDeviceKeyFunction"))

    assert event["version"] == "2.0" and event["isBase64Encoded"] is False
    assert event["routeKey"] == "POST /v1/users/{user_id}/device-keys/{key_id}/block"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {
        "path": ["alice", "k-1"],
        "sub": "admin",
        "scopes": ["device-keys/admin"],
        "body": {"reason": "lost"},
    }


def test_path_parameters_are_percent_encoded_in_the_raw_path_only() -> None:
    event = arm64_scenario.http_event(arm64_scenario.LIST, {"user_id": "alice@example.com"})

    assert event["rawPath"] == "/v1/users/alice%40example.com/device-keys"
    assert event["pathParameters"] == {"user_id": "alice@example.com"}
    assert "authorizer" not in event["requestContext"] and "body" not in event


def test_the_fake_context_counts_down_from_the_functions_timeout() -> None:
    context = arm64_scenario.LambdaContext("VerifyDeviceKeyFunction")

    assert 9_000 < context.get_remaining_time_in_millis() <= 10_000
    assert context.invoked_function_arn.endswith(":function:VerifyDeviceKeyFunction")


def test_the_scenarios_proofs_are_what_the_layer_reads() -> None:
    key = arm64_scenario.new_device_key()

    register = arm64_scenario.device_proof(key, challenge="c-1", user_id="alice", purpose="register")
    verify = arm64_scenario.device_proof(key, challenge="c-2", user_id="alice", purpose="verify")

    registered = read_proof(register)
    assert registered.header["typ"] == "dk+jwt" and registered.alg == "ES256"
    assert load_public_key(registered.header["jwk"], "ES256").key_id == key.thumbprint()  # type: ignore[attr-defined]
    assert registered.claims["purpose"] == "register" and registered.claims["sub"] == "alice"
    verifying = read_proof(verify)
    assert verifying.kid == key.thumbprint()  # type: ignore[attr-defined]
    assert isinstance(verifying.claims["iat"], int) and verifying.challenge == "c-2"
    assert json.loads(jws.deserialize_compact(verify, key, algorithms=["ES256"]).payload)["purpose"] == "verify"


def test_an_unexpected_answer_stops_the_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    def failing(event: dict[str, object], context: object) -> dict[str, object]:
        return {"statusCode": 500, "body": '{"error": {"code": "internal_error"}}'}

    scenario = arm64_scenario.Scenario({arm64_scenario.LIST: ("ListDeviceKeysFunction", failing)}, "device-keys/admin")

    with pytest.raises(arm64_scenario.ScenarioFailed, match="answered 500, expected 200"):
        scenario.call("list", arm64_scenario.LIST, {"user_id": "alice"}, expected=200)
    with pytest.raises(arm64_scenario.ScenarioFailed, match="no function serves"):
        scenario.call("verify", arm64_scenario.VERIFY, {"user_id": "alice"}, expected=200)
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line) | {"ms": 0} == {
        "step": "list",
        "function": "ListDeviceKeysFunction",
        "status": 500,
        "expected": 200,
        "ms": 0,
    }
