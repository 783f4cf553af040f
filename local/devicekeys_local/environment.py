"""What template.yaml gives each function at run time: parameters, environment variables, layers.

A deployed function sees its ``Environment.Variables`` with CloudFormation's intrinsics
resolved. Locally they are resolved the same way, from parameter defaults (or overrides), the
local table names and a few pseudo parameters. The evaluator covers what a SAM template's
function settings use and fails loudly on anything else, rather than guessing a value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .template import TEMPLATE, load_template, resources

LOCAL_TABLE_PREFIX = "devicekeys-local"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# Where a function inside a `sam local` container finds a DynamoDB Local running on the host.
SAM_LOCAL_DYNAMODB_ENDPOINT = "http://host.docker.internal:8000"


class TemplateError(ValueError):
    """The template (or an override) asks for something the local runner cannot resolve."""


class _NoValue:
    """``AWS::NoValue``: the property is dropped."""


NO_VALUE = _NoValue()


def local_table_names(prefix: str = LOCAL_TABLE_PREFIX, path: Path = TEMPLATE) -> dict[str, str]:
    """A readable local name per template table: ``DeviceKeysTable`` -> ``devicekeys-local-device-keys``."""
    names = {}
    for logical_id in resources("AWS::DynamoDB::Table", path):
        stem = logical_id.removesuffix("Table") or logical_id
        names[logical_id] = f"{prefix}-" + re.sub(r"(?<!^)(?=[A-Z])", "-", stem).lower()
    return names


def resolve_parameters(overrides: Mapping[str, str] | None = None, path: Path = TEMPLATE) -> dict[str, Any]:
    """Parameter values as CloudFormation would take them: override, else ``Default``.

    Checks what CloudFormation checks (unknown names, ``AllowedValues``, ``MinValue``/``MaxValue``,
    numbers), so a bad value fails at startup instead of inside a function. A
    ``CommaDelimitedList`` resolves to a list. Parameters with neither are left out; referencing
    one is an error.
    """
    declared = load_template(path).get("Parameters") or {}
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"unknown template parameter(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            raw = str(overrides[name])
        elif "Default" in spec:
            raw = str(spec["Default"])
        else:
            continue
        values[name] = _checked_parameter(name, raw, spec)
    return values


def _checked_parameter(name: str, raw: str, spec: Mapping[str, Any]) -> Any:
    kind = spec.get("Type", "String")
    allowed = spec.get("AllowedValues")
    if allowed is not None and raw not in [str(value) for value in allowed]:
        raise TemplateError(f"{name} must be one of {', '.join(map(str, allowed))}, got {raw!r}")
    if kind == "Number":
        try:
            number = float(raw)
        except ValueError as exc:
            raise TemplateError(f"{name} must be a number, got {raw!r}") from exc
        low, high = spec.get("MinValue"), spec.get("MaxValue")
        if (low is not None and number < float(low)) or (high is not None and number > float(high)):
            raise TemplateError(f"{name} must be between {low} and {high}, got {raw}")
    if kind == "CommaDelimitedList":
        return [item.strip() for item in raw.split(",")] if raw else []
    return raw


@dataclass
class Resolver:
    """Evaluates intrinsic functions against one local deployment of the template."""

    parameters: dict[str, Any]
    physical_ids: dict[str, str] = field(default_factory=dict)
    path: Path = TEMPLATE

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            if name in ("Ref", "Condition") or name.startswith("Fn::"):
                return self._intrinsic(name, argument)
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not NO_VALUE}

    def _intrinsic(self, name: str, argument: Any) -> Any:
        handlers: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Condition": self.condition,
            "Fn::If": self._if,
            "Fn::Equals": lambda pair: str(self.resolve(pair[0])) == str(self.resolve(pair[1])),
            "Fn::Not": lambda items: not self._truth(items[0]),
            "Fn::And": lambda items: all(self._truth(item) for item in items),
            "Fn::Or": lambda items: any(self._truth(item) for item in items),
            "Fn::Join": lambda pair: pair[0].join(str(item) for item in self.resolve(pair[1])),
            "Fn::Select": lambda pair: self.resolve(pair[1])[int(self.resolve(pair[0]))],
            "Fn::GetAtt": lambda pair: self._get_att(*pair),
            "Fn::Sub": self._sub,
        }
        if name not in handlers:
            raise TemplateError(f"{name} is not supported by the local runner")
        return handlers[name](argument)

    def _if(self, argument: list[Any]) -> Any:
        condition, when_true, when_false = argument
        return self.resolve(when_true if self.condition(condition) else when_false)

    def condition(self, name: str) -> bool:
        conditions = load_template(self.path).get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"unknown condition {name!r}")
        return bool(self.resolve(conditions[name]))

    def _truth(self, value: Any) -> bool:
        if isinstance(value, dict) and set(value) == {"Condition"}:
            return self.condition(value["Condition"])
        return bool(self.resolve(value))

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::NoValue": NO_VALUE,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "devicekeys-local",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in (load_template(self.path).get("Parameters") or {}):
            raise TemplateError(f"parameter {name} has no Default: pass --parameter-overrides {name}=...")
        if name in load_template(self.path)["Resources"]:
            return self.physical_ids.get(name, name)
        if name.endswith(".Alias"):
            return self._function_alias(name.removesuffix(".Alias"))
        raise TemplateError(f"!Ref {name}: no such parameter or resource")

    def _function_alias(self, logical_id: str) -> str:
        """``!Ref Function.Alias``: the ARN of the alias SAM's ``AutoPublishAlias`` makes."""
        template = load_template(self.path)
        function = template["Resources"].get(logical_id) or {}
        if function.get("Type") != "AWS::Serverless::Function":
            raise TemplateError(f"!Ref {logical_id}.Alias: {logical_id} is not a function of the template")
        global_alias = ((template.get("Globals") or {}).get("Function") or {}).get("AutoPublishAlias")
        alias = function["Properties"].get("AutoPublishAlias", global_alias)
        if alias is None:
            raise TemplateError(f"!Ref {logical_id}.Alias: the function has no AutoPublishAlias")
        name = self.physical_ids.get(logical_id, logical_id)
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}:{self.resolve(alias)}"

    def _get_att(self, logical_id: str, attribute: str) -> str:
        resource_type = load_template(self.path)["Resources"][logical_id]["Type"]
        if resource_type == "AWS::DynamoDB::Table" and attribute == "Arn":
            name = self.physical_ids.get(logical_id, logical_id)
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
        return f"arn:aws:local:{REGION}:{ACCOUNT_ID}:{logical_id}/{attribute}"

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        resolved = {key: self.resolve(value) for key, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved:
                return str(resolved[name])
            if name.endswith(".Alias"):
                return self._function_alias(name.removesuffix(".Alias"))
            if "." in name:
                return self._get_att(*name.split(".", 1))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", substitute, text)


def _as_env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def declared_environment(logical_id: str, path: Path = TEMPLATE) -> dict[str, Any]:
    """A function's environment variables as written: Globals first, its own on top (as SAM merges them)."""
    template = load_template(path)
    global_vars = (((template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}).get("Variables")
    own = ((template["Resources"][logical_id]["Properties"].get("Environment") or {}).get("Variables")) or {}
    return {**(global_vars or {}), **own}


def function_environment(logical_id: str, resolver: Resolver) -> dict[str, str]:
    """The environment variables a deployed function would get, intrinsics resolved, NoValue dropped."""
    environment = {}
    for name, raw in declared_environment(logical_id, resolver.path).items():
        value = resolver.resolve(raw)
        if value is not NO_VALUE:
            environment[name] = _as_env_value(value)
    return environment


def layer_directories(logical_id: str, path: Path = TEMPLATE) -> list[Path]:
    """The source directories of a function's layers, in order: what Lambda mounts as /opt/python."""
    template = load_template(path)
    global_layers = ((template.get("Globals") or {}).get("Function") or {}).get("Layers") or []
    layers = template["Resources"][logical_id]["Properties"].get("Layers") or global_layers
    directories = []
    for layer in layers:
        if not (isinstance(layer, dict) and "Ref" in layer):
            raise TemplateError(f"{logical_id}: only layers of this template (!Ref) run locally, got {layer!r}")
        content = template["Resources"][layer["Ref"]]["Properties"]["ContentUri"]
        directories.append(path.parent / content)
    return directories


def sam_local_env_vars(
    table_prefix: str = LOCAL_TABLE_PREFIX,
    dynamodb_endpoint: str = SAM_LOCAL_DYNAMODB_ENDPOINT,
    path: Path = TEMPLATE,
) -> dict[str, dict[str, str]]:
    """The ``--env-vars`` document for ``sam local``: per function, what sam cannot resolve itself.

    SAM CLI resolves parameters itself (so ``--parameter-overrides`` keep working) but resolves a
    ``!Ref`` to a table as its logical id, and knows nothing of DynamoDB Local: only the table
    names and ``DYNAMODB_ENDPOINT`` go in the file.
    """
    tables = local_table_names(table_prefix, path)
    document: dict[str, dict[str, str]] = {}
    for logical_id in resources("AWS::Serverless::Function", path):
        variables = {
            name: tables[raw["Ref"]]
            for name, raw in declared_environment(logical_id, path).items()
            if isinstance(raw, dict) and raw.get("Ref") in tables
        }
        variables["DYNAMODB_ENDPOINT"] = dynamodb_endpoint
        document[logical_id] = dict(sorted(variables.items()))
    return document
