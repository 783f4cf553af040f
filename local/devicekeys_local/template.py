"""Read template.yaml as the source of truth for local runs and tests.

Tables are created from the template's own ``AWS::DynamoDB::Table`` properties and functions
are found from their ``CodeUri``/``Handler``/``Events``, so nothing local drifts from what
``sam deploy`` creates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation short-form tags (!Ref, !GetAtt, ...) as data."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open() as handle:
        template: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    return template


def resources(of_type: str, path: Path = TEMPLATE) -> dict[str, dict[str, Any]]:
    return {
        name: resource for name, resource in load_template(path)["Resources"].items() if resource.get("Type") == of_type
    }


@dataclass(frozen=True)
class TableDefinition:
    logical_id: str
    create_table: dict[str, Any]
    ttl_attribute: str | None


def table_definitions(path: Path = TEMPLATE) -> list[TableDefinition]:
    """``CreateTable`` arguments (and the TTL attribute) for every table in the template."""
    tables = []
    for logical_id, resource in resources("AWS::DynamoDB::Table", path).items():
        props = resource["Properties"]
        ttl = props.get("TimeToLiveSpecification") or {}
        tables.append(
            TableDefinition(
                logical_id=logical_id,
                create_table={
                    "AttributeDefinitions": props["AttributeDefinitions"],
                    "KeySchema": props["KeySchema"],
                    "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
                    **_stream(props),
                },
                ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") else None,
            )
        )
    return tables


def _stream(props: dict[str, Any]) -> dict[str, Any]:
    stream = props.get("StreamSpecification")
    return {"StreamSpecification": {"StreamEnabled": True, **stream}} if stream else {}


def create_tables(
    client: Any, names: dict[str, str], path: Path = TEMPLATE, *, skip_existing: bool = False
) -> list[str]:
    """Create each template table as ``names[logical_id]`` with a boto3 DynamoDB client.

    With ``skip_existing`` tables that already exist are left alone (a shared DynamoDB Local,
    or AWS), and new ones are awaited before their TTL is set, as AWS requires. Returns the
    names of the tables created.
    """
    existing: set[str] = set()
    if skip_existing:
        for page in client.get_paginator("list_tables").paginate():
            existing.update(page["TableNames"])
    created = []
    for table in table_definitions(path):
        name = names[table.logical_id]
        if name in existing:
            continue
        client.create_table(TableName=name, **table.create_table)
        created.append(name)
        if skip_existing:
            client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        if table.ttl_attribute:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": table.ttl_attribute, "Enabled": True},
            )
    return created


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    open: bool
    authorizer: str | None = None  # a named authorizer of the API; None: its default (JwtAuthorizer)


@dataclass(frozen=True)
class FunctionDefinition:
    logical_id: str
    code_dir: Path
    module: str
    handler: str
    routes: list[Route] = field(default_factory=list)


def function_definitions(path: Path = TEMPLATE) -> list[FunctionDefinition]:
    """Every ``AWS::Serverless::Function`` with its code location, handler and HTTP routes."""
    functions = []
    for logical_id, resource in resources("AWS::Serverless::Function", path).items():
        props = resource["Properties"]
        module, handler = props["Handler"].rsplit(".", 1)
        routes = [
            Route(
                method=event["Properties"]["Method"].upper(),
                path=event["Properties"]["Path"],
                open=(event["Properties"].get("Auth") or {}).get("Authorizer") == "NONE",
                authorizer=(event["Properties"].get("Auth") or {}).get("Authorizer"),
            )
            for event in (props.get("Events") or {}).values()
            if event.get("Type") == "HttpApi"
        ]
        functions.append(
            FunctionDefinition(
                logical_id=logical_id,
                code_dir=path.parent / props["CodeUri"],
                module=module,
                handler=handler,
                routes=routes,
            )
        )
    return functions


@dataclass(frozen=True)
class LambdaAuthorizer:
    """An HTTP API Lambda authorizer of the template (REQUEST, payload 2.0, simple responses)."""

    name: str
    function: str  # the logical id of its function
    identity_headers: tuple[str, ...]  # lowercase; a request lacking one is refused before it runs


def lambda_authorizers(path: Path = TEMPLATE) -> dict[str, LambdaAuthorizer]:
    """The HTTP API's Lambda authorizers (``FunctionArn``: ``!GetAtt <Function>.Arn`` or ``!Ref <Function>.Alias``)."""
    found = {}
    for resource in resources("AWS::Serverless::HttpApi", path).values():
        authorizers = ((resource["Properties"].get("Auth") or {}).get("Authorizers")) or {}
        for name, spec in authorizers.items():
            if "FunctionArn" not in spec:
                continue
            if str(spec.get("AuthorizerPayloadFormatVersion")) != "2.0" or not spec.get("EnableSimpleResponses"):
                raise ValueError(f"{name}: only payload 2.0 authorizers with simple responses run locally")
            headers = ((spec.get("Identity") or {}).get("Headers")) or []
            function = _authorizer_function(name, spec["FunctionArn"])
            found[name] = LambdaAuthorizer(name, function, tuple(header.lower() for header in headers))
    return found


