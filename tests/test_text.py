"""JSON and text rules (``devicekeys.text``): what every entry point accepts as a document and as text."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from devicekeys import text
from devicekeys.errors import InvalidRequest
from devicekeys.inputs import parse_json_body
from hypothesis import given, settings
from hypothesis import strategies as st

REFUSED_DOCUMENTS = {
    "nan": b'{"iat": NaN}',
    "infinity": b'{"iat": Infinity}',
    "minus-infinity": b'{"n": [-Infinity]}',
    "overflow": b'{"iat": 1e999}',
    "negative-overflow": b'{"n": -1.5e400}',
    "lone-high-surrogate": b'{"display_name": "\\ud800"}',
    "lone-low-surrogate": b'{"custom_data": {"x": ["\\udfff"]}}',
    "surrogate-in-a-name": b'{"custom_data": {"\\ud800": 1}}',
    "nul": b'{"display_name": "a\\u0000b"}',
    "duplicate-member": b'{"proof": "a", "proof": "b"}',
    "duplicate-nested": b'{"custom_data": {"k": 1, "k": 2}}',
    "too-deep": b'{"custom_data": ' + b"[" * 40 + b"]" * 40 + b"}",
    "not-utf-8": b'{"display_name": "\xff"}',
    "not-json": b"{proof: 1}",
}


@pytest.mark.parametrize("raw", REFUSED_DOCUMENTS.values(), ids=REFUSED_DOCUMENTS.keys())
def test_documents_outside_the_rules_are_refused(raw: bytes) -> None:
    with pytest.raises(text.JsonTextError):
        text.loads(raw)


def test_the_refusal_says_what_is_wrong_without_python_reprs() -> None:
    with pytest.raises(text.JsonTextError, match=r"^the request body holds NaN, which is not a JSON number$"):
        text.loads(b'{"iat": NaN}', what="the request body")
    with pytest.raises(text.JsonTextError, match="repeats a member name"):
        text.loads(b'{"a": 1, "a": 1}')


def test_ordinary_documents_and_real_non_ascii_text_are_accepted() -> None:
    document = text.loads('{"name": "Ada\'s Pixel \\ud83d\\ude00 é 漢字", "n": 1.5, "big": 12345678901234567890}')
    assert document["name"] == "Ada's Pixel \U0001f600 é 漢字"
    assert text.loads(b'{"a": ' + b"[" * 31 + b"]" * 31 + b"}")  # 32 levels: the limit itself


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), "\ud800", "a\x00", {"\udc00": 1}, [[[[float("-inf")]]]]],
    ids=["nan", "inf", "surrogate", "nul", "surrogate-name", "nested-inf"],
)
def test_parsed_documents_are_checked_the_same_way(value: Any) -> None:
    # A direct invocation arrives parsed by the Lambda runtime, NaN and lone surrogates included.
    with pytest.raises(text.JsonTextError):
        text.check({"custom_data": {"v": value}})


hostile_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=12)
json_trees = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(hostile_text, children, max_size=3),
    max_leaves=10,
)


@given(document=json_trees)
@settings(max_examples=400, deadline=None)
def test_whatever_a_client_sends_an_accepted_document_holds_only_text_and_finite_numbers(document: Any) -> None:
    """Property: a body either is refused (a 4xx) or every string in it can be stored as UTF-8."""
    raw = json.dumps(document).encode()  # ensure_ascii: lone surrogates become \\udXXX escapes
    try:
        accepted = text.loads(raw)
    except text.JsonTextError:
        return
    _assert_storable(accepted)


def _assert_storable(value: Any) -> None:
    if isinstance(value, str):
        value.encode("utf-8")
        assert "\x00" not in value
    elif isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for name, member in value.items():
            _assert_storable(name)
            _assert_storable(member)
    elif isinstance(value, list):
        for item in value:
            _assert_storable(item)


DISPLAY = re.compile(text.DISPLAY_TEXT_PATTERN)


@pytest.mark.parametrize(
    "character",
    ["\x07", "\n", "\x1b", "\x7f", "\x85", "\x9f", "\u2028", "\u2029", "\u202a", "\u202e", "\u2066", "\u2069"],
)
def test_names_people_read_refuse_controls_and_bidirectional_overrides(character: str) -> None:
    assert DISPLAY.fullmatch(f"Ada{character}s phone") is None
    with pytest.raises(InvalidRequest, match="display_name must not contain control characters or bidirectional"):
        parse_json_body(json.dumps({"proof": "x", "display_name": f"x{character}"}).encode(), "RegisterRequest")


@pytest.mark.parametrize("name", ["Ada's Pixel", "Téléphone de Zoé", "手机", "هاتف", "📱 work", "a" * 64])
def test_names_in_any_script_are_accepted(name: str) -> None:
    assert DISPLAY.fullmatch(name)
    assert parse_json_body(json.dumps({"proof": "x", "display_name": name}).encode(), "RegisterRequest")
