"""What the filter panel tells its screen. They are `FilterPanel.Applied`,
`FilterPanel.Left`… (handlers: `on_filter_panel_applied`, or `@on(FilterPanel.Applied)`).

The panel never acts outside itself: the screen shows the filter in its table,
moves the focus, and asks for and writes segments (a screen has one panel, so
the messages do not name it).
"""

from __future__ import annotations

from textual.message import Message

from session_tui.data.filters import Group


class Applied(Message, namespace="filter_panel"):
    """A new filter for the table (None = no filter)."""

    def __init__(self, flt: Group | None) -> None:
        super().__init__()
        self.filter = flt


class Left(Message, namespace="filter_panel"):
    """Escape: the user wants the table back (the filter stays applied)."""


class SaveRequested(Message, namespace="filter_panel"):
    """Save the current filter as a segment (the Save button)."""


class RenameRequested(Message, namespace="filter_panel"):
    """Rename the chosen segment (the Rename button)."""


class DeleteRequested(Message, namespace="filter_panel"):
    """Delete the chosen segment (the Delete button)."""