def _authorizer_function(name: str, arn: Any) -> str:
    """The logical id of the function an authorizer's ``FunctionArn`` names (its ARN, or its alias's)."""
    get_att = arn.get("Fn::GetAtt") if isinstance(arn, dict) else None
    if isinstance(get_att, list) and len(get_att) == 2 and get_att[1] == "Arn":
        return str(get_att[0])
    ref = arn.get("Ref") if isinstance(arn, dict) else None
    if isinstance(ref, str) and ref.endswith(".Alias"):
        return ref.removesuffix(".Alias")
    raise ValueError(f"{name}: a Lambda authorizer must be !GetAtt <Function>.Arn or !Ref <Function>.Alias")


@dataclass(frozen=True)
class StreamSubscription:
    """A function's ``DynamoDB`` event: which table's stream invokes it, and how (the event source mapping)."""

    function: str
    table: str  # the table's logical id
    batch_size: int
    maximum_retry_attempts: int
    reports_item_failures: bool


def stream_subscriptions(path: Path = TEMPLATE) -> list[StreamSubscription]:
    """Every ``Type: DynamoDB`` event of the template's functions (``Stream: !GetAtt Table.StreamArn``)."""
    subscriptions = []
    for logical_id, resource in resources("AWS::Serverless::Function", path).items():
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") != "DynamoDB":
                continue
            props = event["Properties"]
            stream = props["Stream"].get("Fn::GetAtt") if isinstance(props["Stream"], dict) else None
            if not (isinstance(stream, list) and stream[1] == "StreamArn"):
                raise ValueError(f"{logical_id}: a stream event must be !GetAtt <Table>.StreamArn")
            subscriptions.append(
                StreamSubscription(
                    function=logical_id,
                    table=str(stream[0]),
                    batch_size=int(props.get("BatchSize", 100)),
                    maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                    reports_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                )
            )
    return subscriptions


# --- journeys: the template's state machines ----------------------------------------------------

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")
LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT = "123456789012"


@dataclass(frozen=True)
class JourneyDefinition:
    """One ``AWS::Serverless::StateMachine`` of the template; ``name`` is its file's stem."""

    name: str
    logical_id: str
    definition_path: Path
    # ``${Placeholder}`` in the ASL -> logical id of the function whose ARN replaces it
    substitutions: dict[str, str]
    type: str

    def definition(self) -> str:
        """The ASL with every placeholder replaced by the local ARN of its function."""
        text = self.definition_path.read_text()
        missing = set(_PLACEHOLDER.findall(text)) - set(self.substitutions)
        if missing:
            raise ValueError(f"{self.definition_path.name}: no DefinitionSubstitutions for {sorted(missing)}")
        return _PLACEHOLDER.sub(lambda match: function_arn(self.substitutions[match.group(1)]), text)


def function_arn(logical_id: str) -> str:
    """Locally a function is named after its logical id, so its ARN leads back to the handler."""
    return f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{logical_id}"


def state_machine_arn(name: str) -> str:
    return f"arn:aws:states:{LOCAL_REGION}:{LOCAL_ACCOUNT}:stateMachine:{name}"


def invoked_function(value: Any) -> str:
    """The function an ARN in the template names: ``!Ref Function.Alias`` (SAM's AutoPublishAlias) or
    ``!GetAtt Function.Arn``.

    Locally there are no versions: a journey that invokes a function's alias invokes its one
    handler, through the unqualified local ARN (``function_arn``).
    """
    ref = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
    if isinstance(ref, str) and ref.endswith(".Alias"):
        return ref.removesuffix(".Alias")
    get_att = value.get("Fn::GetAtt") if isinstance(value, dict) else None
    if not (isinstance(get_att, list) and len(get_att) == 2 and get_att[1] == "Arn"):
        raise ValueError(f"a function ARN must be !Ref <Function>.Alias or !GetAtt <Function>.Arn, got {value!r}")
    return str(get_att[0])


def journey_definitions(path: Path = TEMPLATE) -> list[JourneyDefinition]:
    """Every state machine the template deploys, read from the template itself."""
    journeys = []
    for logical_id, resource in resources("AWS::Serverless::StateMachine", path).items():
        props = resource["Properties"]
        definition_path = path.parent / props["DefinitionUri"]
        journeys.append(
            JourneyDefinition(
                name=definition_path.name.removesuffix(".asl.json"),
                logical_id=logical_id,
                definition_path=definition_path,
                substitutions={
                    name: invoked_function(value)
                    for name, value in (props.get("DefinitionSubstitutions") or {}).items()
                },
                type=props.get("Type", "STANDARD"),
            )
        )
    return journeys
