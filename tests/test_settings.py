"""Deployment settings: one table of variables, defaults and bounds, and the template agrees with it.

A setting out of its bounds is a deployment bug: the function must refuse to start with a
message naming the variable, rather than run with a challenge that lives an hour too long.
"""

from __future__ import annotations

from typing import Any

import pytest
from devicekeys.settings import NUMERIC, REQUIRED, Settings, SettingsError
from devicekeys_local.environment import declared_environment
from devicekeys_local.template import load_template, resources
from hypothesis import given
from hypothesis import strategies as st

TABLES = {"DEVICE_KEYS_TABLE": "keys", "CHALLENGES_TABLE": "challenges"}


def settings(**variables: str) -> Settings:
    return Settings.from_env({**TABLES, **variables})


def test_unset_numbers_take_their_defaults() -> None:
    read = settings()

    for name, setting in NUMERIC.items():
        assert getattr(read, name) == setting.default, name


@pytest.mark.parametrize("missing", REQUIRED)
def test_a_missing_table_name_stops_the_function_naming_it(missing: str) -> None:
    env = {name: value for name, value in TABLES.items() if name != missing}

    with pytest.raises(SettingsError, match=missing):
        Settings.from_env(env)


@pytest.mark.parametrize("name", list(NUMERIC))
def test_the_bounds_are_inclusive_and_one_past_them_is_refused(name: str) -> None:
    setting = NUMERIC[name]

    assert getattr(settings(**{setting.variable: str(setting.low)}), name) == setting.low
    assert getattr(settings(**{setting.variable: str(setting.high)}), name) == setting.high
    for outside in (setting.low - 1, setting.high + 1):
        with pytest.raises(SettingsError, match=f"{setting.variable} must be between"):
            settings(**{setting.variable: str(outside)})


@pytest.mark.parametrize("raw", ["ten", "1.5", "1e3", "0x10", "1_0", "\uff11\uff10", "+-1"])
def test_a_number_that_is_not_a_plain_integer_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="MAX_DEVICES_PER_USER"):
        settings(MAX_DEVICES_PER_USER=raw)


@given(st.sampled_from(list(NUMERIC)), st.integers(min_value=-(10**6), max_value=10**6))
def test_any_integer_is_read_back_or_refused_by_its_bounds(name: str, value: int) -> None:
    setting = NUMERIC[name]
    if setting.low <= value <= setting.high:
        assert getattr(settings(**{setting.variable: f" {value} "}), name) == value
    else:
        with pytest.raises(SettingsError):
            settings(**{setting.variable: str(value)})


@pytest.mark.parametrize("raw", ["[", "[]", '{"login": 1}', '"arn"'])
def test_journey_state_machines_must_be_a_json_object_of_arns(raw: str) -> None:
    with pytest.raises(SettingsError, match="JOURNEY_STATE_MACHINES"):
        settings(JOURNEY_STATE_MACHINES=raw)


@pytest.mark.parametrize("name", list(NUMERIC))
def test_the_templates_parameter_has_the_same_default_and_bounds(name: str) -> None:
    setting = NUMERIC[name]
    parameter = load_template()["Parameters"][setting.parameter]

    assert parameter["Type"] == "Number"
    assert (int(parameter["Default"]), int(parameter["MinValue"]), int(parameter["MaxValue"])) == (
        setting.default,
        setting.low,
        setting.high,
    )


@pytest.mark.parametrize("name", list(NUMERIC))
def test_every_function_gets_the_setting_from_its_parameter(name: str) -> None:
    setting = NUMERIC[name]

    for logical_id in resources("AWS::Serverless::Function"):
        declared: Any = declared_environment(logical_id).get(setting.variable)
        assert declared == {"Ref": setting.parameter}, (logical_id, setting.variable)
