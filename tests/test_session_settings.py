"""Bound sessions' settings: one table of variables and bounds, and the template agrees with it."""

from __future__ import annotations

from typing import Any

import pytest
from devicekeys.session_settings import DEFAULT_COOKIE_NAME, SESSION_NUMERIC, SessionSettings
from devicekeys.settings import SettingsError
from devicekeys_local.environment import declared_environment
from devicekeys_local.template import load_template, resources


def test_unset_variables_take_their_defaults() -> None:
    read = SessionSettings.from_env({})

    assert (read.cookie_name, read.origin, read.signing_key_id) == (DEFAULT_COOKIE_NAME, None, None)
    for name, setting in SESSION_NUMERIC.items():
        assert getattr(read, name) == setting.default


@pytest.mark.parametrize("name", list(SESSION_NUMERIC))
def test_the_templates_parameter_has_the_same_default_and_bounds(name: str) -> None:
    setting = SESSION_NUMERIC[name]
    parameter = load_template()["Parameters"][setting.parameter]

    assert (int(parameter["Default"]), int(parameter["MinValue"]), int(parameter["MaxValue"])) == (
        setting.default,
        setting.low,
        setting.high,
    )
    for outside in (setting.low - 1, setting.high + 1):
        with pytest.raises(SettingsError, match=setting.variable):
            SessionSettings.from_env({setting.variable: str(outside)})


def test_every_function_that_reads_a_session_setting_gets_it_from_its_parameter() -> None:
    parameters = {setting.variable: setting.parameter for setting in SESSION_NUMERIC.values()}
    parameters |= {"DBSC_COOKIE_NAME": "DbscCookieName", "DBSC_SIGNING_KEY_ID": "DbscSigningKey"}
    readers = 0
    for logical_id in resources("AWS::Serverless::Function"):
        declared: dict[str, Any] = declared_environment(logical_id)
        for variable, parameter in parameters.items():
            if variable in declared:
                assert declared[variable] == {"Ref": parameter}, (logical_id, variable)
                readers += 1
    assert readers >= 10
    template_default = load_template()["Parameters"]["DbscCookieName"]["Default"]
    assert template_default == DEFAULT_COOKIE_NAME


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"DBSC_COOKIE_NAME": "a b"}, "DBSC_COOKIE_NAME"),
        ({"DBSC_COOKIE_NAME": "a;b"}, "DBSC_COOKIE_NAME"),
        ({"DBSC_ORIGIN": "http://app.example.com"}, "DBSC_ORIGIN"),
        ({"DBSC_ORIGIN": "https://app.example.com/"}, "DBSC_ORIGIN"),
    ],
)
def test_a_cookie_name_or_origin_outside_the_rules_stops_the_function(variables: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        SessionSettings.from_env(variables)
