"""The arm64 check's parts that run on the host (benchmarks/arm64.py, benchmarks/arm64_scenario.py),
and the layer's slimming (layers/devicekeys/slim_layer.py), which the check proves on arm64.

No emulation here: the Debian index and checksums, the functions' environment from a template,
how the check reads its runs, and the events and proofs the emulated scenario sends; what the
slimming drops and strips, and that what it keeps runs every handler (built for this machine).
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from devicekeys.keys import load_public_key
from devicekeys.proofs import read_proof
from devicekeys_local.environment import local_table_names
from devicekeys_local.template import TEMPLATE, function_definitions
from joserfc import jws

from benchmarks import arm64, arm64_scenario
from benchmarks.environments import python313

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


# --- the layer's slimming (layers/devicekeys/slim_layer.py) ---------------------------------------

slim_layer = arm64.slim_layer()
ELF_HEADER = b"\x7fELF" + b"\x02\x01\x01" + bytes(57)  # 64-bit little-endian, no sections: a stand-in library


def make_site(site: Path, files: dict[str, str | bytes]) -> Path:
    for relative, content in files.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return site


def layer_like_site(site: Path) -> Path:
    return make_site(
        site,
        {
            "_cffi_backend.cpython-313-aarch64-linux-gnu.so": ELF_HEADER,
            "cffi/__init__.py": "from .api import FFI\n",
            "cffi/api.py": "class FFI: ...\n",
            "cffi/_cffi_include.h": "/* C */\n",
            "cffi-2.1.1.dist-info/METADATA": "Name: cffi\n",
            "pycparser/__init__.py": "",
            "pycparser-3.12.dist-info/METADATA": "Name: pycparser\n",
            "cryptography/__init__.py": "",
            "cryptography/hazmat/bindings/_rust/__init__.pyi": "def stub() -> None: ...\n",
            "cryptography/py.typed": "",
            "joserfc/tests/__init__.py": "",
            "aws_lambda_powertools/__init__.py": "",
            "aws_lambda_powertools/utilities/__init__.py": "",
            "aws_lambda_powertools/utilities/parser/__init__.py": "import pydantic\n",
            "aws_lambda_powertools/utilities/parameters/__init__.py": "",
            "aws_lambda_powertools/utilities/batch/__init__.py": "from .types import BatchTypeModels\n",
            "aws_lambda_powertools/utilities/batch/types.py": (
                "import sys\nhas_pydantic = 'pydantic' in sys.modules\nif has_pydantic:\n"
                "    from aws_lambda_powertools.utilities.parser.models import SqsRecordModel\n"
                "BatchTypeModels = None\n"
            ),
            "devicekeys/__init__.py": "",
            "devicekeys/access.py": "from . import errors\n",
            "devicekeys/errors.py": "",
        },
    )


def test_the_drop_step_deletes_what_no_function_imports_and_keeps_what_they_load(tmp_path: Path) -> None:
    site = layer_like_site(tmp_path / "python")

    dropped = slim_layer.slim(site, arch="aarch64", steps=["dev-only", "build-only", "unused"])

    assert dropped == {
        "cffi",
        "pycparser",
        "joserfc.tests",
        "aws_lambda_powertools.utilities.parser",
        "aws_lambda_powertools.utilities.parameters",
    }
    remaining = {path.relative_to(site).as_posix() for path in site.rglob("*") if path.is_file()}
    assert remaining == {
        "_cffi_backend.cpython-313-aarch64-linux-gnu.so",  # what cryptography's extension loads at run time
        "cffi-2.1.1.dist-info/METADATA",  # _cffi_backend's distribution: its license stays with it
        "cryptography/__init__.py",
        "aws_lambda_powertools/__init__.py",
        "aws_lambda_powertools/utilities/__init__.py",
        "aws_lambda_powertools/utilities/batch/__init__.py",
        "aws_lambda_powertools/utilities/batch/types.py",
        "devicekeys/__init__.py",
        "devicekeys/access.py",
        "devicekeys/errors.py",
    }


def test_only_the_steps_asked_for_run(tmp_path: Path) -> None:
    site = layer_like_site(tmp_path / "python")

    assert slim_layer.slim(site, arch="aarch64", steps=["dev-only"]) == {"joserfc.tests"}
    assert (site / "cffi" / "api.py").exists() and (site / "aws_lambda_powertools/utilities/parser").is_dir()
    assert not (site / "cryptography/py.typed").exists()
    with pytest.raises(SystemExit, match="unknown steps docs"):
        slim_layer.slim(site, arch="aarch64", steps=["docs"])


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("def get():\n    from aws_lambda_powertools.utilities.parameters import get_parameter\n", "parameters"),
        ("from ..parameters import base\n", "parameters.base"),  # relative, from utilities/batch/
        ("import aws_lambda_powertools.utilities.parser.models\n", "parser.models"),
        ("import importlib\nm = importlib.import_module('aws_lambda_powertools.utilities.parameters')\n", "parameters"),
    ],
)
def test_a_kept_module_that_may_import_a_dropped_one_fails_the_build(tmp_path: Path, source: str, module: str) -> None:
    site = layer_like_site(tmp_path / "python")
    (site / "aws_lambda_powertools/utilities/batch/decorators.py").write_text(source)

    with pytest.raises(SystemExit, match="kept modules import dropped ones") as failure:
        slim_layer.slim(site, arch="aarch64", steps=["unused"])

    assert f"batch/decorators.py:{source.count(chr(10))} imports aws_lambda_powertools.utilities.{module}" in str(
        failure.value
    )


def test_imports_that_never_run_do_not_fail_the_build(tmp_path: Path) -> None:
    site = layer_like_site(tmp_path / "python")
    (site / "aws_lambda_powertools/utilities/batch/base.py").write_text(
        "from typing import TYPE_CHECKING\nimport typing\n"
        "if TYPE_CHECKING:\n    from aws_lambda_powertools.utilities.parameters import get_parameter\n"
        "if typing.TYPE_CHECKING:\n    import aws_lambda_powertools.utilities.parser\n"
        '"""Example: from aws_lambda_powertools.utilities.parser import parse"""\n'
    )

    slim_layer.slim(site, arch="aarch64", steps=["unused"])  # batch/types.py's `if has_pydantic:` is a DEAD_IMPORT

    assert ("aws_lambda_powertools/utilities/batch/types.py", "aws_lambda_powertools.utilities.parser") in (
        slim_layer.DEAD_IMPORTS
    )


def test_a_dead_import_is_excused_only_in_the_file_it_is_listed_for(tmp_path: Path) -> None:
    site = layer_like_site(tmp_path / "python")
    types_source = (site / "aws_lambda_powertools/utilities/batch/types.py").read_text()
    (site / "aws_lambda_powertools/utilities/batch/other.py").write_text(types_source)

    with pytest.raises(SystemExit, match=r"batch/other\.py:4 imports aws_lambda_powertools\.utilities\.parser"):
        slim_layer.slim(site, arch="aarch64", steps=["unused"])


def test_the_functions_and_the_layers_own_code_import_nothing_the_build_drops() -> None:
    """The build checks the libraries it keeps; this holds the project's code, lazy imports included, to it."""
    files = arm64.code_files(arm64.LAYER_SOURCE, function_definitions(TEMPLATE))
    dropped = slim_layer.dropped_packages()

    assert len(files) > 20 and "aws_lambda_powertools.utilities.parameters" in dropped and "cffi" in dropped
    assert slim_layer.imports_of(files, dropped) == []
    assert not dropped & {"aws_lambda_powertools.utilities.idempotency", "aws_lambda_powertools.utilities.batch"}


