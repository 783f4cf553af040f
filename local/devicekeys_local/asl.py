"""Static checks of Amazon States Language definitions (JSONPath mode) before anything deploys them.

``sam validate --lint`` checks an inline ``Definition``, but not a ``DefinitionUri`` file: a
misspelt ``Next`` in ``statemachines/*.asl.json`` would only fail at deploy time, and a state
no transition reaches would never fail at all. ``problems`` reports what the States Language
specification forbids, plus dead states and loops without an exit, for every scope (the top
level, each Map's ItemProcessor, each Parallel branch).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

STATE_TYPES = frozenset({"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"})
TERMINAL_TYPES = frozenset({"Succeed", "Fail"})
CAN_RECOVER = frozenset({"Task", "Map", "Parallel"})  # the states that may Retry and Catch

_OPERAND_TYPES: dict[str, tuple[type, ...]] = {
    "String": (str,),
    "Numeric": (int, float),
    "Boolean": (bool,),
    "Timestamp": (str,),
}
_RELATIONS = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
COMPARISONS: dict[str, tuple[type, ...]] = {
    **{f"{kind}{relation}": types for kind, types in _OPERAND_TYPES.items() for relation in _RELATIONS},
    "BooleanEquals": (bool,),
    "StringMatches": (str,),
    **dict.fromkeys(("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"), (bool,)),
}
PATH_COMPARISONS = frozenset(
    f"{name}Path" for name in COMPARISONS if not name.startswith("Is") and name != "StringMatches"
)


def problems(definition: Mapping[str, Any]) -> list[str]:
    """Everything wrong with ``definition``, as ``scope/state: message`` lines; empty when valid."""
    found: list[str] = []
    _check_scope(definition, "", found)
    return found


def state_names(definition: Mapping[str, Any]) -> set[str]:
    """Every state's name, nested scopes included (names are unique within a state machine)."""
    return {name for _, name, _ in _states(definition)}


def _states(scope: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], str, Mapping[str, Any]]]:
    for name, state in (scope.get("States") or {}).items():
        yield scope, name, state
        for inner in _inner_scopes(state):
            yield from _states(inner)


