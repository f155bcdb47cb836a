"""The filter builder panel of the Contacts screen (issue 4). See panel.py and flows.py."""

from session_tui.ui.widgets.filter_panel.flows import (
    delete_segment,
    panel_of,
    rename_segment,
    save_segment,
    toggle_panel,
)
from session_tui.ui.widgets.filter_panel.panel import ConditionRow, FilterPanel, GroupBox

__all__ = [
    "ConditionRow",
    "FilterPanel",
    "GroupBox",
    "delete_segment",
    "panel_of",
    "rename_segment",
    "save_segment",
    "toggle_panel",
]
