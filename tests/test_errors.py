"""The error family: every code the server can answer is listed once, and every client knows it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from devicekeys import errors
from devicekeys.binding import DeviceBinding
from devicekeys.challenges import ChallengeService
from devicekeys.device_keys import DeviceKeyService
from devicekeys_client.errors import ERRORS_BY_CODE


def _every_subclass(base: type) -> set[type]:
    found = set()
    for cls in base.__subclasses__():
        found |= {cls, *_every_subclass(cls)}
    return found


def test_every_error_class_of_the_domain_is_in_the_explicit_list() -> None:
    assert _every_subclass(errors.DeviceKeysError) <= set(errors.ALL_ERRORS)


def test_codes_and_names_are_unique_and_map_back_to_their_class() -> None:
    assert len(errors.ERROR_STATUS) == len(errors.ALL_ERRORS)
    for cls in errors.ALL_ERRORS:
        assert errors.BY_NAME[cls.__name__] is cls
        assert errors.ERROR_STATUS[cls.code] == cls.status


def test_the_python_client_has_a_class_for_every_code_the_server_answers() -> None:
    assert set(errors.ERROR_STATUS) <= set(ERRORS_BY_CODE)


def test_the_web_client_names_every_code_the_server_answers() -> None:
    source = (Path(__file__).parents[1] / "clients" / "web" / "sdk" / "errors.js").read_text()
    typedef = re.search(r"@typedef \{(.*?)\} ApiErrorCode", source, re.DOTALL)
    assert typedef is not None, "errors.js declares the API's codes as the ApiErrorCode typedef"

    assert set(re.findall(r'"([a-z_]+)"', typedef.group(1))) == set(errors.ERROR_STATUS)


def test_every_public_method_of_the_domain_says_what_it_raises() -> None:
    missing = [
        f"{service.__name__}.{name}"
        for service in (DeviceKeyService, DeviceBinding, ChallengeService)
        for name, method in inspect.getmembers(service, inspect.isfunction)
        if not name.startswith("_") and "Raises:" not in (inspect.getdoc(method) or "")
    ]
    assert missing == []
