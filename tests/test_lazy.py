"""`session_tui.lazy.lazy_module`: a module whose code runs at its first attribute read."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from session_tui.lazy import lazy_module


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package `lazyprobe` whose module `loud` records that it ran."""
    root = tmp_path / "lazyprobe"
    root.mkdir()
    (root / "__init__.py").write_text("RAN = []\n")
    (root / "loud.py").write_text("import lazyprobe\nlazyprobe.RAN.append('loud')\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    for name in [m for m in sys.modules if m.split(".")[0] == "lazyprobe"]:
        del sys.modules[name]


def test_the_code_runs_at_the_first_attribute_read(package: Path) -> None:
    module = lazy_module("lazyprobe.loud")
    ran = sys.modules["lazyprobe"].RAN
    assert ran == []
    assert module.VALUE == 42
    assert ran == ["loud"]
    assert lazy_module("lazyprobe.loud") is module  # once loaded, the module itself
    from lazyprobe import loud  # an ordinary import finds the same module

    assert loud is module and ran == ["loud"]


def test_a_missing_module_fails_at_once(package: Path) -> None:
    with pytest.raises(ModuleNotFoundError, match="lazyprobe.absent"):
        lazy_module("lazyprobe.absent")
