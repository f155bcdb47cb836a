"""A dialog whose thread workers report back to it.

Escape may close the dialog while a worker is still winding down (a dry run, an
export); what such a worker sends afterwards must be dropped, not applied to
widgets that are gone. `_to_ui` is the one way workers talk to the dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.screen import ModalScreen

from session_tui.data.db import Database

ResultT = TypeVar("ResultT")


class WorkerDialog(ModalScreen[ResultT]):
    def __init__(self) -> None:
        super().__init__()
        self._dialog_gone = False

    @property
    def db(self) -> Database:
        return self.app.db  # type: ignore[attr-defined, no-any-return]

    def _to_ui(self, fn: Callable[..., None], *args: Any) -> None:
        """From a worker: run `fn(*args)` on the UI thread while the dialog is open."""
        if self._dialog_gone:
            return
        try:
            self.app.call_from_thread(self._if_open, fn, *args)
        except Exception:  # noqa: BLE001 - the app is closing
            pass

    def _if_open(self, fn: Callable[..., None], *args: Any) -> None:
        if not self._dialog_gone and self.is_attached:
            fn(*args)

    def _close_dialog(self, result: ResultT) -> None:
        self._dialog_gone = True
        self.dismiss(result)
