"""Helpers for the reliability suite: what the terminal would show, table contents,
hostile values."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from sqlalchemy import select, text
from textual.app import App

from session_tui.data.db import Database
from session_tui.data.tables import contact_t, event_t, membership_t, product_t, segment_t

# Values that must be shown literally and trigger nothing (spec §5).
MARKUP = "[@click=app.quit]"
LINK = "[link=https://x]x[/link]"
BOLD = "[bold red]"
CLEAR = "\x1b[2J"
TITLE = "\x1b]0;title\x07"

# What a terminal must never receive from user data: a screen clear, a window
# title (OSC 0), a hyperlink (OSC 8 -- would mean `[link=…]` was interpreted),
# a bell, or any C0 control but the ones Rich uses for layout.
FORBIDDEN_OUTPUT = ("\x1b[2J", "\x1b]0;", "\x1b]8;", "\x07")


@dataclass
class Screen:
    text: str  # what a user reads (no styles)
    ansi: str  # the bytes a terminal would get for a full repaint


def capture(app: App[Any]) -> Screen:
    """Render the whole current screen (with the screens below a modal) as a
    terminal would receive it, and as plain text."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    ansi = console.file.getvalue()  # type: ignore[attr-defined]
    plain = console.export_text(styles=False)
    return Screen(plain, ansi)


_CSI_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_CURSOR_MOVE = re.compile(r"\x1b\[\d+;\d+H")


def stray_controls(ansi: str) -> list[str]:
    """Control sequences in the output that are not Textual's own styling/moves."""
    rest = _CURSOR_MOVE.sub("", _CSI_SGR.sub("", ansi))
    found = [s for s in FORBIDDEN_OUTPUT if s in ansi]
    found += sorted({repr(ch) for ch in rest if ord(ch) < 32 and ch not in "\n\r"})
    return found


def table_state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered by id: the 'before/after' of a fault test."""
    with db.engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
            for t in (contact_t, product_t, membership_t, event_t, segment_t)
        }


def integrity_ok(db: Database) -> bool:
    """SQLite: PRAGMA integrity_check and the FTS5 index check; PostgreSQL: True."""
    if not db.is_sqlite:
        return True
    with db.engine.connect() as conn:
        if conn.execute(text("PRAGMA integrity_check")).scalar() != "ok":
            return False
        conn.execute(text("INSERT INTO contact_fts(contact_fts) VALUES('integrity-check')"))
    return True