def _inner_scopes(state: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if state.get("Type") == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        return [processor] if isinstance(processor, Mapping) else []
    if state.get("Type") == "Parallel":
        return [branch for branch in state.get("Branches") or [] if isinstance(branch, Mapping)]
    return []


def transitions(state: Mapping[str, Any]) -> list[str]:
    """The states ``state`` may go to next, within its own scope."""
    targets = [state["Next"]] if "Next" in state else []
    if state.get("Type") == "Choice":
        targets += [rule["Next"] for rule in state.get("Choices") or [] if isinstance(rule, Mapping) and "Next" in rule]
        if "Default" in state:
            targets.append(state["Default"])
    targets += [
        catcher["Next"] for catcher in state.get("Catch") or [] if isinstance(catcher, Mapping) and "Next" in catcher
    ]
    return targets


def _check_scope(scope: Mapping[str, Any], where: str, found: list[str]) -> None:
    states = scope.get("States")
    if not isinstance(states, Mapping) or not states:
        found.append(f"{where or '/'}: States must be a non-empty object")
        return
    start = scope.get("StartAt")
    if start not in states:
        found.append(f"{where or '/'}: StartAt {start!r} is not a state of this scope")
    for name, state in states.items():
        at = f"{where}/{name}"
        if not isinstance(state, Mapping):
            found.append(f"{at}: a state must be an object")
            continue
        _check_state(state, at, found)
        for target in transitions(state):
            if target not in states:
                found.append(f"{at}: transition to {target!r}, which is not a state of this scope")
        for index, inner in enumerate(_inner_scopes(state)):
            _check_scope(inner, f"{at}[{index}]" if state.get("Type") == "Parallel" else at, found)
    if isinstance(start, str) and start in states:
        _check_graph(states, start, where, found)


def _check_graph(states: Mapping[str, Any], start: str, where: str, found: list[str]) -> None:
    """Every state reachable from StartAt, and an end reachable from every state (no closed loops)."""
    edges = {name: [t for t in transitions(state) if t in states] for name, state in states.items()}
    reachable = _closure([start], edges)
    for name in states:
        if name not in reachable:
            found.append(f"{where}/{name}: no transition reaches this state")
    ends = [
        name
        for name, state in states.items()
        if isinstance(state, Mapping) and (state.get("Type") in TERMINAL_TYPES or state.get("End") is True)
    ]
    reverse: dict[str, list[str]] = {name: [] for name in states}
    for name, targets in edges.items():
        for target in targets:
            reverse[target].append(name)
    can_end = _closure(ends, reverse)
    for name in sorted(reachable - can_end):
        found.append(f"{where}/{name}: no path from this state ever ends the execution")


def _closure(start: list[str], edges: Mapping[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    pending = list(start)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(edges.get(name, []))
    return seen


def _check_state(state: Mapping[str, Any], at: str, found: list[str]) -> None:
    kind = state.get("Type")
    if kind not in STATE_TYPES:
        found.append(f"{at}: unknown Type {kind!r}")
        return
    _check_ending(state, str(kind), at, found)
    if kind == "Choice":
        _check_choices(state, at, found)
    if kind == "Fail" and not ({"Error", "ErrorPath"} & set(state)):
        found.append(f"{at}: a Fail state names its Error")
    if kind == "Task" and not isinstance(state.get("Resource"), str):
        found.append(f"{at}: a Task needs a Resource")
    for field in ("Retry", "Catch"):
        if field in state:
            if kind not in CAN_RECOVER:
                found.append(f"{at}: {field} is only allowed on Task, Map and Parallel states")
            _check_recovery(state[field], field, at, found)
    for field in ("Parameters", "ResultSelector", "ItemSelector"):
        if field in state:
            _check_templates(state[field], f"{at}.{field}", found)
    for field in ("InputPath", "OutputPath", "ResultPath", "ItemsPath"):
        value = state.get(field)
        if value is not None and not (isinstance(value, str) and value.startswith("$")):
            found.append(f"{at}: {field} must be a path starting with $ (or null)")


def _check_ending(state: Mapping[str, Any], kind: str, at: str, found: list[str]) -> None:
    """Next and End are exclusive; Choice, Succeed and Fail have neither."""
    has_next, ends = "Next" in state, state.get("End") is True
    if "End" in state and not isinstance(state["End"], bool):
        found.append(f"{at}: End must be true or absent")
    if kind == "Choice":
        if has_next or "End" in state:
            found.append(f"{at}: a Choice state has neither Next nor End (its rules say where to go)")
    elif kind in TERMINAL_TYPES:
        if has_next or "End" in state:
            found.append(f"{at}: a {kind} state ends the scope; it has neither Next nor End")
    elif has_next == ends:
        found.append(f"{at}: exactly one of Next and End: true is required")


def _check_choices(state: Mapping[str, Any], at: str, found: list[str]) -> None:
    rules = state.get("Choices")
    if not isinstance(rules, list) or not rules:
        found.append(f"{at}: Choices must be a non-empty array")
        return
    for index, rule in enumerate(rules):
        if not isinstance(rule, Mapping) or "Next" not in rule:
            found.append(f"{at}.Choices[{index}]: a top-level rule needs Next")
            continue
        _check_rule({k: v for k, v in rule.items() if k not in ("Next", "Comment")}, f"{at}.Choices[{index}]", found)


def _check_rule(rule: Any, at: str, found: list[str]) -> None:
    """A Boolean expression (And, Or, Not) or one comparison of a Variable; nested rules have no Next."""
    if not isinstance(rule, Mapping):
        found.append(f"{at}: a rule must be an object")
        return
    if "Next" in rule:
        found.append(f"{at}: a nested rule must not have Next")
    body = {k: v for k, v in rule.items() if k not in ("Next", "Comment")}
    operators = [k for k in body if k in ("And", "Or", "Not")]
    if operators:
        _check_boolean(body, operators[0], at, found)
    else:
        _check_comparison(body, at, found)


def _check_boolean(body: Mapping[str, Any], operator: str, at: str, found: list[str]) -> None:
    if len(body) != 1:
        found.append(f"{at}: {operator} must be the rule's only field")
    if operator == "Not":
        _check_rule(body[operator], f"{at}.Not", found)
    elif not isinstance(body[operator], list) or not body[operator]:
        found.append(f"{at}: {operator} takes a non-empty array of rules")
    else:
        for index, inner in enumerate(body[operator]):
            _check_rule(inner, f"{at}.{operator}[{index}]", found)


def _check_comparison(body: Mapping[str, Any], at: str, found: list[str]) -> None:
    variable = body.get("Variable")
    if not (isinstance(variable, str) and variable.startswith("$")):
        found.append(f"{at}: a comparison needs a Variable path starting with $")
    comparisons = [k for k in body if k != "Variable"]
    if len(comparisons) != 1 or (comparisons[0] not in COMPARISONS and comparisons[0] not in PATH_COMPARISONS):
        found.append(f"{at}: a comparison has exactly one known operator, got {comparisons}")
        return
    operator, operand = comparisons[0], body[comparisons[0]]
    if operator in PATH_COMPARISONS:
        if not (isinstance(operand, str) and operand.startswith("$")):
            found.append(f"{at}: {operator} takes a path starting with $")
        return
    expected = COMPARISONS[operator]
    if not isinstance(operand, expected) or (bool not in expected and isinstance(operand, bool)):
        found.append(f"{at}: {operator} takes a {' or '.join(t.__name__ for t in expected)}, got {operand!r}")


def _check_recovery(value: Any, field: str, at: str, found: list[str]) -> None:
    if not isinstance(value, list) or not value:
        found.append(f"{at}: {field} must be a non-empty array")
        return
    for index, entry in enumerate(value):
        where = f"{at}.{field}[{index}]"
        errors = entry.get("ErrorEquals") if isinstance(entry, Mapping) else None
        if not isinstance(errors, list) or not errors or not all(isinstance(e, str) and e for e in errors):
            found.append(f"{where}: ErrorEquals must be a non-empty array of error names")
            continue
        if "States.ALL" in errors and (len(errors) != 1 or index != len(value) - 1):
            found.append(f"{where}: States.ALL must be alone and in the last {field} entry")
        if field == "Catch" and "Next" not in entry:
            found.append(f"{where}: a Catch entry needs Next")


def _check_templates(value: Any, at: str, found: list[str]) -> None:
    """A field whose name ends in ``.$`` holds a path or an intrinsic function, never a literal."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key.endswith(".$"):
                if not (isinstance(inner, str) and (inner.startswith("$") or inner.startswith("States."))):
                    found.append(f"{at}.{key}: a .$ field takes a path or an intrinsic function")
            else:
                _check_templates(inner, f"{at}.{key}", found)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _check_templates(inner, f"{at}[{index}]", found)
