"""The filter builder panel of the Contacts screen. See panel.py, rows.py and messages.py.

The names below load their modules at first use (the Contacts screen imports only
`messages` at start; the panel, its widgets and their CSS come with the first `f`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from session_tui.ui.widgets.filter_panel.panel import FilterPanel, panel_of
    from session_tui.ui.widgets.filter_panel.rows import ConditionRow, GroupBox

__all__ = ["ConditionRow", "FilterPanel", "GroupBox", "panel_of"]

_HOMES = {"ConditionRow": "rows", "GroupBox": "rows", "FilterPanel": "panel", "panel_of": "panel"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