def write_tool(path: Path, script: str) -> Path:
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def test_without_a_strip_tool_the_build_goes_on_unstripped_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = layer_like_site(tmp_path / "python")
    library = site / "_cffi_backend.cpython-313-aarch64-linux-gnu.so"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    slim_layer.slim(site, arch="riscv64", steps=["strip"])

    assert library.read_bytes() == ELF_HEADER
    assert "SKIPPED stripping 1 shared libraries: no strip for riscv64" in capsys.readouterr().out


def test_each_library_is_replaced_by_its_stripped_copy_and_keeps_its_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = layer_like_site(tmp_path / "python")
    library = site / "_cffi_backend.cpython-313-aarch64-linux-gnu.so"
    library.write_bytes(ELF_HEADER + b"symbols" * 100)
    library.chmod(0o755)
    (site / "not-a-library.so").write_text("a text file named .so")
    # A strip that writes the first 64 bytes to -o and logs its arguments.
    tool = write_tool(tmp_path / "fake-strip", f'echo "$@" >> {tmp_path}/calls\nhead -c 64 "$4" > "$3"\n')

    before, after = slim_layer.strip_libraries(site, str(tool), arch="aarch64")

    assert (before, after) == (64 + 700, 64)
    assert library.read_bytes() == ELF_HEADER and library.stat().st_mode & 0o777 == 0o755
    (call,) = (tmp_path / "calls").read_text().splitlines()
    assert call.startswith("--strip-unneeded -o ") and call.endswith(str(library))
    assert "stripped 1 shared libraries with fake-strip: 764 -> 64 bytes" in capsys.readouterr().out


