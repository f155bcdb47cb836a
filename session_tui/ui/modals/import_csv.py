"""The import flow (spec §6): choose a file, preview every row's verdict, confirm,
import with progress and cancel, then the summary with an offer to write the
rejects file.

    app.push_screen(ImportCsvModal(), callback=done)  # done(ImportOutcome | None)

Stages, in one modal:

1. **choose** -- a path box with completion (`tab`); `enter` previews.
2. **preview** -- encoding, delimiter, which header became which field, the
   ignored columns, notes; the four counts and a table of the first rows and
   every later row that is not `new` (line, verdict, email, name, reason). The
   preview is a dry run in a thread worker (progress bar and cancel on big
   files): it writes nothing. `y` (or the Import button) imports, `escape`
   cancels and writes nothing; editing the path and `enter` previews another file.
3. **importing** -- progress bar; `escape` / Cancel rolls the whole import back.
4. **summary** -- added / skipped / duplicates / invalid; when rows were invalid,
   a path box (default `<file>-rejects.csv` beside the input) and a button write
   the rejects file. `escape` / Close dismisses with an `ImportOutcome`.

Guards (issue 13): only regular files are read, opened without blocking (a FIFO
or a device is refused with the reason; the app never waits on one); the
preview pins the file (size, mtime, SHA-256), so `y` imports exactly what the
preview showed or refuses with "the file changed since the preview: preview
again"; the rejects file is never the input, the database, a backup or a link.

Everything from the file is shown through `literal()`: never markup, never escapes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Static
from textual.worker import get_current_worker

from session_tui.data.csvio import (
    VERDICT_LABELS,
    CsvFormatError,
    CsvLayout,
    ImportCancelled,
    ImportReport,
    Progress,
    Verdict,
    import_csv,
    sniff,
    write_rejects,
)
from session_tui.data.csvio.files import TargetError, check_target
from session_tui.data.db import DatabaseError, describe_error
from session_tui.ui.modals.worker_dialog import WorkerDialog
from session_tui.ui.user_text import clean, literal
from session_tui.ui.widgets.path_input import PathInput

CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
TABLE_ROWS = 1_200  # rows in the preview table at most (the report keeps ~1,200)
# Short forms for the preview table (the counts line spells them out).
TABLE_VERDICTS = {
    Verdict.NEW: "new",
    Verdict.EXISTS: "exists: skip",
    Verdict.DUPLICATE: "repeated",
    Verdict.INVALID: "invalid",
}
DIALOG_WIDTH = 112  # #import-dialog's width in import_csv.tcss (it shrinks to the screen)
PREVIEW_COLUMNS = [
    ("Line", "line"), ("Verdict", "verdict"), ("Email", "email"), ("Name", "name"),
    ("Reason", "reason"),
]


def preview_column_widths(inner: int) -> list[int]:
    """Widths of the preview's columns for a dialog `inner` cells wide: Line and Verdict
    as they are, Email / Name / Reason share the rest (28 : 20 : 30 at most), so that
    at 80 columns every column, the reason too, is on screen. Each column also takes
    2 cells of padding; 2 more are kept for the scrollbar."""
    fixed = [6, 12]
    room = inner - 2 - 2 * len(PREVIEW_COLUMNS) - sum(fixed)
    best = [28, 20, 30]
    if room >= sum(best):
        return fixed + best
    room = max(room, 3 * 6)
    email = room * best[0] // sum(best)
    name = room * best[1] // sum(best)
    return fixed + [email, name, room - email - name]


VERDICT_STYLES = {
    Verdict.NEW: "green",
    Verdict.EXISTS: "dim",
    Verdict.DUPLICATE: "yellow",
    Verdict.INVALID: "bold red",
}


@dataclass(frozen=True)
class ImportOutcome:
    """What the import did (the modal's result; None = cancelled, nothing written)."""

    added: int
    skipped: int
    duplicates: int
    invalid: int
    rejects_written: str | None = None


def counts_text(report: ImportReport, *, done: bool) -> Text:
    """ "New 3 · Already exist (skipped) 2 · Repeated in the file 1 · Invalid 3 · 9 data rows"."""
    parts: list[tuple[str, int, str]] = [
        ("Added" if done else "New", report.added, "green"),
        ("Already exist (skipped)", report.skipped, ""),
        ("Repeated in the file", report.duplicates, "yellow"),
        ("Invalid", report.invalid, "red"),
    ]
    text = Text()
    for i, (label, n, style) in enumerate(parts):
        if i:
            text.append("  ·  ", style="dim")
        text.append(f"{label} ")
        text.append(f"{n:,}", style=f"bold {style}".strip())
    text.append(f"   ({report.data_rows:,} data rows)", style="dim")
    return text


def layout_lines(layout: CsvLayout, report: ImportReport | None = None) -> list[Text]:
    """The detected format, the column mapping, ignored columns and notes."""
    lines = []
    head = Text()
    head.append("Format  ", style="bold")
    head.append(
        f"{layout.encoding_name}, {layout.delimiter_name}-separated, header on line "
        f"{layout.header_line}"
    )
    lines.append(head)
    mapping = Text()
    mapping.append("Columns ", style="bold")
    for i, (label, header) in enumerate(layout.mapping()):
        if i:
            mapping.append(" · ", style="dim")
        mapping.append(f"{label} = ")
        mapping.append_text(literal(f'"{header}"', style="cyan"))
    lines.append(mapping)
    ignored = Text()
    ignored.append("Ignored ", style="bold")
    if layout.ignored:
        shown = ", ".join(f'"{clean(h)}"' for h in layout.ignored)
        ignored.append_text(literal(shown, style="dim"))
    else:
        ignored.append("no other columns", style="dim")
    lines.append(ignored)
    notes = report.notes() if report is not None else list(layout.notes)
    for note in notes:
        line = Text()
        line.append("Note    ", style="bold yellow")
        line.append_text(literal(note))
        lines.append(line)
    for line in lines:
        line.no_wrap = False
        line.overflow = "fold"
    return lines


def default_rejects_path(source: str) -> str:
    """`dir/contacts.csv` -> `dir/contacts-rejects.csv` (the text as typed, kept relative)."""
    path = Path(source)
    return str(path.with_name(f"{path.stem}-rejects.csv"))


class ImportCsvModal(WorkerDialog[ImportOutcome | None]):
    CSS_PATH = "import_csv.tcss"
    HELP_SECTION = "Import"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "escape", "Cancel / close", id="import.escape"),
        Binding(
            "y",
            "confirm",
            "Import",
            tooltip="Import the new contacts of the preview",
            id="import.confirm",
        ),
    ]

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self._initial = path
        self.stage = "choose"
        self.report: ImportReport | None = None
        self.csv_layout: CsvLayout | None = None
        self.outcome: ImportOutcome | None = None
        self._cancel = threading.Event()
        self._busy = False
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
            yield Static(
                "tab completes the path · enter previews · y imports · escape cancels "
                "(nothing is written before you confirm)",
                id="import-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self._add_columns(self.app.size.width)
        self._show_stage("choose")
        self._message("")
        self._rejects_message("")
        path_box = self.query_one("#import-path", PathInput)
        self.set_focus(path_box)
        if self._initial:
            self._start_preview(self._initial)

    def _add_columns(self, screen_width: int) -> None:
        """The preview table's columns, as wide as the dialog allows (every one visible)."""
        widths = preview_column_widths(min(DIALOG_WIDTH, screen_width) - 4)
        self._column_widths = widths
        table = self.query_one("#import-rows", DataTable)
        for (label, key), width in zip(PREVIEW_COLUMNS, widths, strict=True):
            table.add_column(label, key=key, width=width)

    def on_resize(self, event: events.Resize) -> None:
        widths = preview_column_widths(min(DIALOG_WIDTH, event.size.width) - 4)
        if widths == self._column_widths:
            return
        self.query_one("#import-rows", DataTable).clear(columns=True)
        self._add_columns(event.size.width)
        if self.report is not None:
            self._fill_table(self.report)

    def _show_stage(self, stage: str) -> None:
        self.stage = stage
        self.query_one("#import-dialog").set_class(stage in ("preview", "importing"), "-preview")
        self.query_one("#import-busy").display = self._busy
        self.query_one("#import-details").display = stage in ("preview", "importing") and (
            self.report is not None
        )
        self.query_one("#import-summary").display = stage == "summary"
        self.query_one("#import-file-row").display = stage in ("choose", "preview")
        confirm = self.query_one("#import-confirm", Button)
        confirm.display = stage == "preview"
        confirm.disabled = self.report is None or self.report.added == 0 or self._busy
        self.query_one("#import-cancel").display = stage in ("choose", "preview", "importing")
        self.query_one("#import-close").display = stage == "summary"
        hint = self.query_one("#import-hint", Static)
        hint.update(
            {
                "choose": "tab completes the path · enter previews · escape cancels "
                "(nothing is written before you confirm)",
                "preview": "y imports the new contacts in one transaction · escape cancels and "
                "writes nothing · edit the path and press enter for another file",
                "importing": "escape cancels: the whole import is rolled back",
                "summary": "enter presses the focused button · escape closes",
            }[stage]
        )
        self.refresh_bindings()

    def _message(self, text: str | Text, *, error: bool = False) -> None:
        widget = self.query_one("#import-message", Static)
        widget.set_class(error, "error")
        widget.display = bool(str(text))
        widget.update(literal(text) if isinstance(text, str) else text)

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        self.query_one("#import-busy").display = busy
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=None if busy else 1, progress=0)
        self.query_one("#import-progress-text", Static).update(text)
        self._show_stage(self.stage)

    def _on_progress(self, p: Progress, verb: str) -> None:
        if not self._busy:
            return
        bar = self.query_one("#import-progress", ProgressBar)
        label = self.query_one("#import-progress-text", Static)
        if p.stage == "indexing":
            bar.update(total=None)
            label.update(f"{p.rows:,} rows read · building the search index…")
        else:
            bar.update(total=max(p.total, 1), progress=p.done)
            label.update(
                f"{verb}… {p.rows:,} rows ({p.fraction:.0%} of the file)"
                + (" · cancelling…" if self._cancel.is_set() else "")
            )

    # -- keys ----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return (
                self.stage == "preview"
                and not self._busy
                and self.report is not None
                and self.report.added > 0
                and not isinstance(self.focused, Input)
            )
        return True

    def action_escape(self) -> None:
        if self.stage == "summary":
            self._close_dialog(self.outcome)
        elif self.stage == "importing":
            self._request_cancel()
        else:
            self._cancel.set()  # a preview still running stops; it wrote nothing
            self._close_dialog(None)

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
        if self.csv_layout is not None and self.stage == "preview" and not self._busy:
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
        self.query_one("#import-rows", DataTable).clear()
        self._message("")
        self.stage = "preview"
        self._set_busy(True, "Reading the file…")
        self._preview_worker(value)

    @work(thread=True, exclusive=True, group="csv-import")
    def _preview_worker(self, value: str) -> None:
        worker = get_current_worker()
        cancel = self._cancel

        def progress(p: Progress) -> None:
            self._to_ui(self._on_progress, p, "Checking every row")

        path = str(Path(value).expanduser())
        try:
            layout = sniff(path)
            report = import_csv(
                self.db,
                layout,
                dry_run=True,
                progress=progress,
                cancel=lambda: cancel.is_set() or worker.is_cancelled,
            )
        except ImportCancelled:
            return
        except (CsvFormatError, DatabaseError) as exc:
            self._to_ui(self._preview_failed, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - the TUI never crashes
            self._to_ui(self._preview_failed, describe_error(exc))
            return
        if not cancel.is_set():
            self._to_ui(self._show_preview, report)

    def _preview_failed(self, message: str) -> None:
        self._set_busy(False)
        self._show_stage("choose")
        self._message(message, error=True)
        self.set_focus(self.query_one("#import-path", PathInput))

    def _fill_table(self, report: ImportReport) -> DataTable[Text]:
        table: DataTable[Text] = self.query_one("#import-rows", DataTable)
        table.clear()
        for row in report.rows[:TABLE_ROWS]:
            name = f"{row.first_name} {row.last_name}".strip()
            table.add_row(
                Text(str(row.line), justify="right"),
                Text(TABLE_VERDICTS[row.verdict], style=VERDICT_STYLES[row.verdict]),
                literal(row.email),
                literal(name),
                literal(row.reason, style="red" if row.reason else ""),
            )
        return table

    def _show_preview(self, report: ImportReport) -> None:
        self.report = report
        self.csv_layout = report.layout
        self._set_busy(False)
        self.query_one("#import-format", Static).update(
            Text("\n").join(layout_lines(report.layout, report))
        )
        self.query_one("#import-counts", Static).update(counts_text(report, done=False))
        table = self._fill_table(report)
        shown = min(len(report.rows), TABLE_ROWS)
        if report.added:
            self._message(
                f"Preview of {report.data_rows:,} rows: nothing has been written yet. "
                f"The table shows {'every row' if shown == report.data_rows else 'the first rows and every later row that will not be added'}."  # noqa: E501
            )
        else:
            self._message("No new contacts in this file: nothing to import.", error=True)
        confirm = self.query_one("#import-confirm", Button)
        confirm.label = f"Import {report.added:,} new contact{'s' if report.added != 1 else ''} (y)"
        self._show_stage("preview")
        # The new label is wider: lay the button row out again once the stage shows
        # (a label set while its row was hidden kept the old width: "Import …").
        self.call_after_refresh(confirm.refresh, layout=True)
        self.set_focus(confirm if report.added else table)

    @on(DataTable.RowHighlighted, "#import-rows")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted row in full (the table cuts long cells)."""
        report = self.report
        detail = self.query_one("#import-row-detail", Static)
        if report is None or not 0 <= event.cursor_row < min(len(report.rows), TABLE_ROWS):
            detail.update("")
            return
        row = report.rows[event.cursor_row]
        text = Text()
        text.append(f"Line {row.line}: ", style="bold")
        text.append(VERDICT_LABELS[row.verdict], style=VERDICT_STYLES[row.verdict])
        if row.reason:
            text.append(" -- ")
            text.append_text(literal(row.reason, style="red"))
        text.no_wrap = False
        text.overflow = "fold"
        detail.update(text)

    # -- import --------------------------------------------------------------------------
    def _start_import(self, layout: CsvLayout) -> None:
        self._cancel = threading.Event()
        self.query_one("#import-cancel", Button).disabled = False
        self.stage = "importing"
        self._set_busy(True, "Importing…")
        self._message("Importing in one transaction: all rows or none.")
        self.set_focus(self.query_one("#import-cancel", Button))
        self._import_worker(layout)

    @work(thread=True, exclusive=True, group="csv-import")
    def _import_worker(self, layout: CsvLayout) -> None:
        cancel = self._cancel

        def progress(p: Progress) -> None:
            self._to_ui(self._on_progress, p, "Importing")

        try:
            report = import_csv(self.db, layout, progress=progress, cancel=cancel.is_set)
        except ImportCancelled:
            self._to_ui(self._import_failed, "Import cancelled: nothing was imported.")
            return
        except (CsvFormatError, DatabaseError) as exc:
            self._to_ui(self._import_failed, f"Nothing was imported: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - the TUI never crashes
            self._to_ui(self._import_failed, f"Nothing was imported: {describe_error(exc)}")
            return
        self._to_ui(self._show_summary, report)

    def _import_failed(self, message: str) -> None:
        self._set_busy(False)
        self._show_stage("preview")
        self._message(message, error=True)
        self.set_focus(self.query_one("#import-confirm", Button))

    def _show_summary(self, report: ImportReport) -> None:
        self.report = report
        self.outcome = ImportOutcome(
            report.added, report.skipped, report.duplicates, report.invalid
        )
        self._set_busy(False)
        summary = Text()
        summary.append("Imported ", style="bold")
        summary.append_text(literal(Path(report.layout.path).name, style="bold cyan"))
        summary.append("\n\n")
        summary.append_text(counts_text(report, done=True))
        for note in report.notes():
            summary.append("\nNote: ", style="bold yellow")
            summary.append_text(literal(note))
        if report.invalid:
            summary.append(
                f"\n\n{report.invalid:,} invalid row{'s were' if report.invalid != 1 else ' was'} "
                "not imported. Write them to a rejects file -- the file's own columns plus "
                "'reason' -- to fix them and import that file again."
            )
        self.query_one("#import-summary-counts", Static).update(summary)
        self.query_one("#import-rejects-row").display = report.invalid > 0
        self.query_one("#import-title", Label).update("Import finished")
        self._message("")
        if report.invalid:
            box = self.query_one("#import-rejects-path", PathInput)
            box.value = default_rejects_path(self.query_one("#import-path", PathInput).value)
        self._show_stage("summary")
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
        try:
            check_target(target, db_url=self.db.url, inputs=[self.csv_layout.path])
        except TargetError as exc:
            self._rejects_message(f"Not written: {exc}.", error=True)
            return
        if target.is_file() and self._replace_rejects != value:
            self._replace_rejects = value
            self._rejects_message(f"{value} exists: press enter again to replace it.", error=True)
            return
        self._set_busy(True, "Writing the rejects file…")
        self._rejects_worker(self.csv_layout, str(target), value)

    @work(thread=True, exclusive=True, group="csv-import")
    def _rejects_worker(self, layout: CsvLayout, target: str, shown: str) -> None:
        try:
            n = write_rejects(layout, target, db_url=self.db.url, wait_for_reader=False)
        except CsvFormatError as exc:
            self._to_ui(self._rejects_done, None, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - the TUI never crashes
            self._to_ui(self._rejects_done, None, describe_error(exc))
            return
        self._to_ui(self._rejects_done, n, shown)

    def _rejects_message(self, text: str, *, error: bool = False) -> None:
        widget = self.query_one("#import-rejects-message", Static)
        widget.set_class(error, "error")
        widget.display = bool(text)
        widget.update(literal(text))

    def _rejects_done(self, count: int | None, text: str) -> None:
        self._set_busy(False)
        if count is None:
            self._rejects_message(f"The rejects file was not written: {text}", error=True)
            return
        if self.outcome is not None:
            self.outcome = ImportOutcome(
                self.outcome.added,
                self.outcome.skipped,
                self.outcome.duplicates,
                self.outcome.invalid,
                rejects_written=text,
            )
        self._rejects_message(f"Wrote {count:,} rejected row{'s' if count != 1 else ''} to {text}.")
        self.query_one("#import-write-rejects", Button).disabled = True
        self.set_focus(self.query_one("#import-close", Button))
