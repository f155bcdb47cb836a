"""What the wheel ships: the packages setuptools finds with pyproject.toml's own
include/exclude (no build needed), without the benchmark and the screenshot tool,
and no shipped module imports them (they drive the UI from a checkout only)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

from tests.test_import_cycles import import_graph

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT_ONLY = ("session_tui.bench", "session_tui.tools")


def _checkout_only(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in CHECKOUT_ONLY)


def shipped_packages() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    find = config["tool"]["setuptools"]["packages"]["find"]
    return find_packages(
        where=str(ROOT), include=find.get("include", ["*"]), exclude=find.get("exclude", [])
    )


def test_the_wheel_ships_the_app_but_not_the_checkout_tools() -> None:
    packages = shipped_packages()
    for needed in ("session_tui", "session_tui.cli", "session_tui.data", "session_tui.ui"):
        assert needed in packages
    assert "session_tui.data.repositories.memberships" in packages
    assert not [p for p in packages if _checkout_only(p)], packages


def test_no_shipped_module_imports_the_checkout_tools() -> None:
    packages = set(shipped_packages())
    shipped = {
        module: imports
        for module, imports in import_graph().items()
        if module.rpartition(".")[0] in packages or module in packages
    }
    assert "session_tui.cli" in shipped and "session_tui.ui.app" in shipped
    bad = sorted(
        f"{module} imports {target}"
        for module, imports in shipped.items()
        if not _checkout_only(module)
        for target in imports
        if _checkout_only(target)
    )
    assert not bad, bad