def test_a_strip_that_fails_leaves_the_library_as_the_wheel_had_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = layer_like_site(tmp_path / "python")
    library = site / "_cffi_backend.cpython-313-aarch64-linux-gnu.so"
    tool = write_tool(tmp_path / "broken-strip", 'echo "unknown file format" >&2\n: > "$3"\nexit 1\n')

    slim_layer.strip_libraries(site, str(tool), arch="aarch64")

    assert library.read_bytes() == ELF_HEADER
    assert "SKIPPED stripping _cffi_backend.cpython-313-aarch64-linux-gnu.so: broken-strip failed" in (
        capsys.readouterr().out
    )


def test_the_strip_tool_is_the_targets_binutils_then_llvm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    llvm = write_tool(bin_dir / "llvm-strip-19", "")
    monkeypatch.setenv("PATH", str(bin_dir))

    assert slim_layer.find_strip("aarch64") == str(llvm)
    gnu = write_tool(bin_dir / "aarch64-linux-gnu-strip", "")
    assert slim_layer.find_strip("aarch64") == str(gnu)
    assert slim_layer.find_strip("aarch64", requested=str(llvm)) == str(llvm)
    assert slim_layer.find_strip("aarch64", requested="no-such-strip") is None


REAL_LIBRARY = next(Path(pytest.__file__).parents[1].glob("_cffi_backend*.so"), None)


@pytest.mark.skipif(
    REAL_LIBRARY is None or slim_layer.find_strip(platform.machine()) is None, reason="needs a strip and a library"
)
def test_a_real_strip_removes_the_symbol_table_the_check_looks_for(tmp_path: Path) -> None:
    assert REAL_LIBRARY is not None
    site = tmp_path / "python"
    site.mkdir()
    library = Path(shutil.copy2(REAL_LIBRARY, site / REAL_LIBRARY.name))
    assert arm64.has_symbol_table(library) is True

    before, after = slim_layer.strip_libraries(site, slim_layer.find_strip(platform.machine()), arch=platform.machine())

    assert after < before and arm64.has_symbol_table(library) is False
    size = arm64.layer_size(tmp_path, zipped=0)
    assert (size.libraries, size.unstripped) == (1, ())
    assert arm64.has_symbol_table(Path(pytest.__file__)) is None  # not an ELF file


