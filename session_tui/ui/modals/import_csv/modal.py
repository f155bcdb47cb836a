"""The import dialog: choose a file, preview every row's verdict, confirm, import
with progress and cancel, then the summary with an offer to write the rejects file.

    outcome = await app.push_screen_wait(ImportCsvModal())  # ImportOutcome | None

`stage` (a reactive `Stage`) says which of the four is on screen; `SHOWN_IN` says
which parts each one shows:

1. **choose** -- a path box with completion (`tab`); `enter` previews.
2. **preview** -- encoding, delimiter, which header became which field, the
   ignored columns, notes; the four counts and a table of the first rows and
   every later row that is not `new` (line, verdict, email, name, reason). The
   preview is a dry run in a thread: it writes nothing (progress bar and cancel on
   big files). `y` (or the Import button) imports, `escape` cancels and writes
   nothing; editing the path and `enter` previews another file.
3. **importing** -- progress bar; `escape` / Cancel rolls the whole import back.
4. **summary** -- added / skipped / duplicates / invalid; when rows were invalid,
   a path box (default `<file>-rejects.csv` beside the input) and a button write
   the rejects file. `escape` / Close dismisses with an `ImportOutcome`.

Only regular files are read, opened without blocking (a FIFO or a device is
refused with the reason; the app never waits on one); the preview pins the file
(size, mtime, SHA-256), so `y` imports exactly what the preview showed or
refuses with "the file changed since the preview: preview again"; the rejects
file is never the input, the database, a backup or a link.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Static
from textual.worker import get_current_worker

from session_tui.data.csvio import (
    CsvFormatError,
    CsvLayout,
    ImportCancelled,
    ImportReport,
    Progress,
    import_csv,
    sniff,
    write_rejects,
)
from session_tui.data.csvio.files import TargetError, check_target
from session_tui.data.db import DatabaseError, describe_error
from session_tui.ui.context import session
from session_tui.ui.modals.base import Dialog, cancel_binding
from session_tui.ui.modals.import_csv.preview_table import (
    fill_table,
    set_columns,
    shown_rows,
    widths_for,
)
from session_tui.ui.modals.import_csv.stages import HINTS, SHOWN_IN, Stage
from session_tui.ui.modals.import_csv.texts import (
    CSV_EXTENSIONS,
    ImportOutcome,
    counts_text,
    default_rejects_path,
    layout_lines,
    preview_message,
    row_detail,
    summary_text,
)
from session_tui.ui.user_text import literal
from session_tui.ui.widgets.path_input import PathInput
from session_tui.ui.wording import plural


class ImportCsvModal(Dialog[ImportOutcome]):
    CSS_PATH = "import_csv.tcss"
    HELP_SECTION = "Import"

    BINDINGS: ClassVar[list[BindingType]] = [
        cancel_binding("import.escape", "Cancel / close", action="escape"),
        Binding(
            "y",
            "confirm",
            "Import",
            tooltip="Import the new contacts of the preview",
            id="import.confirm",
        ),
    ]

    stage: reactive[Stage] = reactive(Stage.CHOOSE, init=False, repaint=False)

    class Progressed(Message):
        """From the thread: how far the preview or the import got."""

        def __init__(self, progress: Progress, verb: str) -> None:
            super().__init__()
            self.progress = progress
            self.verb = verb

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self._initial = path
        self.report: ImportReport | None = None
        self.csv_layout: CsvLayout | None = None
        self.outcome: ImportOutcome | None = None
        self._cancel = threading.Event()
        self._replace_rejects: str | None = None
        self._column_widths: list[int] = []

    # -- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="import-dialog"):
            yield Label("Import contacts from a CSV file", id="import-title")
            with Horizontal(id="import-file-row"):
                yield Label("File ", id="import-file-label")
                yield PathInput(
                    self._initial,
                    extensions=CSV_EXTENSIONS,
                    placeholder="path/to/contacts.csv   (tab completes, enter previews)",
                    id="import-path",
                )
            yield Static("", id="import-message", markup=False)
            with Vertical(id="import-busy"):
                yield ProgressBar(id="import-progress", show_eta=False)
                yield Static("", id="import-progress-text", markup=False)
            with Vertical(id="import-details"):
                yield Static("", id="import-format", markup=False)
                yield Static("", id="import-counts", markup=False)
                yield DataTable(id="import-rows", cursor_type="row", zebra_stripes=True)
                yield Static("", id="import-row-detail", markup=False)
            with Vertical(id="import-summary"):
                yield Static("", id="import-summary-counts", markup=False)
                with Horizontal(id="import-rejects-row"):
                    yield Label("Rejects ", id="import-rejects-label")
                    yield PathInput(extensions=CSV_EXTENSIONS, id="import-rejects-path")
                    yield Button("Write rejects file", id="import-write-rejects")
                yield Static("", id="import-rejects-message", markup=False)
            with Horizontal(id="import-buttons"):
                yield Button("Import (y)", variant="primary", id="import-confirm")
                yield Button("Cancel (escape)", id="import-cancel")
                yield Button("Close (escape)", variant="primary", id="import-close")
            yield Static(HINTS[Stage.CHOOSE], id="import-hint", markup=False)

    def on_mount(self) -> None:
        self._set_columns(self.app.size.width)
        self._show_stage()
        self._message("")
        self._rejects_message("")
        self.set_focus(self.query_one("#import-path", PathInput))
        if self._initial:
            self._start_preview(self._initial)

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

    def watch_stage(self) -> None:
        self._show_stage()

    def _show_stage(self) -> None:
        """Show the parts of the current stage (and the busy line while busy)."""
        stage = self.stage
        self.query_one("#import-dialog").set_class(
            stage in (Stage.PREVIEW, Stage.IMPORTING), "-preview"
        )
        self.query_one("#import-busy").display = self._busy
        self.query_one("#import-details").display = (
            stage in (Stage.PREVIEW, Stage.IMPORTING) and self.report is not None
        )
        for selector, stages in SHOWN_IN.items():
            self.query_one(selector).display = stage in stages
        self.query_one("#import-confirm", Button).disabled = (
            self.report is None or self.report.added == 0 or self._busy
        )
        self.query_one("#import-hint", Static).update(HINTS[stage])
        self.refresh_bindings()

    def _message(self, text: str | Text, *, error: bool = False) -> None:
        widget = self.query_one("#import-message", Static)
        widget.set_class(error, "error")
        widget.display = bool(str(text))
        widget.update(literal(text) if isinstance(text, str) else text)

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

    # -- keys ----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return (
                self.stage == Stage.PREVIEW
                and not self._busy
                and self.report is not None
                and self.report.added > 0
                and not isinstance(self.focused, Input)
            )
        return True

    def action_escape(self) -> None:
        if self.stage == Stage.SUMMARY:
            self.close(self.outcome)
        elif self.stage == Stage.IMPORTING:
            self._request_cancel()
        else:
            self._cancel.set()  # a preview still running stops; it wrote nothing
            self.close(None)

    def action_confirm(self) -> None:
        if self.check_action("confirm", ()) and self.csv_layout is not None:
            self._start_import(self.csv_layout)

    def _request_cancel(self) -> None:
        if not self._cancel.is_set():
            self._cancel.set()
            self.query_one("#import-progress-text", Static).update(
                "Cancelling… nothing will be imported"
            )
            self.query_one("#import-cancel", Button).disabled = True

    @on(Button.Pressed, "#import-confirm")
    def _confirm_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.csv_layout is not None and self.stage == Stage.PREVIEW and not self._busy:
            self._start_import(self.csv_layout)

    @on(Button.Pressed, "#import-cancel")
    @on(Button.Pressed, "#import-close")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_escape()

    # -- preview -------------------------------------------------------------------------
    @on(Input.Submitted, "#import-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._busy:
            return
        value = event.value.strip()
        if not value:
            self._message("Type the path of a CSV file (tab completes).", error=True)
            return
        self._start_preview(value)

    def _start_preview(self, value: str) -> None:
        self._cancel = threading.Event()
        self.report = None
        self.csv_layout = None
        self._table.clear()
        self._message("")
        self.stage = Stage.PREVIEW
        self._set_busy(True, "Reading the file…")
        self._preview(value)

    @work(exclusive=True, group="csv-import")
    async def _preview(self, value: str) -> None:
        """The dry run: every row's verdict, nothing written."""
        worker = get_current_worker()
        cancel = self._cancel

        def dry_run(path: str) -> ImportReport:
            return import_csv(
                session(self).db,
                sniff(path),
                dry_run=True,
                progress=self._reporter("Checking every row"),
                cancel=lambda: cancel.is_set() or worker.is_cancelled,
            )

        try:
            report = await self.in_thread(dry_run, str(Path(value).expanduser()))
        except ImportCancelled:
            return
        except (CsvFormatError, DatabaseError) as exc:
            self._preview_failed(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - the TUI never crashes
            self._preview_failed(describe_error(exc))
            return
        if self.is_open and not cancel.is_set():
            self._show_preview(report)

    def _preview_failed(self, message: str) -> None:
        if not self.is_open:
            return
        self.stage = Stage.CHOOSE
        self._set_busy(False)
        self._message(message, error=True)
        self.set_focus(self.query_one("#import-path", PathInput))

    def _show_preview(self, report: ImportReport) -> None:
        self.report = report
        self.csv_layout = report.layout
        self._set_busy(False)
        self.query_one("#import-format", Static).update(
            Text("\n").join(layout_lines(report.layout, report))
        )
        self.query_one("#import-counts", Static).update(counts_text(report, done=False))
        fill_table(self._table, report)
        if report.added:
            self._message(preview_message(report, shown_rows(report)))
        else:
            self._message("No new contacts in this file: nothing to import.", error=True)
        confirm = self.query_one("#import-confirm", Button)
        confirm.label = f"Import {plural(report.added, 'new contact')} (y)"
        self.stage = Stage.PREVIEW
        self._show_stage()
        # The new label is wider: lay the button row out again once the stage shows
        # (a label set while its row was hidden kept the old width: "Import …").
        self.call_after_refresh(confirm.refresh, layout=True)
        self.set_focus(confirm if report.added else self._table)

    @on(DataTable.RowHighlighted, "#import-rows")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted row in full (the table cuts long cells)."""
        report = self.report
        detail = self.query_one("#import-row-detail", Static)
        if report is None or not 0 <= event.cursor_row < shown_rows(report):
            detail.update("")
            return
        detail.update(row_detail(report.rows[event.cursor_row]))

    # -- import --------------------------------------------------------------------------
    def _start_import(self, layout: CsvLayout) -> None:
        self._cancel = threading.Event()
        self.query_one("#import-cancel", Button).disabled = False
        self.stage = Stage.IMPORTING
        self._set_busy(True, "Importing…")
        self._message("Importing in one transaction: all rows or none.")
        self.set_focus(self.query_one("#import-cancel", Button))
        self._import(layout)

    @work(exclusive=True, group="csv-import")
    async def _import(self, layout: CsvLayout) -> None:
        """The import itself, in one transaction: every new row or none."""
        cancel = self._cancel
        try:
            report = await self.in_thread(
                import_csv,
                session(self).db,
                layout,
                progress=self._reporter("Importing"),
                cancel=cancel.is_set,
            )
        except ImportCancelled:
            self._import_failed("Import cancelled: nothing was imported.")
            return
        except (CsvFormatError, DatabaseError) as exc:
            self._import_failed(f"Nothing was imported: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - the TUI never crashes
            self._import_failed(f"Nothing was imported: {describe_error(exc)}")
            return
        self._show_summary(report)

    def _import_failed(self, message: str) -> None:
        if not self.is_open:
            return
        self.stage = Stage.PREVIEW
        self._set_busy(False)
        self._message(message, error=True)
        self.set_focus(self.query_one("#import-confirm", Button))

    def _show_summary(self, report: ImportReport) -> None:
        if not self.is_open:
            return
        self.report = report
        self.outcome = ImportOutcome(
            report.added, report.skipped, report.duplicates, report.invalid
        )
        self._set_busy(False)
        self.query_one("#import-summary-counts", Static).update(summary_text(report))
        self.query_one("#import-rejects-row").display = report.invalid > 0
        self.query_one("#import-title", Label).update("Import finished")
        self._message("")
        if report.invalid:
            box = self.query_one("#import-rejects-path", PathInput)
            box.value = default_rejects_path(self.query_one("#import-path", PathInput).value)
        self.stage = Stage.SUMMARY
        self.set_focus(
            self.query_one("#import-write-rejects" if report.invalid else "#import-close", Button)
        )

    # -- rejects -------------------------------------------------------------------------
    @on(Button.Pressed, "#import-write-rejects")
    @on(Input.Submitted, "#import-rejects-path")
    def _write_rejects(self, event: Button.Pressed | Input.Submitted) -> None:
        event.stop()
        if self._busy or self.csv_layout is None:
            return
        value = self.query_one("#import-rejects-path", PathInput).value.strip()
        if not value:
            self._rejects_message("Type a file name for the rejects.", error=True)
            return
        target = Path(value).expanduser()
        if target.is_dir():
            self._rejects_message(f"{value} is a directory: type a file name.", error=True)
            return
        db_url = session(self).db.url
        try:
            check_target(target, db_url=db_url, inputs=[self.csv_layout.path])
        except TargetError as exc:
            self._rejects_message(f"Not written: {exc}.", error=True)
            return
        if target.is_file() and self._replace_rejects != value:
            self._replace_rejects = value
            self._rejects_message(f"{value} exists: press enter again to replace it.", error=True)
            return
        self._set_busy(True, "Writing the rejects file…")
        self._rejects(self.csv_layout, str(target), value)

    @work(exclusive=True, group="csv-import")
    async def _rejects(self, layout: CsvLayout, target: str, shown: str) -> None:
        """The invalid rows to `target`: the file's own columns plus 'reason'."""
        db_url = session(self).db.url
        try:
            count = await self.in_thread(
                write_rejects, layout, target, db_url=db_url, wait_for_reader=False
            )
        except CsvFormatError as exc:
            self._rejects_failed(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - the TUI never crashes
            self._rejects_failed(describe_error(exc))
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

    def _rejects_message(self, text: str, *, error: bool = False) -> None:
        widget = self.query_one("#import-rejects-message", Static)
        widget.set_class(error, "error")
        widget.display = bool(text)
        widget.update(literal(text))
