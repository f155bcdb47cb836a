"""How the command line shows a stored moment (`contacts show`, `memberships list`)."""

from __future__ import annotations

from datetime import datetime

from session_tui.data.clock import show_moment


def fmt_moment(value: datetime | None) -> str:
    """The date, plus the time when not midnight; "never" for None."""
    if value is None:
        return "never"
    return show_moment(value, minutes=bool(value.hour or value.minute or value.second))