def test_an_unstripped_library_is_named_in_the_checks_report() -> None:
    size = arm64.LayerSize(10, 5 * arm64.MIB, 2 * arm64.MIB, 2, ("python/x.so",))

    assert arm64.describe_size(size) == (
        "10 files, 5.0 MiB unzipped, 2.0 MiB zipped; 1 of 2 shared libraries stripped "
        "(not: python/x.so; no strip tool at build time?)"
    )


def test_the_lazily_imported_modules_the_scenario_loads_are_found_in_the_code() -> None:
    lazy = arm64.lazy_modules(arm64.LAYER_SOURCE, function_definitions(TEMPLATE))

    assert {"aws_lambda_powertools.utilities.idempotency", "fastjsonschema", "boto3", "joserfc.jws"} <= set(lazy)
    assert "devicekeys.event_publisher" in lazy and "__future__" not in lazy


def test_a_lazy_import_that_names_an_attribute_is_no_failure_a_missing_module_is() -> None:
    failures = arm64_scenario.import_lazy_modules(["json", "json.dumps", "json.no_such_name", "no_such_module_x"])

    assert [failure.split(":")[0] for failure in failures] == ["json.no_such_name", "no_such_module_x"]


BUILD_TOOLS = shutil.which("make") is not None and python313() is not None


@pytest.mark.slow
@pytest.mark.skipif(not BUILD_TOOLS, reason="needs make and CPython 3.13 to build the layer")
def test_the_slimmed_layer_built_for_this_machine_runs_the_scenario_and_every_lazy_import(tmp_path: Path) -> None:
    """The Makefile's build for x86-64, slimmed as for arm64: every handler, the scenario, every lazy import."""
    layer = arm64.build_layer(tmp_path / "layer", arch=platform.machine(), steps=slim_layer.STEPS)
    site = layer / "python"
    assert (site / "cryptography").is_dir() and next(site.glob("_cffi_backend*.so"))
    assert not (site / "cffi").exists() and not (site / "aws_lambda_powertools/utilities/parameters").exists()
    sdk = tmp_path / "sdk"  # the runtime's SDK: this venv's copy, beside the layer as Lambda's is
    sdk.mkdir()
    venv_site = Path(boto3.__file__).parents[1]
    for name in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3"):
        (sdk / name).symlink_to(venv_site / name)
    functions = function_definitions(TEMPLATE)
    tree = arm64.LambdaTree(tmp_path / "tree")
    table_names = local_table_names("native", TEMPLATE)

    with arm64.local_dynamodb(TEMPLATE, table_names) as endpoint:
        arm64.lay_out(tree, layer, functions, sdk)
        environments = arm64.lambda_environments(TEMPLATE, table_names, endpoint)
        spec = tmp_path / "spec.json"
        lazy = arm64.lazy_modules(tree.opt / "python", functions)
        spec.write_text(json.dumps(arm64.scenario_spec(tree, functions, environments, lazy)))
        run = arm64.run_emulated(arm64.Native(flags=arm64.NATIVE_FLAGS), spec, ["scenario"], timeout=300)

    assert run.failure is None
    summary = run.lines[-1]["summary"]
    assert summary["ok"] and summary["steps"] == 8 and summary["lazy_modules"] == len(lazy) > 50
    assert arm64.compiled_by_place(summary["compiled_from_source"], tree)["layer"] == []
    assert [line["import"] for line in run.lines if "import" in line] == [f.logical_id for f in functions]


def test_imports_the_code_expects_to_miss_are_not_lazy_imports_to_prove_but_still_bind_the_build() -> None:
    source = (
        "def hooks():\n    try:\n        import snapshot_restore_py\n    except ImportError:\n        return None\n"
        "    else:\n        import json\n    return snapshot_restore_py\n"
    )

    assert [name for _line, name in slim_layer.imported_modules(source, "pkg", optional=False)] == ["json"]
    assert {name for _line, name in slim_layer.imported_modules(source, "pkg")} == {"json", "snapshot_restore_py"}
