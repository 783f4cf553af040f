"""The error family: every code the server can answer is listed once, and every client knows it."""

from __future__ import annotations

from devicekeys import errors
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
