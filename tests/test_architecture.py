"""The layers of docs/architecture.md: each imports only from the layers its table lists."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MONITOR = Path(__file__).resolve().parent.parent / "monitor"
ENTRY_POINTS = {"api", "pages", "management"}
EVERYTHING = {
    "engine", "models", "db", "ingest", "selectors", "jobqueue", "services", "metrics",
    "sample_data", "store_paths", "formatting", "scope",
}  # fmt: skip
# The table of docs/architecture.md.
ALLOWED: dict[str, set[str]] = {
    "engine": {"engine"},
    "models": set(),
    "metrics": {"models"},
    "db": {"db", "engine", "models"},
    "ingest": {"ingest", "db", "engine", "models", "metrics"},
    "selectors": {"db", "engine", "ingest", "models"},
    "scope": {"db", "ingest", "models", "selectors"},
    "jobqueue": {"jobqueue", "tasks", "services"},
    "services": {
        "services",
        "scope",
        "jobqueue",
        "selectors",
        "ingest",
        "db",
        "engine",
        "models",
        "metrics",
        "formatting",
    },
    "tasks": {"jobqueue", "services"},
    "sample_data": {"sample_data", "engine", "ingest"},
    "store_paths": set(),
    "formatting": {"engine"},
    **{entry: EVERYTHING | {entry} for entry in ENTRY_POINTS},
}


def layer_of(path: Path) -> str:
    return path.relative_to(MONITOR).parts[0].removesuffix(".py")


def imported_layers(path: Path) -> set[str]:
    """The monitor.* layers a module imports (`from monitor import x` counts as x)."""
    layers = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "monitor":
                continue
            if len(parts) > 1:
                layers.add(parts[1])
            else:
                layers.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "monitor" and len(parts) > 1:
                    layers.add(parts[1])
    return layers


MODULES = sorted(
    path
    for path in MONITOR.rglob("*.py")
    if layer_of(path) in ALLOWED and "migrations" not in path.parts
)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(MONITOR)))
def test_a_module_imports_only_what_its_layer_may(path: Path) -> None:
    layer = layer_of(path)

    forbidden = imported_layers(path) - ALLOWED[layer] - {layer}

    assert not forbidden, f"{layer} may not import {sorted(forbidden)} (docs/architecture.md)"


def test_every_layer_is_listed() -> None:
    layers = {layer_of(path) for path in MONITOR.rglob("*.py") if "migrations" not in path.parts}
    assert layers - set(ALLOWED) <= {"__init__", "apps", "migrations", "static", "templates"}
