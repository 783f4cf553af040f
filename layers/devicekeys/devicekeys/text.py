"""What the service accepts as JSON and as text, wherever a document comes from.

One set of rules for request bodies, direct invocations, journey inputs and the JSON inside a
device proof, so no entry point is more lenient than another:

- numbers are finite (no ``NaN``, ``Infinity``, or a literal such as ``1e999`` that overflows);
- strings and member names are Unicode text: no lone surrogates (they cannot be stored as
  UTF-8) and no NUL;
- an object has each member name once (parsers disagree on which duplicate wins);
- nesting is bounded, so no document can exhaust a parser's recursion further down the line.

Names and reasons that people read on an admin screen follow a stricter rule
(``DISPLAY_TEXT_PATTERN``): no control characters and no bidirectional overrides or isolates,
which would make one device's name render as another's.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32

# C0 and C1 controls, DEL, line/paragraph separators, and bidirectional embeddings, overrides
# and isolates (U+202A-U+202E, U+2066-U+2069). A JSON Schema "pattern" (lone surrogates and NUL
# are refused for every string by ``check``).
_NOT_DISPLAY_TEXT = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069"
DISPLAY_TEXT_PATTERN = f"^[^{_NOT_DISPLAY_TEXT}]*$"


class JsonTextError(ValueError):
    """A document breaks the rules above; the message says where, safe to show a client."""


def loads(data: bytes | str, *, what: str = "the document") -> Any:
    """Parse JSON under the rules above.

    Raises:
        JsonTextError: not UTF-8 JSON, or a document the rules refuse.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        document = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_members,
        )
    except JsonTextError as exc:
        raise JsonTextError(f"{what} {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise JsonTextError(f"{what} is not valid JSON") from exc
    check(document, what=what)
    return document


def check(document: object, *, what: str = "the document") -> None:
    """Check an already parsed document (a direct invocation's event, a JOSE header).

    Raises:
        JsonTextError: a non-finite number, a string that is not text, or nesting deeper
            than ``MAX_DEPTH``.
    """
    problem = _problem(document, 0)
    if problem is not None:
        raise JsonTextError(f"{what} {problem}")


def is_text(value: str) -> bool:
    """True for a string that can be stored and shown as UTF-8: no lone surrogate, no NUL."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _problem(value: object, depth: int) -> str | None:
    if isinstance(value, str):
        return None if is_text(value) else "holds a string that is not valid Unicode text (lone surrogate or NUL)"
    if isinstance(value, float):
        return None if math.isfinite(value) else "holds a number that is not finite"
    if not isinstance(value, dict | list):
        return None
    if depth >= MAX_DEPTH:
        return f"is nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, dict):
        if not all(isinstance(name, str) and is_text(name) for name in value):
            return "holds a member name that is not valid Unicode text"
        value = list(value.values())
    return next((found for item in value if (found := _problem(item, depth + 1)) is not None), None)


def _refuse_constant(name: str) -> Any:
    raise JsonTextError(f"holds {name}, which is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise JsonTextError(f"holds the number {literal[:20]}, which does not fit a finite double")
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise JsonTextError("repeats a member name in one object")
    return document
