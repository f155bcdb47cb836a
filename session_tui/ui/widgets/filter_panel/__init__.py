"""The filter builder panel of the Contacts screen. See panel.py, rows.py and messages.py."""

from session_tui.ui.widgets.filter_panel.panel import FilterPanel, panel_of
from session_tui.ui.widgets.filter_panel.rows import ConditionRow, GroupBox

__all__ = ["ConditionRow", "FilterPanel", "GroupBox", "panel_of"]
