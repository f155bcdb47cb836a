"""The data layer (and the CLI) never import Textual -- checked on a fresh interpreter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import session_tui.data


def _data_modules() -> list[str]:
    names = ["session_tui.data", "session_tui.cli", "session_tui.locations"]
    for info in pkgutil.walk_packages(session_tui.data.__path__, "session_tui.data."):
        if ".migrations.versions." in info.name or info.name.endswith(".migrations.env"):
            continue
        names.append(info.name)
    return names


def test_data_layer_never_imports_textual() -> None:
    modules = _data_modules()
    assert "session_tui.data.models" in modules and "session_tui.data.tables" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "import session_tui.cli as cli\n"
        "cli.build_parser()\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"the data layer imported Textual: {out.stdout.strip()}"
