"""The parts of the import dialog around its stages (modal.py builds on this class):
the message lines, the busy line with its progress bar and the progress reports
its threads send, the preview table's columns, and writing the rejects file."""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.message import Message
from textual.widgets import Button, DataTable, Input, ProgressBar, Static

from session_tui.data.csvio import (
    CsvFormatError,
    CsvLayout,
    ImportReport,
    Progress,
    write_rejects,
)
from session_tui.ui.context import session
from session_tui.ui.modals.base import Dialog, reason
from session_tui.ui.modals.file_to_write import FileToWrite
from session_tui.ui.modals.import_csv.preview_table import fill_table, set_columns, widths_for
from session_tui.ui.modals.import_csv.texts import ImportOutcome
from session_tui.ui.user_text import literal
from session_tui.ui.widgets.path_input import PathInput
from session_tui.ui.wording import plural


class ImportDialogBase(Dialog[ImportOutcome]):
    """Message lines, busy state and progress of the import dialog."""

    _cancel: threading.Event  # set: the running preview or import stops
    _column_widths: list[int]
    report: ImportReport | None
    csv_layout: CsvLayout | None
    outcome: ImportOutcome | None
    _rejects_file: FileToWrite  # the checks of the rejects path box

    class Progressed(Message):
        """From the thread: how far the preview or the import got."""

        def __init__(self, progress: Progress, verb: str) -> None:
            super().__init__()
            self.progress = progress
            self.verb = verb

    @abstractmethod
    def _show_stage(self) -> None:
        """Show the parts of the current stage (the dialog defines them)."""

    # -- the preview table -------------------------------------------------------------
    @property
    def _table(self) -> DataTable[Text]:
        return self.query_one("#import-rows", DataTable)

    def _set_columns(self, screen_width: int) -> None:
        self._column_widths = widths_for(screen_width)
        set_columns(self._table, self._column_widths)

    def on_resize(self, event: events.Resize) -> None:
        if widths_for(event.size.width) == self._column_widths:
            return
        self._set_columns(event.size.width)
        if self.report is not None:
            fill_table(self._table, self.report)

    # -- message lines and progress ------------------------------------------------------
    def _message(self, text: str | Text, *, error: bool = False) -> None:
        widget = self.query_one("#import-message", Static)
        widget.set_class(error, "error")
        widget.display = bool(str(text))
        widget.update(literal(text) if isinstance(text, str) else text)

    def _rejects_message(self, text: str, *, error: bool = False) -> None:
        widget = self.query_one("#import-rejects-message", Static)
        widget.set_class(error, "error")
        widget.display = bool(text)
        widget.update(literal(text))

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=None if busy else 1, progress=0)
        self.query_one("#import-progress-text", Static).update(text)
        self._show_stage()

    @on(Progressed)
    def _on_progress(self, message: Progressed) -> None:
        if not self._busy:
            return  # a late report: the work is over
        p = message.progress
        bar = self.query_one("#import-progress", ProgressBar)
        label = self.query_one("#import-progress-text", Static)
        if p.stage == "indexing":
            bar.update(total=None)
            label.update(f"{p.rows:,} rows read · building the search index…")
        else:
            bar.update(total=max(p.total, 1), progress=p.done)
            label.update(
                f"{message.verb}… {p.rows:,} rows ({p.fraction:.0%} of the file)"
                + (" · cancelling…" if self._cancel.is_set() else "")
            )

    def _reporter(self, verb: str) -> Callable[[Progress], None]:
        """A progress callback for the thread: posts `Progressed` (never blocks it)."""

        def progress(p: Progress) -> None:
            self.post_message(self.Progressed(p, verb))

        return progress

    def _request_cancel(self) -> None:
        if not self._cancel.is_set():
            self._cancel.set()
            self.query_one("#import-progress-text", Static).update(
                "Cancelling… nothing will be imported"
            )
            self.query_one("#import-cancel", Button).disabled = True

    # -- rejects -------------------------------------------------------------------------
    @on(Button.Pressed, "#import-write-rejects")
    @on(Input.Submitted, "#import-rejects-path")
    def _write_rejects(self, event: Button.Pressed | Input.Submitted) -> None:
        event.stop()
        layout = self.csv_layout
        if layout is None or self._busy:
            return
        self._rejects_file.submit(
            self.query_one("#import-rejects-path", PathInput).value,
            partial(self._start_rejects, layout),
            db_url=session(self).db.url,
            inputs=[layout.path],
        )

    def _start_rejects(self, layout: CsvLayout, target: Path, shown: str) -> None:
        self._set_busy(True, "Writing the rejects file…")
        self._rejects(layout, str(target), shown)

    @work(exclusive=True, group="csv-import")
    async def _rejects(self, layout: CsvLayout, target: str, shown: str) -> None:
        """The invalid rows to `target`: the file's own columns plus 'reason'."""
        db_url = session(self).db.url
        try:
            count = await self.in_thread(
                write_rejects, layout, target, db_url=db_url, wait_for_reader=False
            )
        except Exception as exc:  # noqa: BLE001 - the TUI never crashes
            self._rejects_failed(reason(exc, CsvFormatError))
            return
        if not self.is_open:
            return
        self._set_busy(False)
        if self.outcome is not None:
            self.outcome = replace(self.outcome, rejects_written=shown)
        self._rejects_message(f"Wrote {plural(count, 'rejected row')} to {shown}.")
        self.query_one("#import-write-rejects", Button).disabled = True
        self.set_focus(self.query_one("#import-close", Button))

    def _rejects_failed(self, reason: str) -> None:
        if not self.is_open:
            return
        self._set_busy(False)
        self._rejects_message(f"The rejects file was not written: {reason}", error=True)
