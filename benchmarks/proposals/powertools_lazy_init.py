"""Proposal: make two of Powertools' package ``__init__`` modules lazy (PEP 562) in the built layer.

``aws_lambda_powertools.event_handler`` imports every resolver it offers (AppSync pulls in
asyncio) and ``utilities.data_classes`` imports ~40 event classes, though a function uses one
resolver and a few classes. Importing ``APIGatewayHttpResolver`` runs both. Rewritten, each
``from .x import A`` becomes an entry of a table that ``__getattr__`` resolves on first access,
so ``from aws_lambda_powertools.event_handler import APIGatewayHttpResolver`` and every other
public name behave as before while unused modules are never loaded.

Usage (a build step; benchmarks/cold_start.py applies it to a copy to measure it):
    python powertools_lazy_init.py <site-packages dir>
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = ("aws_lambda_powertools/event_handler", "aws_lambda_powertools/utilities/data_classes")


def lazy_init(source: str, origin: str) -> str:
    """The lazy equivalent of an ``__init__`` made only of a docstring, imports and ``__all__``."""
    tree = ast.parse(source)
    table: dict[str, tuple[str, str]] = {}
    kept: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                table[alias.asname or alias.name] = (module, alias.name)
        elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) or (
            isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets)
        ):
            kept.append(ast.get_source_segment(source, node) or "")
        else:
            raise ValueError(f"{origin}: unexpected statement at line {node.lineno}; refusing to rewrite")
    return "\n".join(
        [
            *kept,
            "import importlib as _importlib",
            "",
            f"_LAZY = {table!r}",
            "",
            "",
            "def __getattr__(name):",
            "    try:",
            "        module, attribute = _LAZY[name]",
            "    except KeyError:",
            "        raise AttributeError(f'module {__name__!r} has no attribute {name!r}') from None",
            "    value = getattr(_importlib.import_module(module, __name__), attribute)",
            "    globals()[name] = value",
            "    return value",
            "",
            "",
            "def __dir__():",
            "    return sorted(set(globals()) | set(_LAZY))",
            "",
        ]
    )


def apply(site_packages: Path) -> None:
    for package in PACKAGES:
        init = site_packages / package / "__init__.py"
        init.write_text(lazy_init(init.read_text(), str(init)))


if __name__ == "__main__":
    apply(Path(sys.argv[1]))
