"""The import dialog: choose a file, preview every row's verdict, confirm, import
with progress and cancel, then the summary with an offer to write the rejects file.

    outcome = await app.push_screen_wait(ImportCsvModal())  # ImportOutcome | None

`stage` (a reactive `Stage`) says which one is on screen; `SHOWN_IN` says
which parts each one shows:

1. **choose** -- a path box with completion (`tab`); `enter` previews.
2. **mapping** -- when no column is named as the email (and none is remembered for
   the file's header set), or on `m` in the preview: each column with its header,
   first values and field (mapping_editor.py). `p` previews with it (refused when
   two columns hold one field or none the email) and remembers it for that header
   set ("Using your mapping from last time · m to change" the next time).
3. **preview** -- encoding, delimiter, which header became which field, the
   ignored columns, notes; the four counts and a table of the first rows and
   every later row that is not `new` (line, verdict, email, name, reason); for a
   file with memberships, the importer's headline and the two choices
   (membership_choices.py: changing one previews again). The preview is a dry run
   in a thread: it writes nothing (progress bar and cancel on big files). `y` (or
   the Import button) imports with the choices shown, `escape` cancels and writes
   nothing; editing the path and `enter` previews another file.
4. **importing** -- progress bar; `escape` / Cancel rolls the whole import back.
5. **summary** -- added / skipped / duplicates / invalid; when rows were invalid,
   a path box (default `<file>-rejects.csv` beside the input) and a button write
   the rejects file. `escape` / Close dismisses with an `ImportOutcome`.

Only regular files are read, opened without blocking (a FIFO or a device is
refused with the reason; the app never waits on one); the preview pins the file
(size, mtime, SHA-256), so `y` imports exactly what the preview showed or
refuses with "the file changed since the preview: preview again"; the rejects
file is never the input, the database, a backup or a link.

The preview keeps the rows it parsed in a private temporary file (its stage,
`ImportReport.staged`, csvio/import_stage.py); `y` imports from it without
reading the CSV again. Previewing again (other choices, another mapping or
file) discards the old stage; so does closing the dialog and the import itself.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Static
from textual.worker import get_current_worker

from session_tui.data.csvio import (
    CsvFormatError,
    CsvLayout,
    ImportCancelled,
    ImportReport,
    import_csv,
)
from session_tui.data.csvio.import_stage import StagedRows
from session_tui.data.csvio.mapping import ColumnMapping
from session_tui.data.csvio.reader import NoEmailColumn
from session_tui.data.db import DatabaseError
from session_tui.ui.context import session
from session_tui.ui.modals.base import cancel_binding, cancel_button, reason
from session_tui.ui.modals.file_to_write import FileToWrite
from session_tui.ui.modals.import_csv.dialog_base import ImportDialogBase
from session_tui.ui.modals.import_csv.layouts import (
    Opened,
    Unmapped,
    column_samples,
    mapped_layout,
    open_layout,
)
from session_tui.ui.modals.import_csv.mapping_editor import MappingEditor
from session_tui.ui.modals.import_csv.membership_choices import MembershipChoices
from session_tui.ui.modals.import_csv.membership_report import MembershipOptions, importer
from session_tui.ui.modals.import_csv.preview_table import (
    fill_table,
    shown_rows,
)
from session_tui.ui.modals.import_csv.stages import HINTS, SHOWN_IN, Stage
from session_tui.ui.modals.import_csv.texts import (
    CSV_EXTENSIONS,
    ImportOutcome,
    confirm_label,
    counts_text,
    default_rejects_path,
    has_work,
    layout_lines,
    mapping_message,
    opened_message,
    preview_message,
    row_detail,
    summary_text,
)
from session_tui.ui.widgets.path_input import PathInput


class ImportCsvModal(ImportDialogBase):
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
        Binding(
            "m",
            "map_columns",
            "Map columns",
            tooltip="Say which column of the file holds which field",
            id="import.map_columns",
        ),
        Binding(
            "p",
            "apply_mapping",
            "Preview with this mapping",
            tooltip="Read the file again with the columns as mapped",
            id="import.apply_mapping",
        ),
    ]

    stage: reactive[Stage] = reactive(Stage.CHOOSE, init=False, repaint=False)

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self._initial = path
        self.report: ImportReport | None = None
        self.csv_layout: CsvLayout | None = None
        self.outcome: ImportOutcome | None = None
        self._cancel = threading.Event()
        self._rejects_file = FileToWrite(
            partial(self._rejects_message, error=True),
            empty="Type a file name for the rejects.",
            refused="Not written",
        )
        self._column_widths: list[int] = []
        self._opened: Opened | None = None  # the preview's file, as mapped
        self._unmapped: Unmapped | None = None  # the file the mapping step is about
        self._options = MembershipOptions()  # the choices the preview shown was made with
        self._staged: StagedRows | None = None  # the preview's parsed rows, for `y`

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
            yield MappingEditor(id="import-mapping")
            with Vertical(id="import-busy"):
                yield ProgressBar(id="import-progress", show_eta=False)
                yield Static("", id="import-progress-text", markup=False)
            with Vertical(id="import-details"):
                yield Static("", id="import-format", markup=False)
                yield Static("", id="import-counts", markup=False)
                yield MembershipChoices(id="import-memberships")
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
                yield Button(
                    "Preview with this mapping (p)",
                    variant="primary",
                    id="import-apply-mapping",
                    action="screen.apply_mapping",
                )
                yield Button("Import (y)", variant="primary", id="import-confirm")
                yield cancel_button("Cancel (escape)", id="import-cancel", action="escape")
                yield Button(
                    "Close (escape)", variant="primary", id="import-close", action="screen.escape"
                )
            yield Static(HINTS[Stage.CHOOSE], id="import-hint", markup=False)

    def on_mount(self) -> None:
        self._set_columns(self.app.size.width)
        self._show_stage()
        self._message("")
        self._rejects_message("")
        self.set_focus(self.query_one("#import-path", PathInput))
        if self._initial:
            self._start_preview(self._initial)

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
            self.report is None or not has_work(self.report) or self._busy
        )
        self.query_one("#import-hint", Static).update(HINTS[stage])
        self.refresh_bindings()

    # -- keys ----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return (
                self.stage == Stage.PREVIEW
                and not self._busy
                and self.report is not None
                and has_work(self.report)
                and not isinstance(self.focused, Input)
            )
        if action == "map_columns":
            return (
                self.stage == Stage.PREVIEW
                and not self._busy
                and self.csv_layout is not None
                and not isinstance(self.focused, Input)
            )
        if action == "apply_mapping":
            return self.stage == Stage.MAPPING and not self._busy
        return True

    def close(self, result: ImportOutcome | None) -> None:
        self._drop_stage()
        super().close(result)

    def on_unmount(self) -> None:
        self._drop_stage()

    def _drop_stage(self, keep: StagedRows | None = None) -> None:
        """Delete the shown preview's stage (and keep `keep` as the new one)."""
        if self._staged is not None and self._staged is not keep:
            self._staged.discard()
        self._staged = keep

    def action_escape(self) -> None:
        if self.stage == Stage.SUMMARY:
            self.close(self.outcome)
        elif self.stage == Stage.IMPORTING:
            self._request_cancel()
        elif self.stage == Stage.MAPPING and self.report is not None and not self._busy:
            self.stage = Stage.PREVIEW  # back to the preview, its mapping unchanged
            self._show_preview(self.report)
        else:
            self._cancel.set()  # a preview still running stops; it wrote nothing
            self.close(None)

    def action_confirm(self) -> None:
        if self.check_action("confirm", ()) and self.csv_layout is not None:
            self._start_import(self.csv_layout)

    @on(Button.Pressed, "#import-confirm")
    def _confirm_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.csv_layout is not None and self.stage == Stage.PREVIEW and not self._busy:
            self._start_import(self.csv_layout)

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

    def _start_preview(self, value: str | Opened, mapping: ColumnMapping | None = None) -> None:
        """Preview the file at `value` (as its header says, or as `mapping` maps it), or
        the file already previewed (an `Opened`) again, with the choices now made."""
        self._cancel = threading.Event()
        self._drop_stage()  # made with other choices or another mapping or file
        if not isinstance(value, Opened):
            self.report = None
            self.csv_layout = None
            self._opened = None
            self._table.clear()
            self.query_one(MembershipChoices).reset()
        self._message("")
        self.stage = Stage.PREVIEW
        self._set_busy(True, "Reading the file…")
        self._preview(value, mapping)

    @work(exclusive=True, group="csv-import")
    async def _preview(self, value: str | Opened, mapping: ColumnMapping | None) -> None:
        """The dry run: every row's verdict, nothing written."""
        worker = get_current_worker()
        cancel = self._cancel
        options = self.query_one(MembershipChoices).options

        def dry_run() -> tuple[Opened, ImportReport] | Unmapped:
            if isinstance(value, Opened):
                opened = value
            else:
                path = str(Path(value).expanduser())
                try:
                    opened = open_layout(path) if mapping is None else mapped_layout(path, mapping)
                except NoEmailColumn as exc:
                    samples = column_samples(path, exc.proposal.header)
                    return Unmapped(path, exc.proposal, samples)
            report = importer(partial(import_csv, stage=True))(
                session(self).db,
                opened.layout,
                dry_run=True,
                progress=self._reporter("Checking every row"),
                cancel=lambda: cancel.is_set() or worker.is_cancelled,
                **options.keywords(),
            )
            return opened, report

        try:
            result = await self.in_thread(dry_run)
        except ImportCancelled:
            return
        except Exception as exc:  # noqa: BLE001 - the TUI never crashes
            self._failed(reason(exc, CsvFormatError, DatabaseError), back_to=Stage.CHOOSE)
            return
        if not self.is_open or cancel.is_set():
            if not isinstance(result, Unmapped) and result[1].staged is not None:
                result[1].staged.discard()
            return
        if isinstance(result, Unmapped):
            await self._show_mapping(result, asked=False)
        else:
            self._opened, report = result
            self._options = options
            self._drop_stage(keep=report.staged)
            self._show_preview(report, keep_focus=isinstance(value, Opened))

    def _failed(self, message: str, *, back_to: Stage) -> None:
        """Say why the work stopped, back at the file box (CHOOSE) or the preview."""
        if not self.is_open:
            return
        self.stage = back_to
        self._set_busy(False)
        self._message(message, error=True)
        self.set_focus(
            self.query_one("#import-path" if back_to is Stage.CHOOSE else "#import-confirm")
        )

    def _show_preview(self, report: ImportReport, *, keep_focus: bool = False) -> None:
        self.report = report
        self.csv_layout = report.layout
        self._set_busy(False)
        self.query_one("#import-format", Static).update(
            Text("\n").join(layout_lines(report.layout, report))
        )
        self.query_one("#import-counts", Static).update(counts_text(report, done=False))
        self.query_one(MembershipChoices).show(report)
        fill_table(self._table, report)
        if report.added:
            shown = preview_message(report, shown_rows(report))
            self._message(opened_message(self._opened, shown))
        elif has_work(report):
            self._message(opened_message(self._opened, "No new contacts: y grants memberships."))
        else:
            nothing = "No new contacts in this file: nothing to import."
            self._message(opened_message(self._opened, nothing), error=True)
        confirm = self.query_one("#import-confirm", Button)
        confirm.label = confirm_label(report)
        self.stage = Stage.PREVIEW
        self._show_stage()
        # The new label is wider: lay the button row out again once the stage shows
        # (a label set while its row was hidden kept the old width: "Import …").
        self.call_after_refresh(confirm.refresh, layout=True)
        if not keep_focus:
            self.set_focus(confirm if has_work(report) else self._table)

    @on(MembershipChoices.Changed)
    def _choices_changed(self, event: MembershipChoices.Changed) -> None:
        event.stop()
        # (while a preview runs, this one replaces it: the choices shown are the ones used)
        if self._opened is not None and self.report is not None and self.stage == Stage.PREVIEW:
            self._start_preview(self._opened)

    # -- mapping -------------------------------------------------------------------------
    def action_map_columns(self) -> None:
        layout = self.csv_layout
        if self.check_action("map_columns", ()) and layout is not None:
            self._remap(layout)

    @work(exclusive=True, group="csv-import")
    async def _remap(self, layout: CsvLayout) -> None:
        """The mapping step for the file previewed, its columns as they are mapped now."""
        mapping = layout.column_mapping or ColumnMapping.empty(layout.header)
        self._set_busy(True, "Reading the first rows…")
        try:
            samples = await self.in_thread(column_samples, layout.path, layout.header, layout)
        except Exception as exc:  # noqa: BLE001 - the TUI never crashes
            self._failed(reason(exc, CsvFormatError), back_to=Stage.CHOOSE)
            return
        if self.is_open:
            await self._show_mapping(Unmapped(layout.path, mapping, samples), asked=True)

    async def _show_mapping(self, unmapped: Unmapped, *, asked: bool) -> None:
        self._unmapped = unmapped
        editor = self.query_one(MappingEditor)
        await editor.load(unmapped.proposal, unmapped.samples)
        self._set_busy(False)
        self.stage = Stage.MAPPING
        self._message(mapping_message(Path(unmapped.path).name, unmapped.proposal, asked=asked))
        first = editor.first_field()
        if first is not None:
            self.set_focus(first)

    def action_apply_mapping(self) -> None:
        if not self.check_action("apply_mapping", ()) or self._unmapped is None:
            return
        mapping = self.query_one(MappingEditor).mapping()
        problem = mapping.problem()
        if problem is not None:
            self._message(f"Not used: {problem}.", error=True)
            return
        self._start_preview(self._unmapped.path, mapping)

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
                importer(partial(import_csv, staged=self._staged)),
                session(self).db,
                layout,
                progress=self._reporter("Importing"),
                cancel=cancel.is_set,
                **self._options.keywords(),
            )
        except ImportCancelled:
            self._failed("Import cancelled: nothing was imported.", back_to=Stage.PREVIEW)
        except Exception as exc:  # noqa: BLE001 - the TUI never crashes
            why = reason(exc, CsvFormatError, DatabaseError)
            self._failed(f"Nothing was imported: {why}", back_to=Stage.PREVIEW)
        else:
            self._drop_stage()  # imported (the import deleted it)
            self._show_summary(report)

    def _show_summary(self, report: ImportReport) -> None:
        if not self.is_open:
            return
        self.report = report
        self.outcome = ImportOutcome.of(report)
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
