"""What screens and dialogs get from the running app, typed.

`SessionApp` owns the database, the clock and the undo stack; screens reach
them through `session(self)` instead of duck-typing `self.app.db`. A Protocol
keeps this module free of the app module, so no import runs back up.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.message_pump import MessagePump

from session_tui.data.db import Database
from session_tui.ui.moments import Clock
from session_tui.ui.undo import UndoStack


@runtime_checkable
class SessionContext(Protocol):
    """The parts of `SessionApp` that screens and dialogs use."""

    db: Database
    clock: Clock
    undo: UndoStack


def session(node: MessagePump) -> SessionContext:
    """The running app as a `SessionContext` (it is always a `SessionApp`)."""
    app = node.app
    if not isinstance(app, SessionContext):
        raise TypeError(f"{type(app).__name__} is not a session-tui app")
    return app
