"""The export dialog: name a file, export with progress and cancel.

    outcome = await app.push_screen_wait(ExportCsvModal(scope, default_name))
    # ExportOutcome | None; None = cancelled, no file written

`scope` says what is exported: a frozen list of selected ids, or the query of
the Contacts table (its search and filter, a loaded segment included). The
file is written under a temporary name and renamed at the end, so cancelling
leaves nothing behind and never half-overwrites an existing file.

Refused with the reason, before anything is written (`csvio.files`): the open
database and its -wal/-shm/-journal files, the backups folder, a symbolic link,
a socket or disk device, a FIFO that no program reads (the app never waits on
one). A terminal or `/dev/null` is written into directly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, ProgressBar, Static

from session_tui.data.csvio.exporter import (
    EXPORT_COLUMNS,
    ExportCancelled,
    ExportError,
    ExportProgress,
    export_csv,
)
from session_tui.data.db import DatabaseError
from session_tui.data.repositories.contacts import ContactQuery
from session_tui.ui.context import session
from session_tui.ui.modals.base import Dialog, cancel_binding, cancel_button, reason
from session_tui.ui.modals.file_to_write import FileToWrite, display_path, folder_hint
from session_tui.ui.user_text import literal
from session_tui.ui.widgets.path_input import PathInput


@dataclass(frozen=True)
class ExportScope:
    """What to export: exactly `ids` (a selection), else the contacts of `query`."""

    description: str  # "3 selected contacts", "1,204 contacts (current filter)"
    count: int | None
    query: ContactQuery | None = None
    ids: frozenset[int] | None = None


@dataclass(frozen=True)
class ExportOutcome:
    path: str
    exported: int


class ExportCsvModal(Dialog[ExportOutcome]):
    CSS_PATH = "export_csv.tcss"
    HELP_SECTION = "Export"

    BINDINGS: ClassVar[list[BindingType]] = [
        cancel_binding("export.cancel", action="escape"),
    ]

    class Progressed(Message):
        """From the thread: how many contacts are written."""

        def __init__(self, progress: ExportProgress) -> None:
            super().__init__()
            self.progress = progress

    def __init__(self, scope: ExportScope, default_name: str) -> None:
        super().__init__()
        self.scope = scope
        self._default = default_name
        self._cancel = threading.Event()
        self._file = FileToWrite(
            partial(self._message, error=True), empty="Type a file name.", refused="Not exported"
        )

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog"):
            yield Label(literal(f"Export {self.scope.description} to CSV"), id="export-title")
            with Horizontal(id="export-file-row"):
                yield Label("File ", id="export-file-label")
                yield PathInput(self._default, extensions=(".csv",), id="export-path")
            yield Static("", id="export-message", markup=False)
            info = Text()
            info.append("Columns ", style="bold")
            info.append(", ".join(EXPORT_COLUMNS))
            info.append(
                "\nCells that start with = + - @, tab or carriage return get a leading ' "
                "so that spreadsheets do not run them; session-tui reads them back "
                "exactly.",
                style="dim",
            )
            yield Static(info, id="export-info")
            with Vertical(id="export-busy"):
                yield ProgressBar(id="export-progress", show_eta=False)
                yield Static("", id="export-progress-text", markup=False)
            with Horizontal(id="export-buttons"):
                yield Button("Export (enter)", variant="primary", id="export-start")
                yield cancel_button("Cancel (escape)", id="export-cancel", action="escape")

    def on_mount(self) -> None:
        self.query_one("#export-busy").display = False
        box = self.query_one("#export-path", PathInput)
        self.set_focus(box)
        box.cursor_position = len(box.value)
        self._message(folder_hint(self._default))  # where the proposed name goes

    def _message(self, text: str, *, error: bool = False) -> None:
        widget = self.query_one("#export-message", Static)
        widget.set_class(error, "error")
        widget.update(literal(text))

    def action_escape(self) -> None:
        if self._busy:
            if not self._cancel.is_set():
                self._cancel.set()
                self.query_one("#export-progress-text", Static).update(
                    "Cancelling… no file will be written"
                )
            return
        self.close(None)

    @on(Button.Pressed, "#export-start")
    @on(Input.Submitted, "#export-path")
    def _start(self, event: Button.Pressed | Input.Submitted) -> None:
        event.stop()
        if not self._busy:
            box = self.query_one("#export-path", PathInput)
            self._file.submit(box.value, self._export, db_url=session(self).db.url)

    def _export(self, target: Path, _typed: str) -> None:
        self._busy = True
        self._cancel = threading.Event()
        self.query_one("#export-busy").display = True
        self.query_one("#export-start", Button).disabled = True
        self.query_one("#export-progress", ProgressBar).update(
            total=self.scope.count or None, progress=0
        )
        self.query_one("#export-progress-text", Static).update("Exporting…")
        self._message("")
        self.set_focus(self.query_one("#export-cancel", Button))
        self._export_worker(str(target), display_path(target))

    @on(Progressed)
    def _on_progress(self, message: Progressed) -> None:
        if not self._busy:
            return  # a late report: the export is over
        p = message.progress
        self.query_one("#export-progress", ProgressBar).update(
            total=max(p.total, 1), progress=p.done
        )
        if not self._cancel.is_set():
            self.query_one("#export-progress-text", Static).update(
                f"Exporting… {p.done:,} of {p.total:,} contacts"
            )

    @work(exclusive=True, group="csv-export")
    async def _export_worker(self, target: str, shown: str) -> None:
        cancel = self._cancel

        def progress(p: ExportProgress) -> None:
            self.post_message(self.Progressed(p))

        try:
            n = await self.in_thread(
                export_csv,
                session(self).db,
                target,
                query=self.scope.query,
                ids=sorted(self.scope.ids) if self.scope.ids is not None else None,
                progress=progress,
                cancel=cancel.is_set,
                wait_for_reader=False,  # a FIFO nobody reads is refused, never waited on
            )
        except ExportCancelled:
            self._failed("Export cancelled: no file was written.")
        except Exception as exc:  # noqa: BLE001 - the TUI never crashes
            self._failed(f"Nothing was exported: {reason(exc, ExportError, DatabaseError)}")
        else:
            self._busy = False
            self.close(ExportOutcome(shown, n))

    def _failed(self, message: str) -> None:
        if not self.is_open:
            return
        self._busy = False
        self.query_one("#export-busy").display = False
        self.query_one("#export-start", Button).disabled = False
        self._message(message, error=True)
        self.set_focus(self.query_one("#export-path", PathInput))
